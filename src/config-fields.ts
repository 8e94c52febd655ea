import { z } from 'zod';

/**
 * The zod field types settings are made of, shared by src/config.ts and the
 * toolset modules' own settings (src/toolsets/<name>/settings.ts), so every
 * setting says "must be a whole number from 1 to N" the same way.
 */

export const csv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export const booleanSetting = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], {
      error: 'must be true or false',
    })
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)));

export const positiveInt = (fallback: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

export const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL' })
  .transform((value) => value.replace(/\/+$/, ''));

/** A whole number from 0 to `max`, or undefined when unset (the caller picks the default). */
export const wholeNumber = (max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from 0 to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

/** A Key Vault secret's *name* (never its value), trimmed; undefined when unset or blank. */
export const secretName = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined))
  .refine((value) => value === undefined || /^[0-9A-Za-z-]{1,127}$/.test(value), { error: 'must be a Key Vault secret name (letters, digits, dashes), not a secret value' });

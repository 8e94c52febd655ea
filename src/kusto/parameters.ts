import { z } from 'zod';

/**
 * Query parameters become `declare query_parameters(...)` plus the request's
 * `Parameters` property: values never enter the query text, so they cannot
 * change its meaning (injection-proof), and they stay out of the audit log.
 */

export const PARAMETER_TYPES = ['string', 'long', 'real', 'bool', 'datetime', 'timespan', 'guid'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export const parameterValueSchema = z.union([
  z.string().max(10_000),
  z.number(),
  z.boolean(),
  z
    .object({ type: z.enum(PARAMETER_TYPES), value: z.union([z.string().max(10_000), z.number(), z.boolean()]) })
    .strict()
    .describe('Explicit type, e.g. {"type":"timespan","value":"1h"}'),
]);

export const parametersSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'parameter names are letters, digits and _'), parameterValueSchema)
  .refine((value) => Object.keys(value).length <= 50, 'at most 50 parameters');

export type ParameterValue = z.infer<typeof parameterValueSchema>;

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?(?:Z|[+-]\d{2}:\d{2})?$/;

export function inferType(value: ParameterValue): ParameterType {
  if (typeof value === 'object') return value.type;
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'long' : 'real';
  return ISO_DATETIME.test(value) ? 'datetime' : 'string';
}

function literal(type: ParameterType, raw: string | number | boolean): string | number {
  const text = String(raw);
  switch (type) {
    case 'string':
      return text;
    case 'long':
      if (!/^-?\d{1,19}$/.test(text)) throw new Error(`"${text.slice(0, 40)}" is not a long`);
      return typeof raw === 'number' ? raw : text;
    case 'real':
      if (!Number.isFinite(Number(text))) throw new Error(`"${text.slice(0, 40)}" is not a real`);
      return `real(${Number(text)})`;
    case 'bool':
      if (!/^(true|false)$/i.test(text)) throw new Error(`"${text.slice(0, 40)}" is not a bool`);
      return `bool(${text.toLowerCase()})`;
    case 'datetime':
      if (!ISO_DATETIME.test(text)) throw new Error(`"${text.slice(0, 40)}" is not an ISO 8601 datetime`);
      return `datetime(${text})`;
    case 'timespan':
      if (!/^(\d+(\.\d+)?(d|h|m|s|ms|microsecond|tick)|\d+\.?\d*:\d{2}(:\d{2}(\.\d+)?)?)$/.test(text)) throw new Error(`"${text.slice(0, 40)}" is not a timespan such as 1h or 00:30:00`);
      return `timespan(${text})`;
    case 'guid':
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) throw new Error(`"${text.slice(0, 40)}" is not a guid`);
      return `guid(${text})`;
  }
}

export interface BoundParameters {
  /** `declare query_parameters(a:string, b:long);` */
  declaration: string;
  /** The request's `Parameters`: strings and longs as-is, other types as KQL literal text. */
  values: Record<string, string | number>;
}

/** Throws an Error naming the bad parameter when a value does not fit its type. */
export function bindParameters(parameters: Record<string, ParameterValue>): BoundParameters | undefined {
  const entries = Object.entries(parameters);
  if (entries.length === 0) return undefined;
  const declared: string[] = [];
  const values: Record<string, string | number> = {};
  for (const [name, value] of entries) {
    const type = inferType(value);
    const raw = typeof value === 'object' ? value.value : value;
    try {
      values[name] = literal(type, raw);
    } catch (error) {
      throw new Error(`Parameter ${name}: ${(error as Error).message}`);
    }
    declared.push(`${name}:${type}`);
  }
  return { declaration: `declare query_parameters(${declared.join(', ')});`, values };
}

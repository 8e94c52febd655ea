import { z } from 'zod';
import { secretName } from '../config-fields.ts';
import { DEFAULT_GRAPH_ENDPOINT, graphEndpoint, type GraphEndpoint } from './endpoint.ts';
import type { GraphRetryPolicy } from './retry-policy.ts';

/**
 * The Graph layer's settings, as a zod fragment for the config to compose
 * (as src/azure/downstream-settings.ts is). This module reads no environment.
 *
 * @example
 * const schema = z.object({ ...other, ...graphSettingsShape }).superRefine((s, ctx) => { checkGraphSettings(s, ctx); });
 * const graph = graphSettingsFrom(parsed.data); // GraphSettings
 */

/** A whole number setting within [min, max], `fallback` when unset or blank. */
const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value.trim());
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const endpoint = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return graphEndpoint(value?.trim() ? value.trim().replace(/\/+$/, '') : DEFAULT_GRAPH_ENDPOINT);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const graphSettingsShape = {
  /** The Graph host: https://graph.microsoft.com (default), a sovereign cloud's (https://graph.microsoft.us, …) or the emulator's. */
  GRAPH_ENDPOINT: endpoint,
  /** How long one Graph request may wait for an answer (each attempt), in seconds. */
  GRAPH_REQUEST_TIMEOUT_SECONDS: integer(30, 1, 120),
  /** Retries of a throttled (429) request, or of a GET answered 503/504. */
  GRAPH_MAX_RETRIES: integer(3, 0, 10),
  /**
   * The most one request waits in total across its retries, in seconds. A Retry-After longer than
   * what is left is not waited for: the call ends with a "throttled, retry after N s" error.
   * At most 180, the Graph client's own cap on one wait.
   */
  GRAPH_MAX_RETRY_WAIT_SECONDS: integer(60, 0, 180),
  /** Consecutive failed Graph requests (5xx, timeouts, unreachable) after which calls fail fast; 0 turns the breaker off. */
  GRAPH_CIRCUIT_FAILURES: integer(5, 0, 1000),
  /** How long calls fail fast once the breaker opened, in seconds; then one request probes. */
  GRAPH_CIRCUIT_COOLDOWN_SECONDS: integer(30, 1, 600),
  /** Key Vault secret holding the HMAC key of continuation cursors (at least 32 characters). Without it: a random key per instance. */
  GRAPH_CURSOR_KEY_SECRET_NAME: secretName,
  /** Key Vault secret holding the previous cursor key, still accepted while cursors signed with it live (key rotation). */
  GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME: secretName,
  /** How long a continuation cursor stays valid, in seconds. */
  GRAPH_CURSOR_TTL_SECONDS: integer(3600, 60, 86_400),
};

const graphSettingsObject = z.object(graphSettingsShape);
export type GraphSettingsInput = z.output<typeof graphSettingsObject>;

/** The checks across these settings and the others they need. Call from the config's `superRefine`. */
export function checkGraphSettings(settings: GraphSettingsInput & { KEY_VAULT_URL?: string | undefined }, ctx: z.RefinementCtx): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  for (const name of ['GRAPH_CURSOR_KEY_SECRET_NAME', 'GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME'] as const) {
    if (settings[name] && !settings.KEY_VAULT_URL) problem('KEY_VAULT_URL', `is required when ${name} is set`);
  }
  if (settings.GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME && !settings.GRAPH_CURSOR_KEY_SECRET_NAME) {
    problem('GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME', 'needs GRAPH_CURSOR_KEY_SECRET_NAME (the current key) as well');
  }
  if (settings.GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME && settings.GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME === settings.GRAPH_CURSOR_KEY_SECRET_NAME) {
    problem('GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME', 'must name another secret than GRAPH_CURSOR_KEY_SECRET_NAME');
  }
}

export interface GraphSettings {
  endpoint: GraphEndpoint;
  requestTimeoutMs: number;
  retry: GraphRetryPolicy;
  /** `failureThreshold` 0: no breaker. */
  circuit: { failureThreshold: number; cooldownMs: number };
  cursor: { keySecretName: string | undefined; previousKeySecretName: string | undefined; ttlMs: number };
}

/** The typed view (after the checks passed). */
export function graphSettingsFrom(settings: GraphSettingsInput): GraphSettings {
  return {
    endpoint: settings.GRAPH_ENDPOINT,
    requestTimeoutMs: settings.GRAPH_REQUEST_TIMEOUT_SECONDS * 1000,
    retry: { maxRetries: settings.GRAPH_MAX_RETRIES, maxTotalWaitSeconds: settings.GRAPH_MAX_RETRY_WAIT_SECONDS, baseDelaySeconds: 1 },
    circuit: { failureThreshold: settings.GRAPH_CIRCUIT_FAILURES, cooldownMs: settings.GRAPH_CIRCUIT_COOLDOWN_SECONDS * 1000 },
    cursor: {
      keySecretName: settings.GRAPH_CURSOR_KEY_SECRET_NAME,
      previousKeySecretName: settings.GRAPH_CURSOR_PREVIOUS_KEY_SECRET_NAME,
      ttlMs: settings.GRAPH_CURSOR_TTL_SECONDS * 1000,
    },
  };
}

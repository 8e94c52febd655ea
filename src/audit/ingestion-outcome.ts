/**
 * What an Application Insights ingestion ("Breeze") answer means for each
 * audit record in the batch, so delivery is confirmed per record rather than
 * per flush. Breeze answers `{itemsReceived, itemsAccepted, errors: [{index,
 * statusCode, message}]}`: 200 when every item is accepted, 206 with per-item
 * errors, 400 when none is; 401/403 (token), 408, 429 and 5xx are transient.
 */

/** The outcome per record id; ids of envelopes that are not audit records are left out. */
export interface IngestionOutcome {
  delivered: string[];
  /** Transient failures: send again later. */
  retry: string[];
  /** Permanent failures: sending again cannot help. */
  rejected: string[];
  /** Why anything failed, for the operator (status and Breeze's message); no telemetry content. */
  reason?: string;
  /** The answer's `Retry-After`, when it had one. */
  retryAfterMs?: number;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const TRANSIENT_STATUS = new Set([401, 403, 408, 429, 439, 500, 502, 503, 504]);
export const isTransientStatus = (status: number) => TRANSIENT_STATUS.has(status);

interface BreezeError {
  index?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** The audit record id of each envelope of a serialized batch, by index (undefined for other telemetry). */
export function recordIdsOf(body: unknown): (string | undefined)[] {
  if (typeof body !== 'string') return [];
  let envelopes: unknown;
  try {
    envelopes = JSON.parse(body);
  } catch {
    return [];
  }
  if (!Array.isArray(envelopes)) return [];
  return envelopes.map((envelope) => {
    const id = (envelope as { data?: { baseData?: { properties?: { recordId?: unknown } } } } | null)?.data?.baseData?.properties?.recordId;
    return typeof id === 'string' ? id : undefined;
  });
}

function breezeErrors(bodyText: string | undefined): BreezeError[] | undefined {
  try {
    const parsed = JSON.parse(bodyText ?? '') as { errors?: unknown };
    return Array.isArray(parsed.errors) ? (parsed.errors as BreezeError[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Sorts a batch's record ids by the answer to the request that carried them. */
export function classifyIngestionResponse(
  ids: readonly (string | undefined)[],
  status: number,
  bodyText: string | undefined,
  retryAfter?: string | null,
): IngestionOutcome {
  const outcome: IngestionOutcome = { delivered: [], retry: [], rejected: [] };
  const wait = retryAfterMs(retryAfter);
  if (wait !== undefined) outcome.retryAfterMs = wait;
  const wholeBatch = status === 200 || status === 206 ? 'delivered' : isTransientStatus(status) ? 'retry' : 'rejected';
  const perItem = new Map<number, number>();
  const messages = new Set<string>();
  for (const error of breezeErrors(bodyText) ?? []) {
    if (typeof error.index !== 'number') continue;
    const itemStatus = typeof error.statusCode === 'number' ? error.statusCode : status;
    perItem.set(error.index, itemStatus);
    if (typeof error.message === 'string') messages.add(`${itemStatus} ${error.message.slice(0, 200)}`);
  }
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const itemStatus = perItem.get(index);
    const verdict = itemStatus === undefined ? wholeBatch : isTransientStatus(itemStatus) ? 'retry' : 'rejected';
    outcome[verdict].push(id);
  });
  if (outcome.retry.length > 0 || outcome.rejected.length > 0) {
    outcome.reason = `HTTP ${status}${messages.size > 0 ? `: ${[...messages].slice(0, 3).join('; ')}` : ''}`;
  }
  return outcome;
}

/** Every record of a batch whose request got no answer (network, token, timeout): all transient. */
export function unansweredOutcome(ids: readonly (string | undefined)[], error: unknown): IngestionOutcome {
  const retry = ids.filter((id): id is string => id !== undefined);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { delivered: [], retry, rejected: [], reason: `no answer from ingestion (${message.slice(0, 300)})` };
}

import type { Client } from '@microsoft/microsoft-graph-client';
import { CallAbortedError, abortKind } from '../core/abort.ts';
import { safeText } from './graph-errors.ts';
import { retryAfterSeconds } from './retry-policy.ts';

/**
 * Fan-out through JSON batching (`POST /$batch`): up to 20 requests per
 * envelope, so k per-team lookups cost ⌈k/20⌉ Graph requests. Graph
 * throttles each item on its own, inside a 200 envelope: items answered 429
 * are sent again (only those, in new envelopes) after the longest
 * Retry-After among them, within a total wait; every other answer is
 * final, 5xx included (an item that may have run is not re-sent). Each
 * request's outcome is reported, for the tool and for the audit log.
 *
 * The envelope is plain JSON: the SDK's BatchRequestContent builds items
 * from fetch `Request` objects (reading bodies back, keeping the `/v1.0`
 * prefix in item URLs) and BatchResponseContent hands back `Response`
 * objects to parse again, while the items here are JSON already. The
 * envelope itself goes through the client's middleware chain: a throttled
 * envelope is retried there; one answered 5xx is not (it is a POST).
 */

export const BATCH_LIMIT = 20;

export interface BatchRequest {
  /** The caller's name for this request (a team id, a user id), unique in the batch; outcomes carry it. */
  key: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Relative to the version root: `/teams/<id>/channels?$select=id`. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchOutcome {
  key: string;
  /** The item's final status; 0 when its envelope failed and Graph never answered for it. */
  status: number;
  /** Envelopes this item was sent in. */
  attempts: number;
  body?: unknown;
  /** Set on a final 429: how long Graph asked to wait. */
  retryAfterSeconds?: number;
  error?: { code?: string; message: string; requestId?: string };
}

export interface BatchOptions {
  client: Pick<Client, 'api'>;
  /** Most time spent waiting for throttled items, in total (default 30 s). */
  maxWaitSeconds?: number;
  /** Most envelopes one item is sent in (default 3). */
  maxAttempts?: number;
  signal?: AbortSignal | undefined;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface BatchResult {
  /** In the order of the requests. */
  outcomes: BatchOutcome[];
  /** `$batch` envelopes sent. */
  envelopes: number;
}

interface ItemAnswer {
  id?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const headerOf = (headers: Record<string, string> | undefined, name: string) =>
  Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new CallAbortedError(abortKind(signal.reason)));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CallAbortedError(abortKind(signal?.reason)));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function checkRequests(requests: readonly BatchRequest[]): void {
  const keys = new Set<string>();
  for (const request of requests) {
    if (keys.has(request.key)) throw new Error(`batch: the key "${request.key}" is used twice`);
    keys.add(request.key);
    // Relative to the version root only: no other host, no other version.
    if (!request.url.startsWith('/') || request.url.startsWith('//') || request.url.includes('://') || /^\/(v1\.0|beta)\//i.test(request.url)) {
      throw new Error(`batch: "${request.url.slice(0, 80)}" is not a path relative to the version root`);
    }
  }
}

function errorOf(body: unknown): BatchOutcome['error'] | undefined {
  const error = (body as { error?: { code?: string; message?: string; innerError?: { 'request-id'?: string } } } | undefined)?.error;
  if (!error) return undefined;
  return { ...(error.code && { code: error.code }), message: safeText(error.message ?? '', 300), ...(error.innerError?.['request-id'] && { requestId: error.innerError['request-id'] }) };
}

export async function runBatch(requests: readonly BatchRequest[], options: BatchOptions): Promise<BatchResult> {
  checkRequests(requests);
  const maxAttempts = options.maxAttempts ?? 3;
  const maxWaitMs = (options.maxWaitSeconds ?? 30) * 1000;
  const sleep = options.sleep ?? defaultSleep;
  const outcomes = new Map<string, BatchOutcome>();
  const attempts = new Map<string, number>();
  let envelopes = 0;
  let waitedMs = 0;
  let pending = [...requests];

  while (pending.length > 0) {
    const throttled: Array<{ request: BatchRequest; outcome: BatchOutcome }> = [];
    for (let start = 0; start < pending.length; start += BATCH_LIMIT) {
      const chunk = pending.slice(start, start + BATCH_LIMIT);
      envelopes += 1;
      for (const request of chunk) attempts.set(request.key, (attempts.get(request.key) ?? 0) + 1);
      for (const [request, outcome] of await sendEnvelope(options, chunk, attempts)) {
        if (outcome.status === 429) throttled.push({ request, outcome });
        else outcomes.set(request.key, outcome);
      }
    }
    if (throttled.length === 0) break;
    const retryable = throttled.filter(({ request }) => (attempts.get(request.key) ?? 0) < maxAttempts);
    const waitMs = Math.max(...throttled.map(({ outcome }) => (outcome.retryAfterSeconds ?? 2) * 1000));
    if (retryable.length === 0 || waitedMs + waitMs > maxWaitMs) {
      for (const { request, outcome } of throttled) outcomes.set(request.key, outcome);
      break;
    }
    for (const { request, outcome } of throttled) if (!retryable.some((item) => item.request === request)) outcomes.set(request.key, outcome);
    await sleep(waitMs, options.signal);
    waitedMs += waitMs;
    pending = retryable.map(({ request }) => request);
  }
  return { outcomes: requests.map((request) => outcomes.get(request.key) as BatchOutcome), envelopes };
}

async function sendEnvelope(options: BatchOptions, chunk: BatchRequest[], attempts: Map<string, number>): Promise<Array<[BatchRequest, BatchOutcome]>> {
  const items = chunk.map((request, index) => ({
    id: String(index + 1),
    method: request.method,
    url: request.url,
    ...(request.body !== undefined && { body: request.body, headers: { 'Content-Type': 'application/json', ...request.headers } }),
    ...(request.body === undefined && request.headers && { headers: request.headers }),
  }));
  let answer: { responses?: ItemAnswer[] };
  try {
    let call = options.client.api('/$batch');
    if (options.signal) call = call.option('signal', options.signal);
    answer = (await call.post({ requests: items })) as { responses?: ItemAnswer[] };
  } catch (error) {
    // The envelope failed: no item was answered. Caller cancels end the whole batch.
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof CallAbortedError) throw error;
    const status = (error as { statusCode?: number }).statusCode;
    const message = safeText((error as Error).message ?? String(error), 300);
    return chunk.map((request) => [request, { key: request.key, status: status && status > 0 ? status : 0, attempts: attempts.get(request.key) ?? 1, error: { message: `The batch request failed: ${message}` } }]);
  }
  // Responses come in any order; match them by id.
  const byId = new Map((answer.responses ?? []).map((response) => [String(response.id), response]));
  return chunk.map((request, index) => {
    const response = byId.get(String(index + 1));
    const base = { key: request.key, attempts: attempts.get(request.key) ?? 1 };
    if (!response || typeof response.status !== 'number') return [request, { ...base, status: 0, error: { message: 'Graph sent no answer for this item of the batch.' } }];
    const error = response.status >= 400 ? errorOf(response.body) : undefined;
    const wait = response.status === 429 ? retryAfterSeconds(headerOf(response.headers, 'retry-after')) : undefined;
    return [request, { ...base, status: response.status, ...(response.body !== undefined && { body: response.body }), ...(wait !== undefined && { retryAfterSeconds: wait }), ...(error && { error }) }];
  });
}

/** Counts for the audit event: how many items ended in which status class, and how many needed more than one envelope. */
export function batchAuditSummary(result: BatchResult): { items: number; succeeded: number; failed: number; throttled: number; retried: number; envelopes: number } {
  const { outcomes } = result;
  return {
    items: outcomes.length,
    succeeded: outcomes.filter((outcome) => outcome.status >= 200 && outcome.status < 300).length,
    failed: outcomes.filter((outcome) => outcome.status === 0 || (outcome.status >= 400 && outcome.status !== 429)).length,
    throttled: outcomes.filter((outcome) => outcome.status === 429).length,
    retried: outcomes.filter((outcome) => outcome.attempts > 1).length,
    envelopes: result.envelopes,
  };
}

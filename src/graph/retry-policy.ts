/**
 * When the Graph client's RetryHandler may send a request again. Its own
 * rule (node_modules/@microsoft/microsoft-graph-client/src/middleware/RetryHandler.ts)
 * retries every 429, 503 and 504 up to `maxRetries`, for any method whose
 * body is buffered, POST and PATCH included, and waits Retry-After capped
 * at 180 s (so a longer Retry-After is retried too early and throttled
 * again). It never retries a request that threw (network error, our
 * timeout). The callback below narrows that:
 *
 * - 429: Graph did not run the request, so any method may be sent again.
 * - 503, 504: the request may have run; only GET and HEAD are sent again.
 *   A POST or PATCH that got a 5xx (or timed out) is never re-sent: a
 *   message could be posted twice.
 * - The waits of one request add up to at most `maxTotalWaitSeconds`: a
 *   Retry-After longer than what is left ends the request with its 429, and
 *   the tool says "throttled, retry after N s" instead of holding the call.
 * - Nothing is retried once the call's signal is aborted.
 */

export interface GraphRetryPolicy {
  /** Retries after the first attempt (the RetryHandler allows at most 10). */
  maxRetries: number;
  /** The most one request waits in total across its retries. */
  maxTotalWaitSeconds: number;
  /** The RetryHandler's base delay when no Retry-After came (it adds exponential backoff from the second retry). */
  baseDelaySeconds: number;
}

export const DEFAULT_RETRY_POLICY: GraphRetryPolicy = Object.freeze({ maxRetries: 3, maxTotalWaitSeconds: 60, baseDelaySeconds: 1 });

/** The RetryHandler's own cap on one wait. */
export const MAX_SINGLE_WAIT_SECONDS = 180;

const RETRIED_WITHOUT_SIDE_EFFECTS = new Set(['GET', 'HEAD']);

interface RequestLike {
  method?: string;
}
interface OptionsLike {
  method?: string;
  signal?: AbortSignal | null;
}
interface ResponseLike {
  status: number;
  headers?: { get(name: string): string | null };
}

/** Seconds a Retry-After header asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The upper bound of the RetryHandler's next wait without Retry-After: `delay` plus backoff from the second retry, plus its jitter (< 1 s). */
function backoffSeconds(nextAttempt: number, delay: number): number {
  const exponential = nextAttempt >= 2 ? Math.round(0.5 * (2 ** nextAttempt - 1)) : 0;
  return Math.min(exponential + delay + 1, MAX_SINGLE_WAIT_SECONDS + 1);
}

export function methodOf(request: unknown, options: OptionsLike | undefined): string {
  const method = typeof request === 'string' ? options?.method : ((request as RequestLike | undefined)?.method ?? options?.method);
  return (method ?? 'GET').toUpperCase();
}

/**
 * The RetryHandler's `shouldRetry` for `policy`. It keeps the wait spent per
 * request (keyed by the request's fetch options object, which the handler
 * passes unchanged to every attempt), in a WeakMap so nothing outlives it.
 */
export function graphShouldRetry(policy: GraphRetryPolicy, now: () => number = Date.now) {
  const waited = new WeakMap<object, number>();
  return (delay: number, attempt: number, request: unknown, options: OptionsLike | undefined, response: ResponseLike): boolean => {
    if (options?.signal?.aborted) return false;
    if (response.status !== 429 && !RETRIED_WITHOUT_SIDE_EFFECTS.has(methodOf(request, options))) return false;
    const asked = retryAfterSeconds(response.headers?.get('retry-after'), now());
    // The handler would wait at most 180 s and be throttled again: give the caller the real wait instead.
    if (asked !== undefined && asked > MAX_SINGLE_WAIT_SECONDS) return false;
    const wait = asked ?? backoffSeconds(attempt + 1, delay);
    const key: unknown = options ?? request;
    const tracked = typeof key === 'object' && key !== null;
    const total = (tracked ? (waited.get(key) ?? 0) : 0) + wait;
    if (total > policy.maxTotalWaitSeconds) return false;
    if (tracked) waited.set(key, total);
    return true;
  };
}

import type { Principal } from '../auth/principal.ts';

/**
 * A per-caller token bucket, in memory, per instance (instances share
 * nothing, so a caller spread over N instances gets up to N times the rate).
 * Each caller's bucket holds up to `burst` tokens and refills at
 * `perMinute / 60` tokens a second; a `tools/call` takes one. Memory is
 * bounded: a bucket that has refilled completely is the same as no bucket
 * and is dropped by a sweep, and past `maxBuckets` the least recently used
 * go first (such a caller starts again with a full bucket). A batch of more
 * calls than `burst` passes only from a full bucket and leaves it in debt.
 */
export interface RateLimitSettings {
  /** Sustained calls a minute per caller; 0 turns the limit off. */
  perMinute: number;
  /** Calls a caller may make at once from a full bucket. */
  burst: number;
}

export interface RateLimiterOptions extends RateLimitSettings {
  /** Most buckets kept at once (default 10,000: about 1 MB). */
  maxBuckets?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes `cost` tokens from `key`'s bucket, or says how many seconds until they are there (all or nothing). */
  take(key: string, cost?: number): RateVerdict;
  /** Buckets held now (tests, diagnostics). */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (epoch ms). */
  at: number;
}

const DEFAULT_MAX_BUCKETS = 10_000;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perMinute, burst } = options;
  const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  const now = options.now ?? Date.now;
  const perMs = perMinute / 60_000;
  // Time for an empty bucket to be full again: after that, a bucket is the same as none.
  const fullAfterMs = Math.ceil(burst / perMs);
  // Map order is recency order: a touched bucket is moved to the end.
  const buckets = new Map<string, Bucket>();
  let nextSweep = now() + fullAfterMs;

  const sweep = (time: number) => {
    for (const [key, bucket] of buckets) if (bucket.tokens + (time - bucket.at) * perMs >= burst) buckets.delete(key);
    nextSweep = time + fullAfterMs;
  };

  return {
    get size() {
      return buckets.size;
    },
    take(key, cost = 1) {
      const time = now();
      if (time >= nextSweep) sweep(time);
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, time - bucket.at) * perMs);
        bucket.at = time;
      } else {
        // The least recently used first: of all buckets, the likeliest to be full again anyway.
        while (buckets.size >= maxBuckets) buckets.delete(buckets.keys().next().value!);
        bucket = { tokens: burst, at: time };
      }
      buckets.set(key, bucket);
      // A batch larger than the burst passes from a full bucket and leaves it in debt: every call is paid for.
      const need = Math.min(cost, burst);
      if (bucket.tokens >= need) {
        bucket.tokens -= cost;
        return { ok: true };
      }
      const missing = need - bucket.tokens;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / perMs / 1000)) };
    },
  };
}

/**
 * Whose bucket a call takes from: the identified principal (tenant and
 * object id; an app without an object id by its client id), or, when the
 * auth mode identifies nobody (`functionKey`, `none`: the client's address
 * is not available either, behind the Functions front end), one bucket
 * shared by every caller of that mode.
 */
export function rateLimitKey(principal: Principal): string {
  if (principal.objectId) return `${principal.authMode}:${principal.tenantId ?? ''}:${principal.objectId}`;
  if (principal.appId) return `${principal.authMode}:app:${principal.appId}`;
  return `${principal.authMode}:anonymous`;
}

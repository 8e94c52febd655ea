/**
 * A small circuit breaker for the Graph host. After `failureThreshold`
 * consecutive failed requests (5xx after retries, timeouts, network errors)
 * it opens: every request fails fast with CircuitOpenError for `cooldownMs`,
 * so a Graph outage costs callers a quick, clear error instead of each call
 * waiting through its own timeouts and retries (and adding load to a service
 * that is struggling). After the cool-down one request is let through as a
 * probe: success closes the breaker, failure opens it for another cool-down.
 *
 * Any answer below 500 is a success: the service is up. Throttling (429)
 * included: it is per app or per user, the RetryHandler honours it, and one
 * throttled user must not cut everyone off. The caller's own cancel says
 * nothing either way.
 *
 * One breaker per Graph endpoint and instance (created with the client
 * factory and shared by every call's client); it keeps no per-user data.
 */

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker; 0 turns it off. */
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /** Before a request: undefined to go ahead, or the milliseconds until the breaker lets a probe through. */
  admit(): { retryAfterMs: number } | undefined;
  success(): void;
  failure(): void;
  /** The request ended without telling anything about Graph's health (the caller cancelled): frees a probe slot. */
  neutral(): void;
  state(): CircuitState;
}

/** Thrown (wrapped by the Graph client, see graph-client.ts) when the breaker is open: nothing was sent. */
export class CircuitOpenError extends Error {
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(`Microsoft Graph failed repeatedly just now, so this request was not sent; the server tries Graph again in ${seconds} s.`);
    this.name = 'CircuitOpenError';
    this.retryAfterSeconds = seconds;
  }
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt: number | undefined;
  let probing = false;

  const state = (): CircuitState => {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= options.cooldownMs ? 'half-open' : 'open';
  };

  return {
    admit() {
      if (options.failureThreshold === 0) return undefined;
      const current = state();
      if (current === 'closed') return undefined;
      if (current === 'half-open' && !probing) {
        probing = true;
        return undefined;
      }
      // Open, or half-open with a probe already out: wait for the probe (at least a second).
      const left = current === 'open' ? options.cooldownMs - (now() - (openedAt ?? now())) : 1000;
      return { retryAfterMs: Math.max(1000, left) };
    },
    success() {
      failures = 0;
      openedAt = undefined;
      probing = false;
    },
    failure() {
      if (options.failureThreshold === 0) return;
      failures += 1;
      if (probing || failures >= options.failureThreshold) openedAt = now();
      probing = false;
    },
    neutral() {
      // A probe that proved nothing: let the next request probe.
      probing = false;
    },
    state,
  };
}

/** Whether a final HTTP status counts against the breaker: the service (or a gateway in front of it) failed. */
export function isServiceFailure(status: number): boolean {
  return status >= 500 && status !== 501;
}

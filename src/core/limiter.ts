/**
 * A per-instance cap on concurrent backend calls (Kusto today, Graph next),
 * with a small bounded queue. Memory per call is bounded by the result
 * budgets, so the cap bounds the instance's memory; beyond the queue a call
 * is refused at once with how long to wait, rather than piling up.
 * It composes with the platform: Functions adds instances when each has
 * `httpPerInstanceConcurrency` requests in flight (infra/), so with that at or
 * below this cap, the queue only absorbs bursts on one instance.
 */
export interface LimiterOptions {
  /** Backend calls running at once on this instance. */
  concurrency: number;
  /** Calls that may wait for a slot; more are refused. */
  queue: number;
  /** How long a call may wait for a slot before it is refused. */
  maxWaitMs: number;
}

export class BackendBusyError extends Error {
  constructor(readonly retryAfterSeconds: number, reason: string) {
    super(`This server instance is at its limit of concurrent backend calls (${reason}).`);
    this.name = 'BackendBusyError';
  }
}

export interface Limiter {
  /** Waits for a slot (or refuses with BackendBusyError, or the signal's reason); call the result to free it. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly active: number;
  readonly waiting: number;
}

interface Waiter {
  grant(): void;
  refuse(error: unknown): void;
}

export function createLimiter(options: LimiterOptions): Limiter {
  let active = 0;
  const waiters: Waiter[] = [];
  const retryAfter = () => Math.max(1, Math.ceil(options.maxWaitMs / 1000));

  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) next.grant();
      else active--;
    };
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < options.concurrency) {
        active++;
        return Promise.resolve(releaser());
      }
      if (waiters.length >= options.queue) {
        return Promise.reject(new BackendBusyError(retryAfter(), `${options.concurrency} running, ${options.queue} waiting`));
      }
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
        };
        // The slot passes from the releasing call to this one: `active` stays as it is.
        const waiter: Waiter = {
          grant: () => {
            done();
            resolve(releaser());
          },
          refuse: (error) => {
            done();
            reject(error);
          },
        };
        const onAbort = () => waiter.refuse(signal?.reason);
        const timer = setTimeout(() => waiter.refuse(new BackendBusyError(retryAfter(), `waited ${options.maxWaitMs} ms for a slot`)), options.maxWaitMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
  };
}

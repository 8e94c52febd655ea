/**
 * Graceful shutdown of one instance (SIGTERM on the Node host, `appTerminate`
 * on Functions). From `settle()` on, the handler refuses new requests (503,
 * `Connection: close`, `Retry-After`) and every answer carries
 * `Connection: close`; tool calls already running have until the grace ends,
 * then their signal is aborted and they end, audited, as `shutdown`. Work a
 * call leaves behind (a Kusto `.cancel query`) is waited for too, briefly.
 *
 * Every wait here is bounded by a time of the plan: nothing in a shutdown
 * waits for a backend, a client or the fingerprint key without a limit.
 */

/** Times of one shutdown, in epoch milliseconds. */
export interface ShutdownPlan {
  /** Running tool calls may finish normally until then; the rest are aborted. */
  graceUntil: number;
  /** Aborted calls answer, cancels reach their backend, connections close by then. */
  settleUntil: number;
  /** Audit delivered (or written to stdout) by then; then the process exits. */
  deadline: number;
}

/**
 * The plan for a shutdown that starts `now` and may take `totalMs` in all:
 * half of it is the grace for running calls, up to a second (an eighth of it
 * when that is less) for aborted calls to answer, and the rest is for the
 * audit flush, whose sink needs it to confirm delivery or fall back to stdout.
 */
export function shutdownPlan(now: number, totalMs: number): ShutdownPlan {
  const graceUntil = now + Math.floor(totalMs / 2);
  return { graceUntil, settleUntil: graceUntil + Math.min(1000, Math.floor(totalMs / 8)), deadline: now + totalMs };
}

/** The abort reason of calls stopped by a shutdown. */
export class ShutdownError extends Error {
  constructor() {
    super('the server instance is shutting down');
    this.name = 'ShutdownError';
  }
}

export interface Drain {
  /** True once shutdown has begun: new requests are refused. */
  readonly draining: boolean;
  /** Aborted with a ShutdownError when the grace for running calls ends. */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` once when the grace ends (at once if it has ended);
   * returns the unsubscribe. A plain set rather than listeners on `signal`:
   * one per running call, removed when it ends, with no listener-count warnings.
   */
  onStop(listener: () => void): () => void;
  /** Tool calls running now. */
  readonly running: number;
  /** Counts one running tool call; call the result when it has been answered and audited. */
  enter(): () => void;
  /** Work a call leaves behind that should finish before the process exits (best effort, bounded by the plan). */
  track(work: Promise<unknown>): void;
  /**
   * Refuses new requests from now on (synchronously, before it returns), waits until no tool call runs or `graceUntil`
   * passes, aborts the calls still running, then waits until they and the
   * work they left have ended or `settleUntil` passes. Resolves with what was
   * still running when the grace ended.
   */
  settle(plan: Pick<ShutdownPlan, 'graceUntil' | 'settleUntil'>): Promise<{ aborted: number; unsettled: number }>;
}

export function createDrain(): Drain {
  let draining = false;
  let running = 0;
  const controller = new AbortController();
  const stopListeners = new Set<() => void>();
  const background = new Set<Promise<unknown>>();
  /** Resolved (and replaced) whenever the running count or the background work shrinks. */
  let changed: { promise: Promise<void>; resolve: () => void } = newSignal();

  function newSignal() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }
  function notify() {
    const current = changed;
    changed = newSignal();
    current.resolve();
  }

  /** Waits until `done()` holds or `until` passes; true when it holds. */
  async function waitUntil(done: () => boolean, until: number): Promise<boolean> {
    while (!done()) {
      const left = until - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  return {
    get draining() {
      return draining;
    },
    signal: controller.signal,
    onStop(listener) {
      if (controller.signal.aborted) {
        listener();
        return () => undefined;
      }
      stopListeners.add(listener);
      return () => stopListeners.delete(listener);
    },
    get running() {
      return running;
    },
    enter() {
      running++;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        running--;
        notify();
      };
    },
    track(work) {
      const settled = work.then(
        () => undefined,
        () => undefined,
      );
      background.add(settled);
      void settled.then(() => {
        background.delete(settled);
        notify();
      });
    },
    async settle(plan) {
      draining = true;
      await waitUntil(() => running === 0, plan.graceUntil);
      const aborted = running;
      if (!controller.signal.aborted) {
        controller.abort(new ShutdownError());
        for (const listener of stopListeners) listener();
        stopListeners.clear();
      }
      await waitUntil(() => running === 0 && background.size === 0, plan.settleUntil);
      return { aborted, unsettled: running + background.size };
    },
  };
}

/** Sends one `notifications/progress` for the current request; `progress` grows with each call. */
export type ProgressSink = (message: string, progress: number) => void;

export interface Heartbeat {
  /** Sends `message` now and uses it for the following heartbeats. */
  report(message: string): void;
  stop(): void;
}

/**
 * Progress for a call whose client asked for it: whatever the tool last
 * reported, repeated every `intervalMs` with the elapsed time, so the
 * client's request timeout (when it resets on progress) and idle proxies
 * never cut a long call while it is still working.
 */
export function startHeartbeat(sink: ProgressSink, tool: string, intervalMs: number): Heartbeat {
  const started = performance.now();
  let status = `${tool} is running`;
  let count = 0;
  const send = () => {
    const seconds = Math.round((performance.now() - started) / 1000);
    sink(`${status} (${seconds} s elapsed)`, ++count);
  };
  const timer = setInterval(send, intervalMs);
  timer.unref();
  return {
    report(message) {
      status = message.slice(0, 500);
      send();
    },
    stop: () => clearInterval(timer),
  };
}

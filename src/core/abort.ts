/**
 * Why a tool call's signal was aborted, carried as its abort reason so that
 * whoever stops work on it (the Kusto gateway, the backend limiter) can tell
 * the model and the audit log the right thing: the client went away
 * (`client_disconnected`: the HTTP request or the SDK exchange ended, e.g. a
 * 2026-07-28 client closing the stream) or asked to stop
 * (`cancelled`: a 2025-era `notifications/cancelled`). Our own deadlines are
 * not aborts of this signal: they are timers of whoever set them (`timeout`).
 */

export type AbortKind = 'client_disconnected' | 'cancelled';

export class CallAbortedError extends Error {
  constructor(readonly kind: AbortKind) {
    super(kind === 'client_disconnected' ? 'the client disconnected before the call ended' : 'the call was cancelled by the client');
    this.name = 'CallAbortedError';
  }
}

/** The kind of an abort reason (by name too: the reason may come from another copy of this module); any other reason is a cancel. */
export function abortKind(reason: unknown): AbortKind {
  const ours = reason instanceof CallAbortedError || (reason as Error | null | undefined)?.name === 'CallAbortedError';
  return ours && (reason as CallAbortedError).kind === 'client_disconnected' ? 'client_disconnected' : 'cancelled';
}

/**
 * A signal aborted, with a `client_disconnected` reason, when any of
 * `sources` aborts (the request's signal, the SDK's: their own reasons say
 * nothing we can rely on). Call `release` when the call ends, so nothing
 * keeps a listener on the request's signal.
 */
export function disconnectSignal(sources: AbortSignal[]): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const any = AbortSignal.any(sources);
  const onAbort = () => controller.abort(new CallAbortedError('client_disconnected'));
  if (any.aborted) onAbort();
  else any.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release: () => any.removeEventListener('abort', onAbort) };
}

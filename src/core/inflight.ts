import { CallAbortedError } from './abort.ts';
import type { CallerIdentity } from './caller.ts';

export type JsonRpcId = string | number;

export interface Cancellation {
  /** Aborted when a `notifications/cancelled` for this call arrives (created on first use). */
  readonly signal: AbortSignal;
  release(): void;
}

export type CancelOutcome = 'cancelled' | 'not_found' | 'ambiguous';

interface Entry {
  controller: AbortController | undefined;
  cancelled: boolean;
}

/** Calls of one caller are told apart only by their JSON-RPC id; anonymous callers all share one key. */
const callerKey = (caller: CallerIdentity) => `${caller.authMode}\u0000${caller.objectId ?? caller.appId ?? ''}`;
const idKey = (id: JsonRpcId) => `${typeof id}\u0000${id}`;

/**
 * The tool calls in flight on this instance, so a 2025-era
 * `notifications/cancelled` (a separate HTTP request, which no per-request
 * SDK server instance can match to anything) reaches the call it names.
 *
 * A cancel only ever reaches calls of the same caller, and only when exactly
 * one call of that caller has that id: stateless clients number their
 * requests independently, so two anonymous clients may both have a call 3 in
 * flight, and guessing would cancel someone else's work. A cancel that
 * lands on another instance finds nothing; the server timeout bounds that call.
 */
export function createInflightRegistry() {
  const calls = new Map<string, Entry[]>();

  function register(caller: CallerIdentity, id: JsonRpcId): Cancellation {
    const key = `${callerKey(caller)}\u0000${idKey(id)}`;
    const entry: Entry = { controller: undefined, cancelled: false };
    const list = calls.get(key);
    if (list) list.push(entry);
    else calls.set(key, [entry]);
    return {
      get signal() {
        entry.controller ??= new AbortController();
        if (entry.cancelled) entry.controller.abort(new CallAbortedError('cancelled'));
        return entry.controller.signal;
      },
      release() {
        const current = calls.get(key);
        if (!current) return;
        const index = current.indexOf(entry);
        if (index >= 0) current.splice(index, 1);
        if (current.length === 0) calls.delete(key);
      },
    };
  }

  function cancel(caller: CallerIdentity, id: JsonRpcId): CancelOutcome {
    const list = calls.get(`${callerKey(caller)}\u0000${idKey(id)}`);
    if (!list || list.length === 0) return 'not_found';
    if (list.length > 1) return 'ambiguous';
    const entry = list[0]!;
    entry.cancelled = true;
    entry.controller?.abort(new CallAbortedError('cancelled'));
    return 'cancelled';
  }

  return { register, cancel };
}

export type InflightRegistry = ReturnType<typeof createInflightRegistry>;

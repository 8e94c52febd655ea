import type { JsonRpcId } from './inflight.ts';

/** What the edge reads from a parsed JSON-RPC body (one message or a batch) before the SDK sees it. */
const messagesIn = (body: unknown): unknown[] => (Array.isArray(body) ? body : [body]);
const methodOf = (message: unknown): unknown => (message as { method?: unknown } | null)?.method;

/** Methods an anonymous caller may use when MCP_ALLOW_ANONYMOUS_TOOLS_LIST is on: the handshake and the listing, nothing that runs a tool. */
const ANONYMOUS_METHODS = new Set(['initialize', 'notifications/initialized', 'ping', 'server/discover', 'tools/list']);

export function isAnonymousListing(body: unknown): boolean {
  const messages = messagesIn(body);
  return messages.length > 0 && messages.every((message) => ANONYMOUS_METHODS.has(String(methodOf(message))));
}

/** How many `tools/call` requests a body carries: what the rate limit counts (everything else is answered from memory). */
export function toolCallCount(body: unknown): number {
  return messagesIn(body).filter((message) => methodOf(message) === 'tools/call').length;
}

/** `notifications/cancelled` messages in a body, as the ids they name. */
export function cancelledIds(body: unknown): JsonRpcId[] {
  const ids: JsonRpcId[] = [];
  for (const message of messagesIn(body)) {
    const m = message as { id?: unknown; params?: { requestId?: unknown } } | null;
    if (methodOf(message) !== 'notifications/cancelled' || m?.id !== undefined) continue;
    const id = m?.params?.requestId;
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) ids.push(id);
  }
  return ids;
}

import { WebStandardStreamableHTTPServerTransport, type Server } from '@modelcontextprotocol/server';

/** True when any request in the body carries `_meta.progressToken`. */
export function asksForProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => {
    const meta = (message as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
    return meta !== undefined && meta !== null && meta.progressToken !== undefined;
  });
}

/**
 * Serves one 2025-era (2025-11-25, 2025-06-18, 2025-03-26) request statelessly
 * with the SDK's streamable HTTP transport: a server and transport for this
 * request only. The answer is plain JSON unless the client asked for progress;
 * then it is an event stream, so progress can flow while the call runs. (The
 * SDK's own `legacyStatelessFallback` always streams.)
 */
export async function serveLegacyRequest(server: Server, request: Request, parsedBody: unknown, keepAliveMs: number): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: !asksForProgress(parsedBody),
    keepAliveMs,
  });
  await server.connect(transport);
  const teardown = () => {
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  };
  const response = await transport.handleRequest(request, { parsedBody });
  // A JSON answer is complete: nothing of this exchange is left running, and closing would only
  // build the SDK's connection-closed error (with its stack) for nobody. The garbage collector
  // takes the server and transport. An event stream is still running: close it when it ends.
  if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  return closeWhenStreamEnds(response, teardown);
}

/** Passes an event stream through and tears the exchange down once it ends or the client stops reading. */
function closeWhenStreamEnds(response: Response, teardown: () => void): Response {
  const reader = response.body!.getReader();
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    teardown();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason).catch(() => undefined);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

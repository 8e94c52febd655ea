import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { FetchHandler } from '../core/handler.ts';

export interface NodeServer {
  url: string;
  /**
   * Shutdown, first step: stops accepting connections and closes the idle
   * keep-alive ones at once. From now on every response not yet started
   * carries `Connection: close`, and a connection is closed as soon as its
   * response ends, so no keep-alive client can keep sending to this process.
   */
  stopAccepting(): void;
  /**
   * Waits until no response is in progress, or until `until` (epoch ms),
   * then closes every connection left (stopping accepting first if needed).
   */
  closeConnections(until: number): Promise<void>;
}

/** Serves the core handler over plain HTTP with @hono/node-server (conversion only). */
export async function startNodeServer(fetch: FetchHandler, options: { port: number; hostname: string }): Promise<NodeServer> {
  const server = createAdaptorServer({ fetch }) as Server;
  const responses = new Set<ServerResponse>();
  let stopping = false;
  let responseEnded: () => void = () => undefined;

  // Ahead of the adapter's own listener, so the header is set before it writes the head.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    responses.add(response);
    if (stopping) response.setHeader('connection', 'close');
    response.once('close', () => {
      responses.delete(response);
      if (stopping) {
        // The socket goes idle once Node has finished with the response; then close it.
        setImmediate(() => server.closeIdleConnections());
        responseEnded();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;

  function stopAccepting() {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    for (const response of responses) if (!response.headersSent) response.setHeader('connection', 'close');
  }

  return {
    url: `http://${host}:${port}`,
    stopAccepting,
    async closeConnections(until) {
      stopAccepting();
      while (responses.size > 0) {
        const left = until - Date.now();
        if (left <= 0) break;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          responseEnded = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      server.closeAllConnections();
    },
  };
}

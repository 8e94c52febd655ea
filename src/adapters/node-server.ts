import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { FetchHandler } from '../core/handler.ts';

export interface NodeServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the core handler over plain HTTP with @hono/node-server (conversion only). */
export async function startNodeServer(fetch: FetchHandler, options: { port: number; hostname: string }): Promise<NodeServer> {
  const server = createAdaptorServer({ fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

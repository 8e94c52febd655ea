import { createApp } from './app.ts';
import { ConfigError, loadConfig, loadLocalHostSettings } from './config.ts';
import { startNodeServer } from './adapters/node-server.ts';

/** Local Node host (`npm start`, end-to-end tests): the same core handler as the Functions entry. */
async function main() {
  const config = loadConfig();
  const host = loadLocalHostSettings();
  const app = createApp(config);
  const server = await startNodeServer(app.fetch, { port: host.port, hostname: host.hostname });
  process.stderr.write(`MCP endpoint: ${server.url}/mcp (health: ${server.url}/health)\n`);
  if (!host.loopback) {
    process.stderr.write('Warning: listening beyond loopback; this host checks no keys. Put authentication in front of it.\n');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: delivering audit events and stopping\n`);
    await server.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

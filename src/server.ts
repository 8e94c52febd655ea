import { createApp } from './app.ts';
import { ConfigError, loadConfig, loadLocalHostSettings, nodeHostAuthProblem } from './config.ts';
import { startNodeServer } from './adapters/node-server.ts';

/** How long past the shutdown deadline the process may take before it exits regardless. */
const FORCED_EXIT_MARGIN_MS = 500;

/**
 * Exits once stdout and stderr have handed their buffered writes to the OS:
 * audit records written to stdout at shutdown (the fallback, or the stdout
 * sink) must not die in a buffer: on Node 22 a burst written just before
 * `process.exit` to a pipe lost hundreds of records in the shutdown test.
 * Bounded, so a reader that stopped reading cannot hold the exit.
 */
function exitAfterOutput(code: number): void {
  const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
  const cap = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
  void Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), cap]).then(() => process.exit(code));
}

/** Local Node host (`npm start`, end-to-end tests): the same core handler as the Functions entry. */
async function main() {
  const config = loadConfig();
  const host = loadLocalHostSettings();
  const problem = nodeHostAuthProblem(config.authMode, host);
  if (problem) throw new ConfigError([problem]);
  const app = createApp(config, { ...(host.functionKey && { functionKey: host.functionKey }) });
  const server = await startNodeServer(app.fetch, { port: host.port, hostname: host.hostname });
  process.stderr.write(`MCP endpoint: ${server.url}/mcp (health: ${server.url}/health)\n`);
  if (!host.loopback) process.stderr.write(`Listening beyond loopback (${host.hostname}); callers are admitted by MCP_AUTH_MODE=${config.authMode}.\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now, without waiting for running calls or audit delivery\n`);
      process.exit(1);
    }
    stopping = true;
    const plan = app.shutdownPlan();
    // Whatever waits below, the process is gone shortly after the deadline.
    setTimeout(() => {
      process.stderr.write('shutdown: the deadline (MCP_SHUTDOWN_SECONDS) passed; exiting\n');
      exitAfterOutput(1);
    }, plan.deadline - Date.now() + FORCED_EXIT_MARGIN_MS);
    process.stderr.write(`${signal}: refusing new requests, finishing running calls, delivering audit events, then stopping\n`);
    const drained = app.drain(plan);
    server.stopAccepting();
    await drained;
    await server.closeConnections(plan.settleUntil);
    await app.close(plan.deadline);
    exitAfterOutput(0);
  };
  const onSignal = (signal: string) =>
    stop(signal).catch((error: unknown) => {
      process.stderr.write(`shutdown failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));
const FUNCTIONS_HOST = fileURLToPath(new URL('./functions-host-main.ts', import.meta.url));
/** The key the stand-in Functions host checks on authLevel "function" routes. */
export const TEST_FUNCTION_KEY = 'test-function-key';

export interface ServerProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  mcpUrl: string;
  stdout(): string;
  stderr(): string;
  /** The audit records written to stdout so far (the stdout sink's JSON lines), parsed. */
  auditLines(): Array<Record<string, string>>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the real server process (dist/server.js, the same entry as
 * `npm start`) on a free port with exactly `env` plus PATH; nothing leaks in
 * from the test process's environment except what is passed.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return startProcess([SERVER_ENTRY], env);
}

/**
 * The built Functions entry (dist/functions.js) behind a stand-in for the
 * Functions host (test/support/functions-host-main.ts); requests to /mcp need
 * `x-functions-key: TEST_FUNCTION_KEY` in functionKey mode, as on Azure.
 */
export async function startFunctionsHostProcess(env: Record<string, string>): Promise<ServerProcess> {
  // functionKey unless told otherwise: the stand-in host checks keys, as Azure's does.
  return startProcess(['--import', 'tsx', FUNCTIONS_HOST], { TEST_FUNCTIONS_HOST_KEY: TEST_FUNCTION_KEY, MCP_AUTH_MODE: 'functionKey', ...env });
}

async function startProcess(args: string[], env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    // Loopback with no authentication unless the test says otherwise (MCP_AUTH_MODE in env).
    env: { PATH: process.env.PATH ?? '', PORT: '0', MCP_AUTH_MODE: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const match = /MCP endpoint: (http:\/\/[^/\s]+)\/mcp/.exec(err);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${err}`)));
  });
  return {
    child,
    baseUrl,
    mcpUrl: `${baseUrl}/mcp`,
    stdout: () => out,
    stderr: () => err,
    auditLines: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, string>),
    stop: () =>
      new Promise((resolve) => {
        // Already gone (exited, or killed by a signal: then exitCode stays null).
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** A port nothing listens on right now, for a process whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * The real server process in `MCP_AUTH_MODE=entra` against the emulated
 * tenant (`emulator.entra`). Its public URL (the metadata's `resource`) is
 * configuration, so the port is chosen before the start. Audit events go to
 * stdout (no Application Insights) unless `env` says otherwise.
 */
export async function startEntraServerProcess(
  emulator: { env(): Record<string, string>; entra: { settingsEnv(publicUrl: string): Record<string, string> } },
  env: Record<string, string> = {},
  /** A port chosen beforehand (to register the facade's callback URL before the server starts). */
  port?: number,
): Promise<ServerProcess & { publicUrl: string }> {
  port ??= await freePort();
  const publicUrl = `http://127.0.0.1:${port}/mcp`;
  const server = await startServerProcess({
    ...emulator.env(),
    ...emulator.entra.settingsEnv(publicUrl),
    PORT: String(port),
    APPLICATIONINSIGHTS_CONNECTION_STRING: '',
    ...env,
  });
  return { ...server, publicUrl };
}

/**
 * The server in entra mode with the authorization-server facade on, set up
 * as infra sets it up: the sealing key in Key Vault, the facade's callback
 * a Web redirect URI of the API app registration.
 */
export async function startFacadeServerProcess(
  emulator: Parameters<typeof startEntraServerProcess>[0] & {
    keyVault: { setSecret(name: string, value: string): unknown };
    entra: { api: { redirectUris: string[] } };
  },
  env: Record<string, string> = {},
): Promise<ServerProcess & { publicUrl: string }> {
  emulator.keyVault.setSecret('oauth-facade-key', randomBytes(32).toString('base64url'));
  const port = await freePort();
  emulator.entra.api.redirectUris.push(`http://127.0.0.1:${port}/oauth/callback`);
  return startEntraServerProcess(emulator, { MCP_OAUTH_FACADE: 'true', ...env }, port);
}

/** An official MCP SDK v1 client (2025 era) connected over streamable HTTP. */
export async function connectClient(mcpUrl: string, name = 'e2e-test', headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } }));
  return client;
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

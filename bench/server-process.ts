import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BASE_HEADERS, toolsList } from './requests.ts';

export const SERVER_ENTRY = fileURLToPath(new URL('../dist/server.js', import.meta.url));

/** The cold-start probe: a 2025-era tools/list, what today's clients send first after connecting. */
const TOOLS_LIST = toolsList('2025-11-25');
export const MCP_HEADERS = BASE_HEADERS;

/**
 * A deployment as it runs in Azure: a Kusto cluster configured, so every tool
 * is listed. Never contacted: cold start, tools/list and server_info_get make
 * no backend call.
 */
export const DEPLOYMENT_ENV: Record<string, string> = { KUSTO_CLUSTERS: 'bench=https://bench.kusto.windows.net/Samples' };

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : NaN;
}

/** Whether something accepts TCP connections on the port yet: far cheaper than a failing fetch, so polling steals little CPU from the starting server. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts dist/server.js and resolves when /mcp has answered tools/list, with
 * the time that took (process start → first tools/list answered) and when the
 * port first accepted a connection (start-up done, before the first request).
 */
export async function startServer(port: number, env: Record<string, string> = DEPLOYMENT_ENV): Promise<{ child: ChildProcess; coldStartMs: number; listeningMs: number; url: string }> {
  const url = `http://127.0.0.1:${port}/mcp`;
  // Something else on the port would answer in the server's place (and the server would fail to listen).
  if (await accepts(port)) throw new Error(`port ${port} is already in use; stop what listens there or pick another port`);
  const started = performance.now();
  // Only PATH and what the caller passes: no Azure settings leak in from the shell.
  const child = spawn(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH ?? '', MCP_AUTH_MODE: 'none', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'] });
  let listeningMs = NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Number.isNaN(listeningMs)) {
      if (!(await accepts(port))) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      listeningMs = performance.now() - started;
    }
    try {
      const response = await fetch(url, { method: 'POST', headers: TOOLS_LIST.headers, body: TOOLS_LIST.body });
      await response.text();
      if (response.ok) return { child, coldStartMs: performance.now() - started, listeningMs, url };
    } catch {
      // listening but not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

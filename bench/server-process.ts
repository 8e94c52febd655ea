import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** Starts dist/server.js and resolves when /mcp has answered tools/list, with the time that took. */
export async function startServer(port: number, env: Record<string, string> = DEPLOYMENT_ENV): Promise<{ child: ChildProcess; coldStartMs: number; url: string }> {
  const url = `http://127.0.0.1:${port}/mcp`;
  const started = performance.now();
  // Only PATH and what the caller passes: no Azure settings leak in from the shell.
  const child = spawn(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, { method: 'POST', headers: TOOLS_LIST.headers, body: TOOLS_LIST.body });
      await response.text();
      if (response.ok) return { child, coldStartMs: performance.now() - started, url };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

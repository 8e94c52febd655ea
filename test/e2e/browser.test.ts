import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { browserAvailable as available, launchChromium, servePage } from '../support/browser.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * A browser MCP client in "direct" mode, like MCP Inspector's: the official
 * SDK v2 client bundled for the browser, on a page of another (loopback)
 * origin, sending custom headers. It proves CORS as a real browser enforces
 * it: preflights, headers on every answer (405s included), and a refused
 * origin that cannot read anything. Chromium comes from Debian (`chromium`);
 * .ci/run installs it and sets MCP_TEST_REQUIRE_BROWSER=1 so CI cannot skip.
 */

const PAGE_SCRIPT = `
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
window.runMcp = async (url, headers, mode) => {
  const options = mode === 'legacy' ? {} : { versionNegotiation: { mode: { pin: '2026-07-28' } } };
  const client = new Client({ name: 'browser', version: '1' }, options);
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: 'server_info_get', arguments: {} });
  await client.close();
  return { tools: tools.length, protocolVersion: result.structuredContent.protocolVersion };
};
// What a page can read of a raw POST: the status, or the browser's error when CORS forbids it.
window.rawPost = async (url, contentType) => {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    return 'status ' + response.status;
  } catch (error) {
    return String(error);
  }
};
`;

let server: ServerProcess;
let pages: Server;
let browser: Browser;
let pagePort: number;
const consoleErrors: string[] = [];

before(async () => {
  if (!available) return;
  server = await startServerProcess({});
  ({ server: pages, port: pagePort } = await servePage(PAGE_SCRIPT));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  pages?.close();
  await server?.stop();
});

type PageApi = { runMcp(...args: unknown[]): Promise<unknown>; rawPost(url: string, contentType: string): Promise<string> };

async function onPage<T>(origin: string, work: (api: PageApi) => Promise<T>): Promise<T> {
  const page = await browser.newPage();
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'runMcp' in window);
  try {
    return await work({
      runMcp: (...args) => page.evaluate(([url, h, m]) => (window as unknown as PageApi).runMcp(url, h, m), args as [string, unknown, unknown]),
      rawPost: (url, contentType) => page.evaluate(([u, c]) => (window as unknown as PageApi).rawPost(u, c), [url, contentType] as const),
    });
  } finally {
    await page.close();
  }
}

const runFrom = (origin: string, headers: Record<string, string>, mode: 'modern' | 'legacy') => onPage(origin, (api) => api.runMcp(server.mcpUrl, headers, mode));

const CUSTOM = { 'x-custom-auth-headers': '["x-my-tenant"]', 'x-my-tenant': 'contoso' };

test('a 2026-07-28 browser client on another loopback origin connects with custom headers', { skip: !available && 'needs Debian chromium' }, async () => {
  const result = await runFrom(`http://localhost:${pagePort}`, CUSTOM, 'modern');
  assert.deepEqual(result, { tools: 1, protocolVersion: '2026-07-28' });
});

test('a 2025-era browser client connects too, its session-stream GET answered 405 with CORS (no "Failed to fetch")', { skip: !available && 'needs Debian chromium' }, async () => {
  consoleErrors.length = 0;
  const result = await runFrom(`http://localhost:${pagePort}`, CUSTOM, 'legacy');
  assert.deepEqual(result, { tools: 1, protocolVersion: '2025-11-25' });
  assert.deepEqual(consoleErrors.filter((text) => /CORS|Failed to fetch/i.test(text)), []);
});

test('a page on a refused origin cannot read any answer: preflighted or simple, the browser blocks it', { skip: !available && 'needs Debian chromium' }, async () => {
  // 127.0.0.2 is loopback to the network but not an allowed origin (only localhost, 127.0.0.1, [::1] and MCP_ALLOWED_ORIGINS).
  const refused = await onPage(`http://127.0.0.2:${pagePort}`, async (api) => [await api.rawPost(server.mcpUrl, 'application/json'), await api.rawPost(server.mcpUrl, 'text/plain')]);
  assert.deepEqual(refused, ['TypeError: Failed to fetch', 'TypeError: Failed to fetch']);
  await assert.rejects(runFrom(`http://127.0.0.2:${pagePort}`, {}, 'modern'), /negotiation failed|Failed to fetch/);
  // The same raw POST from an allowed origin is readable: the refusal above is the origin's, not the request's.
  assert.deepEqual(await onPage(`http://localhost:${pagePort}`, (api) => api.rawPost(server.mcpUrl, 'application/json')), 'status 200');
});

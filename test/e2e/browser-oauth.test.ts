import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { browserAvailable as available, launchChromium, servePage } from '../support/browser.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { startFacadeServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * What MCP Inspector does in a browser, in a real browser: the official SDK
 * v2 client bundled for a page on a loopback origin registers with the
 * facade, sends the page to /authorize, through the emulated Entra and the
 * facade's callback (the browser-binding cookie travels as a browser sends
 * it), back to the page, which redeems the code and calls a tool. Every
 * facade call from the page is cross-origin, so CORS is exercised as the
 * browser enforces it. The browser trusts the emulator's certificate only
 * in this test's browser context.
 */

const PAGE_SCRIPT = `
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
const load = (key) => JSON.parse(sessionStorage.getItem(key) ?? 'null') ?? undefined;
const save = (key, value) => sessionStorage.setItem(key, JSON.stringify(value));
const provider = () => {
  const redirectUrl = location.origin + '/oauth/callback';
  return {
    get redirectUrl() { return redirectUrl; },
    get clientMetadata() {
      return { client_name: 'browser client (Inspector-like)', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    state() { const state = crypto.randomUUID(); save('state', state); return state; },
    clientInformation: () => load('client'),
    saveClientInformation: (info) => save('client', info),
    tokens: () => load('tokens'),
    saveTokens: (tokens) => save('tokens', tokens),
    redirectToAuthorization: (url) => { location.href = url.href; },
    saveCodeVerifier: (verifier) => save('verifier', verifier),
    codeVerifier: () => load('verifier'),
  };
};
window.startSignIn = async (mcpUrl) => {
  save('mcpUrl', mcpUrl);
  try {
    await new Client({ name: 'browser', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider() }));
    return 'connected without signing in';
  } catch (error) {
    return error instanceof UnauthorizedError ? 'redirecting' : String(error);
  }
};
window.finishSignIn = async () => {
  const params = new URLSearchParams(location.search);
  if (params.get('state') !== load('state')) return { problem: 'state mismatch', search: location.search };
  const transport = new StreamableHTTPClientTransport(new URL(load('mcpUrl')), { authProvider: provider() });
  await transport.finishAuth(params);
  const client = new Client({ name: 'browser', version: '1' });
  await client.connect(transport);
  const result = await client.callTool({ name: 'server_info_get', arguments: {} });
  await client.close();
  return result.structuredContent;
};
`;

let emulator: Emulator;
let server: ServerProcess & { publicUrl: string };
let pages: Server;
let browser: Browser;
let pagePort: number;

before(async () => {
  if (!available) return;
  emulator = await startEmulator();
  server = await startFacadeServerProcess(emulator);
  ({ server: pages, port: pagePort } = await servePage(PAGE_SCRIPT, '127.0.0.1'));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  pages?.close();
  await server?.stop();
  await emulator?.close();
});

test('a browser client (as MCP Inspector) registers, signs in through the facade and Entra, and calls a tool', { skip: !available && 'needs Debian chromium', timeout: 60_000 }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const failures: string[] = [];
  page.on('console', (message) => message.type() === 'error' && failures.push(message.text()));
  try {
    await page.goto(`http://localhost:${pagePort}/`);
    await page.waitForFunction(() => 'startSignIn' in window);
    const landed = page.waitForURL(/\/oauth\/callback\?/, { timeout: 30_000 });
    const started = await page.evaluate((url) => (window as unknown as { startSignIn(url: string): Promise<string> }).startSignIn(url), server.mcpUrl).catch(() => 'redirecting');
    assert.equal(started, 'redirecting', failures.join('\n'));
    await landed;
    const callback = new URL(page.url());
    assert.equal(callback.searchParams.get('iss'), server.baseUrl);
    await page.waitForFunction(() => 'finishSignIn' in window);
    const info = (await page.evaluate(() => (window as unknown as { finishSignIn(): Promise<unknown> }).finishSignIn())) as Record<string, unknown>;
    assert.match(JSON.stringify(info), /test\.user@emulator\.localhost/, JSON.stringify(info));
    assert.deepEqual(failures.filter((text) => /CORS|Failed to fetch/i.test(text)), []);
  } finally {
    await context.close();
  }
  const endpoints = server.auditLines().filter((line) => line.event === 'mcp.oauth.request').map((line) => `${line.endpoint}:${line.outcome}`);
  for (const expected of ['register:success', 'authorize:success', 'callback:success', 'token:success']) assert.ok(endpoints.includes(expected), endpoints.join(' '));
});

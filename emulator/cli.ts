/**
 * Runs the emulator on its own:
 *
 *   node --import tsx emulator/cli.ts [--port 8443]
 *
 * Prints `export K='V'` lines for the product's environment on stdout (status
 * goes to stderr) and serves until SIGINT or SIGTERM. The test CA lives in
 * `EMULATOR_CA_DIR` when set, else in a temporary directory removed on exit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from './server.ts';

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
  console.error(`--port must be an integer from 0 to 65535, got '${values.port}'.`);
  process.exit(2);
}

const sharedCaDir = process.env.EMULATOR_CA_DIR;
const caDir = sharedCaDir ?? (await mkdtemp(join(tmpdir(), 'azure-emulator-ca-')));
const emulator = await startEmulator({ port, caDir });
for (const [name, value] of Object.entries(emulator.env())) {
  console.log(`export ${name}=${shellQuote(value)}`);
}
console.error(`Azure emulator listening on 127.0.0.1:${emulator.port}; stop with Ctrl+C.`);

async function stop(): Promise<void> {
  await emulator.close();
  if (!sharedCaDir) await rm(caDir, { recursive: true, force: true });
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

/**
 * Test certificate authority for the emulator's HTTPS server.
 *
 * Key material is generated at run time and never committed. A test runner
 * creates the CA once in a directory, points `NODE_EXTRA_CA_CERTS` at
 * `ca.pem` (Node reads it only at process start), and every emulator started
 * in a child process reuses the same files through `EMULATOR_CA_DIR`.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TestCa {
  /** Directory holding `ca.pem`, `server.pem` and `server-key.pem`. */
  dir: string;
  /** Absolute path of `ca.pem`, the value for `NODE_EXTRA_CA_CERTS`. */
  caPath: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
}

const CA_FILE = 'ca.pem';
const SERVER_CERT_FILE = 'server.pem';
const SERVER_KEY_FILE = 'server-key.pem';

/**
 * Every host name the emulator answers for. Node refuses wildcards directly
 * under a top-level label (`*.localhost`), so fixed names are listed one by
 * one and wildcards sit one level deeper.
 */
export const SERVER_DNS_NAMES = [
  'localhost',
  'identity.localhost',
  'login.localhost',
  'graph.localhost',
  'sharepoint.localhost',
  'ingest.monitor.localhost',
  '*.vault.localhost',
  '*.kusto.localhost',
  '*.monitor.localhost',
] as const;

const HOUR_MS = 60 * 60 * 1000;

/** Generates a fresh CA and a server certificate it signs (EC P-256: fast to generate). */
export async function createTestCa(): Promise<Pick<TestCa, 'caCert' | 'serverCert' | 'serverKey'>> {
  // Back-date by an hour so a skewed clock in a child process still accepts them.
  const notBeforeDate = new Date(Date.now() - HOUR_MS);
  const ca = await generate([{ name: 'commonName', value: 'Azure emulator test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(Date.now() + 365 * 24 * HOUR_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(Date.now() + 30 * 24 * HOUR_MS),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...SERVER_DNS_NAMES.map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { caCert: ca.cert, serverCert: server.cert, serverKey: server.private };
}

/**
 * Loads the CA files from `dir`, or creates and writes them when absent.
 * Create the directory's files from one process before starting others.
 */
export async function loadOrCreateTestCa(dir: string): Promise<TestCa> {
  const paths = {
    caCert: join(dir, CA_FILE),
    serverCert: join(dir, SERVER_CERT_FILE),
    serverKey: join(dir, SERVER_KEY_FILE),
  };
  if (Object.values(paths).every((path) => existsSync(path))) {
    const [caCert, serverCert, serverKey] = await Promise.all([
      readFile(paths.caCert, 'utf8'),
      readFile(paths.serverCert, 'utf8'),
      readFile(paths.serverKey, 'utf8'),
    ]);
    return { dir, caPath: paths.caCert, caCert, serverCert, serverKey };
  }
  const material = await createTestCa();
  await mkdir(dir, { recursive: true });
  // Write then rename so a reader never sees a half-written file; the key goes last.
  for (const part of ['caCert', 'serverCert', 'serverKey'] as const) {
    await writeFile(`${paths[part]}.tmp`, material[part], { mode: 0o600 });
    await rename(`${paths[part]}.tmp`, paths[part]);
  }
  return { dir, caPath: paths.caCert, ...material };
}

/** The shared CA directory from `EMULATOR_CA_DIR`, or a new temporary one. */
export async function resolveCaDir(): Promise<string> {
  const shared = process.env.EMULATOR_CA_DIR;
  return shared ? shared : mkdtemp(join(tmpdir(), 'azure-emulator-ca-'));
}

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createKustoService } from './kusto/service.ts';
import { startEmulator } from './server.ts';

/**
 * `npm start` without Azure settings: the bundled emulator with sample data
 * stands in for every Azure service, and the real server (dist/server.js,
 * unchanged) is pointed at it through configuration only.
 */
const SERVER_ENTRY = fileURLToPath(new URL('../dist/server.js', import.meta.url));
export const SANDBOX_CLUSTER = 'sandbox';

/** `EMULATOR_PORT`: a fixed port for the sandbox's emulator (default: any free one). */
function emulatorPort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`EMULATOR_PORT must be a whole number from 1 to 65535, not ${JSON.stringify(value)}`);
  return port;
}

export async function runSandbox(): Promise<void> {
  const kusto = createKustoService();
  const emulator = await startEmulator({ services: [kusto], port: emulatorPort(process.env.EMULATOR_PORT) });
  const clusterUrl = emulator.origin(`${SANDBOX_CLUSTER}.kusto.localhost`);
  emulator.keyVault.setSecret('audit-fingerprint-key', randomBytes(32).toString('base64'));
  const databases = kusto.catalog.allDatabases().map((db) => db.name);

  const env = {
    ...process.env,
    ...emulator.env(),
    KUSTO_CLUSTERS: `${SANDBOX_CLUSTER}=${clusterUrl}/Samples`,
    AUDIT_FINGERPRINT_SECRET_NAME: 'audit-fingerprint-key',
  };
  process.stderr.write(
    [
      '',
      'SANDBOX MODE: no Azure settings found, so every Azure service is emulated locally:',
      `  Kusto cluster "${SANDBOX_CLUSTER}" with sample databases ${databases.join(', ')} (a KQL subset: emulator/kusto/README.md)`,
      '  managed identity, Key Vault (audit fingerprint key), Application Insights (audit events print below), Entra',
      `Emulator: https://127.0.0.1:${emulator.port} (EMULATOR_PORT fixes the port); its CA: ${emulator.caPath} (EMULATOR_CA_DIR keeps it).`,
      ...(process.env.EMULATOR_PORT ? ['  The environment that points another process at it:', ...Object.entries(emulator.env()).map(([name, value]) => `    ${name}=${value}`)] : []),
      'To use real Azure instead, set KUSTO_CLUSTERS (and optionally KEY_VAULT_URL, APPLICATIONINSIGHTS_CONNECTION_STRING)',
      'after `az login`, then run npm start again. See README.md > Configuration.',
      '',
    ].join('\n'),
  );

  const server = spawn(process.execPath, [SERVER_ENTRY], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  let printed = 0;
  const printAudit = () => {
    const envelopes = emulator.appInsights.envelopes().filter((e) => e.data?.baseType === 'EventData');
    for (const envelope of envelopes.slice(printed)) {
      const data = envelope.data?.baseData as { name?: string; properties?: Record<string, string>; measurements?: Record<string, number> };
      const p = data.properties ?? {};
      process.stderr.write(`audit ▸ ${data.name} ${p.tool ?? p.errorClass ?? ''} ${p.outcome ?? ''} ${data.measurements?.durationMs ?? ''}${data.measurements?.durationMs !== undefined ? ' ms' : ''} ${p.target ?? ''}\n`);
    }
    printed = envelopes.length;
  };
  const timer = setInterval(printAudit, 1000);
  const stop = () => server.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise<number>((resolve) => server.on('exit', (exitCode) => resolve(exitCode ?? 1)));
  clearInterval(timer);
  printAudit();
  await emulator.close();
  process.exitCode = code;
}

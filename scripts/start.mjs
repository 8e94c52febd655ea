// `npm start` (after the build): with Azure settings, the server against real
// Azure; with none, sandbox mode against the bundled emulator.
import { spawn } from 'node:child_process';
import { tsImport } from 'tsx/esm/api';

/** Any of these means "I am pointing at real Azure". */
const AZURE_SETTINGS = ['KUSTO_CLUSTERS', 'KEY_VAULT_URL', 'APPLICATIONINSIGHTS_CONNECTION_STRING', 'IDENTITY_ENDPOINT', 'AZURE_CLIENT_ID'];

const configured = AZURE_SETTINGS.filter((name) => process.env[name]);
if (configured.length > 0) {
  console.error(`Using real Azure (${configured.join(', ')} set).`);
  const server = spawn(process.execPath, [new URL('../dist/server.js', import.meta.url).pathname], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill('SIGTERM'));
  server.on('exit', (code) => process.exit(code ?? 1));
} else {
  const { runSandbox } = await tsImport('../emulator/sandbox.ts', import.meta.url);
  await runSandbox();
}

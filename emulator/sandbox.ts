import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Emulator } from './server.ts';
import { DEFAULT_USER_UPN } from './entra-tenant.ts';
import { GRAPH_SAMPLE_NOW } from './graph/sample-tenant.ts';
import type { EmulatorService } from './types.ts';
import { TOOLSET_MODULES } from '../src/toolsets/registry.ts';
import { createKustoService } from './kusto/service.ts';
import { startEmulator } from './server.ts';

/**
 * `npm start` without Azure settings: the bundled emulator with sample data
 * stands in for every Azure service, and the real server (dist/server.js,
 * unchanged) is pointed at it through configuration only.
 */
const SERVER_ENTRY = fileURLToPath(new URL('../dist/server.js', import.meta.url));
export const SANDBOX_CLUSTER = 'sandbox';
/** Where a running sandbox says how to reach it (for `npm run token`); removed when it stops. */
export const SANDBOX_STATE = fileURLToPath(new URL('../.sandbox/state.json', import.meta.url));

/**
 * The sandbox's own helper, not an Azure service: `POST https://localhost:<port>/sandbox/token`
 * mints an access token for the API from the emulated tenant (`npm run token` calls it), so
 * `MCP_AUTH_MODE=entra npm start` can be tried without an interactive sign-in.
 */
function tokenMinter(emulator: () => Emulator): EmulatorService {
  return {
    name: 'sandbox',
    hostPattern: 'localhost',
    matches: (hostname) => hostname === 'localhost',
    async handle(req) {
      if (req.method !== 'POST' || new URL(req.url).pathname !== '/sandbox/token') return new Response('Not Found', { status: 404 });
      const ask = (await req.json().catch(() => ({}))) as { roles?: string[]; scp?: string; app?: boolean; upn?: string };
      const token = await emulator().entra.mintApiToken({
        kind: ask.app ? 'app' : 'user',
        ...(ask.roles?.length && { roles: ask.roles }),
        ...(ask.scp && { scp: ask.scp }),
        ...(ask.upn && { upn: ask.upn }),
      });
      return Response.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
    },
  };
}

/** The Graph toolsets (the graph module's, from the registry), so the sandbox follows as tools are added. */
const GRAPH_TOOLSETS = TOOLSET_MODULES.find((module) => module.name === 'graph')?.toolsets ?? [];
const GRAPH_TOOLS = GRAPH_TOOLSETS.flatMap((toolset) => toolset.tools);
/** Every permission of one kind that the Graph tools declare: what an admin consents to (delegated) or assigns the identity (application). */
export function graphToolPermissions(kind: 'delegated' | 'application'): string[] {
  return [...new Set(GRAPH_TOOLS.flatMap((tool) => tool.permissions?.[kind] ?? []))].sort();
}

/** Comma-separated names in lines of at most `width` characters. */
function wrap(names: readonly string[], width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [index, name] of names.entries()) {
    const item = `${name}${index < names.length - 1 ? ',' : ''}`;
    if (line && indent.length + line.length + 1 + item.length > width) {
      lines.push(indent + line);
      line = item;
    } else line = line ? `${line} ${item}` : item;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** `EMULATOR_PORT`: a fixed port for the sandbox's emulator (default: any free one). */
function emulatorPort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`EMULATOR_PORT must be a whole number from 1 to 65535, not ${JSON.stringify(value)}`);
  return port;
}

export async function runSandbox(): Promise<void> {
  const kusto = createKustoService();
  let started: Emulator | undefined;
  const emulator = await startEmulator({ services: [kusto, tokenMinter(() => started as Emulator)], port: emulatorPort(process.env.EMULATOR_PORT) });
  started = emulator;
  const authMode = process.env.MCP_AUTH_MODE ?? 'none';
  const publicUrl = `http://127.0.0.1:${process.env.PORT || 7071}/mcp`;
  const clusterUrl = emulator.origin(`${SANDBOX_CLUSTER}.kusto.localhost`);
  emulator.keyVault.setSecret('audit-fingerprint-key', randomBytes(32).toString('base64'));
  // MCP_OAUTH_FACADE=true: what infra sets up for the facade (its sealing key, its callback on the API app).
  const facade = authMode === 'entra' && ['true', '1', 'yes'].includes(process.env.MCP_OAUTH_FACADE ?? '');
  if (facade) {
    emulator.keyVault.setSecret('oauth-facade-key', randomBytes(32).toString('base64url'));
    emulator.entra.api.redirectUris.push(`${new URL(publicUrl).origin}/oauth/callback`);
  }
  const databases = kusto.catalog.allDatabases().map((db) => db.name);
  // Graph needs a signed-in caller, so it is on in entra mode only: on behalf of the user (the default), with admin
  // consent for every delegated permission the Graph tools declare, as an admin would consent for a deployment;
  // GRAPH_IDENTITY=managedIdentity instead assigns the identity every application permission they declare.
  const graphIdentity = authMode === 'entra' ? process.env.GRAPH_IDENTITY || 'onBehalfOf' : undefined;
  if (graphIdentity === 'onBehalfOf') emulator.entra.grantConsent(emulator.entra.api.clientId, 'https://graph.microsoft.com', ['User.Read', ...graphToolPermissions('delegated')]);
  if (graphIdentity === 'managedIdentity') emulator.entra.assignAppRoles(emulator.identity.principalId, 'https://graph.microsoft.com', graphToolPermissions('application'));
  const graphReadTools = GRAPH_TOOLSETS.filter((toolset) => toolset.id === 'graph').flatMap((toolset) => toolset.tools.map((tool) => tool.name));

  const env = {
    ...process.env,
    ...emulator.env(),
    // On loopback the sandbox admits any local caller unless asked for more (MCP_AUTH_MODE=entra: the emulated tenant).
    MCP_AUTH_MODE: authMode,
    ...(authMode === 'entra' && emulator.entra.settingsEnv(publicUrl)),
    ...(graphIdentity && { GRAPH_IDENTITY: graphIdentity }),
    KUSTO_CLUSTERS: `${SANDBOX_CLUSTER}=${clusterUrl}/Samples`,
    AUDIT_FINGERPRINT_SECRET_NAME: 'audit-fingerprint-key',
  };
  process.stderr.write(
    [
      '',
      'SANDBOX MODE: no Azure settings found, so every Azure service is emulated locally:',
      `  Kusto cluster "${SANDBOX_CLUSTER}" with sample databases ${databases.join(', ')} (a KQL subset: emulator/kusto/README.md)`,
      '  managed identity, Key Vault (audit fingerprint key), Application Insights (audit events print below), Entra',
      `  Microsoft Graph at ${emulator.graph.endpoint} (GRAPH_ENDPOINT) with a sample tenant: users, teams, chats, mail, calendar, files (emulator/README.md)`,
      ...(graphIdentity
        ? [
            `MICROSOFT GRAPH is on (GRAPH_IDENTITY=${graphIdentity}${graphIdentity === 'onBehalfOf' ? ', admin consent given for every delegated permission the Graph tools declare' : ', the identity holds every application permission the Graph tools declare'}).`,
            '  The sample tenant is a fixed, fake company (a dozen users, a few teams with channels and messages, chats, mail, calendar, files;',
            `  dated around ${new Date(GRAPH_SAMPLE_NOW).toISOString().slice(0, 10)}); you are its test user ${DEFAULT_USER_UPN}. Nothing reaches a real tenant.`,
            `  Graph tools to try (${graphReadTools.length}, read only):`,
            ...wrap(graphReadTools, 100, '    '),
            '  e.g. "Which teams am I in?", "What was said in the Mark 8 General channel?", "Search my messages for pipeline",',
            `  "Is Megan available?", "What is on my calendar on ${new Date(GRAPH_SAMPLE_NOW).toISOString().slice(0, 10)}?", "Any unread mail?"`,
          ]
        : ['  The Graph tools need a signed-in user: MCP_AUTH_MODE=entra npm start turns them on (on behalf of the emulated test user).']),
      `Emulator: https://127.0.0.1:${emulator.port} (EMULATOR_PORT fixes the port); its CA: ${emulator.caPath} (EMULATOR_CA_DIR keeps it).`,
      ...(process.env.EMULATOR_PORT ? ['  The environment that points another process at it:', ...Object.entries(emulator.env()).map(([name, value]) => `    ${name}=${value}`)] : []),
      ...(authMode === 'entra'
        ? [
            `MCP_AUTH_MODE=entra: tokens are validated against the emulated tenant ${emulator.entra.homeTenantId}; protected resource metadata at`,
            `  http://127.0.0.1:${process.env.PORT || 7071}/.well-known/oauth-protected-resource/mcp. Get a test token in another terminal:`,
            '    npm run token                         a user with the delegated scope user_impersonation',
            '    npm run token -- --role toolset.kusto a user with an app role (repeat --role; --app for an app-only token)',
            '  and send it as "Authorization: Bearer <token>" (MCP Inspector: Authentication > Bearer Token).',
            ...(facade
              ? ['MCP_OAUTH_FACADE=true: OAuth clients (MCP Inspector, the SDK) sign in through this server, which relays to the emulated tenant;', '  its test user is signed in at once, without a password.']
              : ['  MCP_OAUTH_FACADE=true npm start adds the sign-in facade for OAuth clients (docs/clients.md).']),
          ]
        : ['MCP_AUTH_MODE=none: any local caller is admitted (loopback only). MCP_AUTH_MODE=entra npm start tries the Entra sign-in path.']),
      'To use real Azure instead, set KUSTO_CLUSTERS (and optionally KEY_VAULT_URL, APPLICATIONINSIGHTS_CONNECTION_STRING)',
      'after `az login`, then run npm start again. See README.md > Configuration.',
      '',
    ].join('\n'),
  );

  await mkdir(new URL('../.sandbox/', import.meta.url), { recursive: true });
  await writeFile(SANDBOX_STATE, JSON.stringify({ emulatorPort: emulator.port, caPath: emulator.caPath }));
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
  await rm(SANDBOX_STATE, { force: true });
  await emulator.close();
  process.exitCode = code;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { connectClient, freePort } from '../support/server-process.ts';
import { InMemoryOAuthClient, ScriptedBrowser } from '../support/oauth-browser.ts';
import { SAMPLE } from '../../emulator/graph/sample-tenant.ts';

/** `npm start` with no Azure settings: sandbox mode, real KQL over the sample data, clean shutdown. */
const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));

interface Sandbox {
  url: string;
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `npm start` with only PATH, PORT and what the test names: no Azure settings, exactly like a fresh checkout. */
async function startSandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  const launcher: ChildProcess = spawn(process.execPath, [START], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...(process.env.EMULATOR_CA_DIR && { EMULATOR_CA_DIR: process.env.EMULATOR_CA_DIR }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  launcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    launcher.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MCP endpoint: (http:\/\/\S+\/mcp)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    launcher.once('exit', (code) => reject(new Error(`sandbox exited with ${code}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: () => {
      const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
      launcher.kill('SIGTERM');
      return exited;
    },
  };
}

test('sandbox mode serves the Kusto tools over the bundled emulator and says so', async () => {
  const sandbox = await startSandbox();
  try {
    assert.match(sandbox.output(), /SANDBOX MODE: no Azure settings found/);
    assert.match(sandbox.output(), /To use real Azure instead, set KUSTO_CLUSTERS/);
    const client = await connectClient(sandbox.url);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'kusto_query'));
    // No signed-in caller, so no Graph: the banner says how to turn it on.
    assert.match(sandbox.output(), /The Graph tools need a signed-in user: MCP_AUTH_MODE=entra npm start/);
    assert.ok(!tools.some((tool) => tool.name.startsWith('graph_')), tools.map((tool) => tool.name).join(', '));
    const result = await client.callTool({ name: 'kusto_query', arguments: { query: 'StormEvents | summarize events = count() by State | top 3 by events' } });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    const data = result.structuredContent as { cluster: string; rows: unknown[][] };
    assert.equal(data.cluster, 'sandbox');
    assert.equal(data.rows.length, 3);
    await client.close();
  } finally {
    assert.equal(await sandbox.stop(), 0, sandbox.output());
  }
  assert.match(sandbox.output(), /audit ▸ mcp\.tool\.call kusto_query success/);
});

test('MCP_AUTH_MODE=entra MCP_OAUTH_FACADE=true npm start: an OAuth client signs in through the facade to the emulated tenant', async () => {
  const sandbox = await startSandbox({ PORT: String(await freePort()), MCP_AUTH_MODE: 'entra', MCP_OAUTH_FACADE: 'true' });
  try {
    assert.match(sandbox.output(), /MCP_OAUTH_FACADE=true: OAuth clients/);
    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    const provider = new InMemoryOAuthClient(redirectUrl);
    await assert.rejects(new Client({ name: 'sandbox-oauth', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(sandbox.url), { authProvider: provider })), UnauthorizedError);
    const landed = await new ScriptedBrowser().follow(provider.authorizationUrl ?? '', (url) => url.href.startsWith(redirectUrl));
    const transport = new StreamableHTTPClientTransport(new URL(sandbox.url), { authProvider: provider });
    await transport.finishAuth(landed.searchParams);
    const client = new Client({ name: 'sandbox-oauth', version: '1.0.0' });
    await client.connect(transport);
    const result = await client.callTool({ name: 'kusto_list_clusters', arguments: {} });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    await client.close();
  } finally {
    assert.equal(await sandbox.stop(), 0, sandbox.output());
  }
  assert.match(sandbox.output(), /audit ▸ mcp\.oauth\.request/);
});

/** What `npm run token` does: POST the sandbox's /sandbox/token on the emulator whose port and CA the banner printed. */
async function sandboxToken(output: string): Promise<string> {
  const port = Number(/Emulator: https:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  const caPath = /its CA: (\S+) \(/.exec(output)?.[1];
  assert.ok(port && caPath, `the banner names the emulator's port and CA:\n${output}`);
  const answer = await new Promise<{ access_token: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/sandbox/token', method: 'POST', servername: 'localhost', ca: readFileSync(caPath), headers: { host: `localhost:${port}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as { access_token: string }) : reject(new Error(`sandbox answered ${res.statusCode}: ${text}`))));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
  return answer.access_token;
}

test('MCP_AUTH_MODE=entra npm start: Graph is on behalf of the test user, who browses and searches the sample tenant', async () => {
  const sandbox = await startSandbox({ PORT: String(await freePort()), MCP_AUTH_MODE: 'entra' });
  try {
    assert.match(sandbox.output(), /MICROSOFT GRAPH is on \(GRAPH_IDENTITY=onBehalfOf, admin consent given/);
    assert.match(sandbox.output(), /sample tenant is a fixed, fake company/);
    assert.match(sandbox.output(), /Graph tools to try \(\d+, read only\):\n\s+graph_teams_list,/);
    const client = await connectClient(sandbox.url, 'sandbox-graph', { authorization: `Bearer ${await sandboxToken(sandbox.output())}` });
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'graph_teams_list'), tools.map((tool) => tool.name).join(', '));
    const teams = await client.callTool({ name: 'graph_teams_list', arguments: {} });
    assert.equal(teams.isError, undefined, JSON.stringify(teams.content));
    const listed = (teams.structuredContent as { teams: Array<{ id: string; displayName: string }> }).teams;
    assert.ok(listed.some((team) => team.id === SAMPLE.teams.mark8), JSON.stringify(listed));
    assert.ok(!listed.some((team) => team.id === SAMPLE.teams.retail), 'only the test user\'s teams');
    // Browse: the team's channels (the private one the test user is not in is left out).
    const channels = await client.callTool({ name: 'graph_team_channels_list', arguments: { teamId: SAMPLE.teams.mark8 } });
    assert.equal(channels.isError, undefined, JSON.stringify(channels.content));
    const channelIds = (channels.structuredContent as { channels: Array<{ id: string }> }).channels.map((channel) => channel.id);
    assert.ok(channelIds.includes(SAMPLE.channels.mark8General) && channelIds.includes(SAMPLE.channels.mark8Design), JSON.stringify(channelIds));
    assert.ok(!channelIds.includes(SAMPLE.channels.mark8Leadership), 'a private channel the test user is not a member of');
    // Search: Microsoft Search over the messages the test user can see.
    const search = await client.callTool({ name: 'graph_messages_search', arguments: { query: 'pipeline' } });
    assert.equal(search.isError, undefined, JSON.stringify(search.content));
    const hits = (search.structuredContent as { hits: Array<{ summary: string; channelId?: string }> }).hits;
    assert.ok(hits.some((hit) => /pipeline/i.test(hit.summary) && hit.channelId === SAMPLE.channels.salesGeneral), JSON.stringify(hits));
    await client.close();
  } finally {
    assert.equal(await sandbox.stop(), 0, sandbox.output());
  }
  assert.match(sandbox.output(), /audit ▸ mcp\.tool\.call graph_teams_list success/);
});

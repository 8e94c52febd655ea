import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { ALL_TOOLS } from '../../src/tools/catalog.ts';
import { createKustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { connectClient, startFunctionsHostProcess, startServerProcess, TEST_FUNCTION_KEY, type ServerProcess } from '../support/server-process.ts';

/**
 * Every official client era against every host: the SDK v1 client (2025
 * era), the SDK v2 client pinned to 2026-07-28 and auto-negotiating, each
 * listing and calling every tool, through the Node host (`npm start`) and
 * through the built Functions entry.
 */
const ARGUMENTS: Record<string, Record<string, unknown>> = {
  server_info_get: {},
  kusto_list_clusters: {},
  kusto_list_databases: {},
  kusto_list_tables: {},
  kusto_table_schema: { table: 'StormEvents' },
  kusto_schema_context: { question: 'which states had the most storms' },
  kusto_sample: { table: 'StormEvents', rows: 3 },
  kusto_query: { query: 'StormEvents | summarize n = count() by State | top 3 by n' },
};

/**
 * The tools these hosts enable: every tool but the Graph ones, which act for a signed-in user and
 * so need entra mode (test/e2e/graph/ runs them through the same server with both SDK clients).
 */
const HOST_TOOLS = ALL_TOOLS.filter((tool) => !tool.toolset.startsWith('graph'));

interface CallableClient {
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  callTool(request: { name: string; arguments: Record<string, unknown> }): Promise<{ isError?: unknown; content?: unknown; structuredContent?: unknown }>;
  close(): Promise<void>;
}

const CLIENTS: Array<{ name: string; era: string; connect(url: string, headers: Record<string, string>): Promise<CallableClient> }> = [
  { name: 'SDK v1 client', era: '2025-11-25', connect: (url, headers) => connectClient(url, 'v1', headers) as Promise<CallableClient> },
  ...(['pinned', 'auto'] as const).map((mode) => ({
    name: `SDK v2 client (${mode})`,
    era: '2026-07-28',
    async connect(url: string, headers: Record<string, string>) {
      const client = new ClientV2({ name: `v2-${mode}`, version: '1.0.0' }, { versionNegotiation: { mode: mode === 'pinned' ? { pin: '2026-07-28' } : 'auto' } });
      await client.connect(new TransportV2(new URL(url), { requestInit: { headers } }));
      return client as unknown as CallableClient;
    },
  })),
];

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ services: [createKustoService()] });
});
after(async () => {
  await emulator?.close();
});

const HOSTS = [
  { name: 'the Node host (npm start)', start: startServerProcess, headers: {} as Record<string, string> },
  { name: 'the Functions entry', start: startFunctionsHostProcess, headers: { 'x-functions-key': TEST_FUNCTION_KEY } },
];

for (const host of HOSTS) {
  describe(`through ${host.name}`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await host.start({
        ...emulator.env(),
        KUSTO_CLUSTERS: `help=${emulator.origin('help.kusto.localhost')}/Samples`,
      });
    });
    after(async () => {
      await server?.stop();
    });

    for (const kind of CLIENTS) {
      test(`${kind.name} lists and calls every tool (${kind.era})`, async () => {
        const client = await kind.connect(server.mcpUrl, host.headers);
        try {
          const { tools } = await client.listTools();
          assert.deepEqual(tools.map((tool) => tool.name).sort(), HOST_TOOLS.map((tool) => tool.name).sort());
          for (const tool of tools) {
            const args = ARGUMENTS[tool.name];
            assert.ok(args, `arguments for ${tool.name} in this test`);
            const result = await client.callTool({ name: tool.name, arguments: args });
            assert.notEqual(result.isError, true, `${tool.name}: ${JSON.stringify(result.content)}`);
            if (tool.name === 'server_info_get') assert.equal((result.structuredContent as { protocolVersion: string }).protocolVersion, kind.era);
          }
        } finally {
          await client.close();
        }
      });
    }
  });
}

test('the Functions entry asks for HTTP streaming and, in functionKey mode, is behind the key', async () => {
  const server = await startFunctionsHostProcess({});
  try {
    assert.match(server.stderr(), /setup \{"enableHttpStream":true\}/);
    const refused = await fetch(server.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(refused.status, 401, 'authLevel function: the host refuses a request without the key');
  } finally {
    await server.stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../support/server-process.ts';

/** `npm start` with no Azure settings: sandbox mode, real KQL over the sample data, clean shutdown. */
const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));

test('sandbox mode serves the Kusto tools over the bundled emulator and says so', async () => {
  // Only PATH and PORT: no Azure settings, exactly like a fresh `npm start`.
  const launcher = spawn(process.execPath, [START], { env: { PATH: process.env.PATH ?? '', PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  launcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    launcher.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MCP endpoint: (http:\/\/\S+\/mcp)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    launcher.once('exit', (code) => reject(new Error(`sandbox exited with ${code}:\n${output}`)));
  });
  try {
    assert.match(output, /SANDBOX MODE: no Azure settings found/);
    assert.match(output, /To use real Azure instead, set KUSTO_CLUSTERS/);
    const client = await connectClient(url);
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'kusto_query'));
    const result = await client.callTool({ name: 'kusto_query', arguments: { query: 'StormEvents | summarize events = count() by State | top 3 by events' } });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    const data = result.structuredContent as { cluster: string; rows: unknown[][] };
    assert.equal(data.cluster, 'sandbox');
    assert.equal(data.rows.length, 3);
    await client.close();
  } finally {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  }
  assert.match(output, /audit ▸ mcp\.tool\.call kusto_query success/);
});

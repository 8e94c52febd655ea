import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * The Graph client is loaded lazily: the real server with Graph on
 * (GRAPH_IDENTITY=onBehalfOf) starts and answers tools/list without loading
 * the Graph SDK, the HTML converter, Markdown or the sanitizer; the first
 * Graph tool call loads the SDK.
 *
 * How it is seen: a preload (test/support/module-load-log.mjs) records every
 * file the process loads, ES modules through a loader hook and CommonJS through
 * Module.prototype.load. The bundle inlines packages into dist/ chunks, so a
 * loaded chunk is mapped to the packages it holds by its source map's
 * `sources`; a file loaded from node_modules names its package by its path.
 */
const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../../support/module-load-log.mjs', import.meta.url));
const LAZY = ['@microsoft/microsoft-graph-client', 'node-html-markdown', 'marked', 'sanitize-html'] as const;

/** The LAZY packages whose code is in a file (a dist chunk, by its source map, or a node_modules file, by its path). */
function packagesIn(path: string): string[] {
  const sources = path.startsWith(DIST) && existsSync(`${path}.map`) ? (JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sources: string[] }).sources : [path];
  return LAZY.filter((name) => sources.some((source) => source.replace(/\\/g, '/').includes(`node_modules/${name}/`)));
}

let emulator: Emulator;
let server: ServerProcess;
let dir: string;
const logFile = () => join(dir, 'modules.log');

/** Every file the server has loaded so far, and the LAZY packages among them. */
function loaded(): { files: string[]; packages: Set<string> } {
  const files = [...new Set(readFileSync(logFile(), 'utf8').split('\n').filter(Boolean).map((line) => {
    const target = line.slice(line.indexOf(' ') + 1);
    return target.startsWith('file:') ? fileURLToPath(target) : target;
  }))];
  return { files, packages: new Set(files.flatMap(packagesIn)) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'graph-lazy-'));
  emulator = await startEmulator();
  server = await startGraphServerProcess(emulator, 'onBehalfOf', {
    env: { NODE_OPTIONS: `${emulator.env().NODE_OPTIONS ?? ''} --import=${PRELOAD}`.trim(), MODULE_LOAD_LOG: logFile() },
  });
});
after(async () => {
  await server?.stop();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the Graph SDK, the HTML converter, Markdown and the sanitizer are not loaded to start and answer tools/list; the first Graph call loads the SDK, the first message list the converter', async () => {
  // The bundle holds each of them (in chunks of their own), so "not loaded" below says something.
  const chunks = readdirSync(DIST).filter((name) => name.endsWith('.js')).map((name) => join(DIST, name));
  const bundled = new Set(chunks.flatMap(packagesIn));
  assert.deepEqual([...bundled].sort(), [...LAZY].sort(), 'dist/ bundles all of them');
  for (const entry of ['server.js', 'functions.js']) assert.deepEqual(packagesIn(join(DIST, entry)), [], `dist/${entry} itself inlines none of ${LAZY.join(', ')}`);

  const client = new Client({ name: 'graph-lazy', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${await emulator.entra.mintApiToken()}` } } }));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === 'graph_teams_list'), 'Graph is on');
    const atList = loaded();
    assert.ok(atList.files.includes(join(DIST, 'server.js')), `the log sees the server's own modules: ${atList.files.slice(0, 5).join(', ')}`);
    assert.deepEqual([...atList.packages], [], `loaded by tools/list: ${atList.files.filter((file) => packagesIn(file).length > 0).join(', ')}`);

    const result = await client.callTool({ name: 'graph_teams_list', arguments: {} });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    assert.ok(loaded().packages.has('@microsoft/microsoft-graph-client'), 'the first Graph call loads the SDK (and the log would have seen it earlier)');
    assert.ok(!loaded().packages.has('node-html-markdown'), 'listing teams converts no HTML');
    const messages = await client.callTool({ name: 'graph_channel_messages_list', arguments: { teamId: SAMPLE.teams.mark8, channelId: SAMPLE.channels.mark8General } });
    assert.equal(messages.isError, undefined, JSON.stringify(messages.content));
    assert.ok(loaded().packages.has('node-html-markdown'), 'the first message list loads the HTML converter');
  } finally {
    await client.close();
  }
});

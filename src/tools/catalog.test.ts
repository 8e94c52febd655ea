import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { ALL_TOOLS, buildToolCatalog, toolDescriptor } from './catalog.ts';
import { TOOLSETS } from '../toolsets/registry.ts';
import { README_TOOLS_BEGIN, renderToolDocs, withReadmeToolTable } from '../../scripts/tool-docs.ts';

const SNAPSHOT_DIR = new URL('../../test/__toolsnaps__/', import.meta.url);

test('every tool follows the naming rule, belongs to a known toolset and says whether it writes', () => {
  const toolsets = new Set<string>(TOOLSETS.map((t) => t.id));
  const names = new Set<string>();
  for (const tool of ALL_TOOLS) {
    // The resource may take several words (graph_channel_message_replies_list): the service first, the verb last.
    assert.match(tool.name, /^[a-z]+(_[a-z]+){1,4}$/, `${tool.name}: <service>_<resource>_<verb> (or <service>_<verb>)`);
    assert.ok(!names.has(tool.name), `${tool.name} is unique`);
    names.add(tool.name);
    assert.ok(toolsets.has(tool.toolset), `${tool.name}: toolset ${tool.toolset}`);
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
      assert.equal(typeof tool.annotations[hint], 'boolean', `${tool.name}.${hint}`);
    }
    assert.ok(tool.description.length >= 60, `${tool.name}: a description a model can act on`);
    assert.ok(tool.summary && tool.summary.length <= 100, `${tool.name}: a one-line summary for the README's tool table`);
    assert.ok(!(tool.annotations.readOnlyHint && tool.annotations.destructiveHint), `${tool.name}: read-only cannot be destructive`);
  }
});

test('each tool schema matches its snapshot (UPDATE_TOOLSNAPS=1 to accept a deliberate change)', async () => {
  await mkdir(SNAPSHOT_DIR, { recursive: true });
  for (const tool of ALL_TOOLS) {
    const file = new URL(`${tool.name}.json`, SNAPSHOT_DIR);
    const actual = `${JSON.stringify(toolDescriptor(tool), null, 2)}\n`;
    if (process.env.UPDATE_TOOLSNAPS === '1') await writeFile(file, actual);
    const expected = await readFile(file, 'utf8').catch(() => undefined);
    assert.ok(expected !== undefined, `missing snapshot test/__toolsnaps__/${tool.name}.json: run UPDATE_TOOLSNAPS=1 npm test`);
    assert.equal(actual, expected, `${tool.name}: the interface changed; review, then UPDATE_TOOLSNAPS=1 npm test`);
  }
});

test('docs/tools.md is generated from the registry (npm run docs:tools)', async () => {
  assert.equal(await readFile(new URL('../../docs/tools.md', import.meta.url), 'utf8'), renderToolDocs());
});

test('the README tool table is generated from the registry (npm run docs:tools)', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withReadmeToolTable(readme), 'README.md: run npm run docs:tools');
  for (const tool of ALL_TOOLS) assert.ok(readme.includes(`| \`${tool.name}\` | \`${tool.toolset}\` |`), tool.name);
  assert.throws(() => withReadmeToolTable(readme.replace(README_TOOLS_BEGIN, '')), /must hold the tool table between/);
});

test('unknown toolsets are refused with the known ones listed', () => {
  assert.throws(() => buildToolCatalog({ toolsets: ['sharepoint'], readOnly: true }), /unknown toolsets: sharepoint\. Known: server/);
});

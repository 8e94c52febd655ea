/**
 * The deployment's Microsoft Graph permissions against the tools: every
 * delegated permission a tool of the read toolset `graph` declares is in the
 * default `graphDelegatedScopes` (main.bicep, and main.bicepparam's default),
 * which holds nothing only the send and admin tools need; docs/deploy.md's
 * permission table lists, per Graph toolset, every delegated and application
 * permission its tools declare. A tool added with a new permission fails here
 * until infra and the docs say so.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TOOLSET_MODULES } from '../../src/toolsets/registry.ts';
import { mainParams, type Files } from './bicep-checks.ts';
import { declarations, declaredValue, evaluate, infraRoot, loadInfra, repoRoot } from './bicep-tree.ts';

type Kind = 'delegated' | 'application';

interface GraphToolset {
  id: string;
  tools: ReadonlyArray<{ name: string; permissions?: { delegated: readonly string[]; application: readonly string[] } }>;
}
const GRAPH_TOOLSETS: readonly GraphToolset[] = TOOLSET_MODULES.find((module) => module.name === 'graph')?.toolsets ?? [];

/** What the tools of one Graph toolset declare, by kind. */
function declared(toolsetId: string, kind: Kind, toolsets: readonly GraphToolset[] = GRAPH_TOOLSETS): string[] {
  const toolset = toolsets.find((candidate) => candidate.id === toolsetId);
  assert.ok(toolset, `no Graph toolset ${toolsetId}`);
  return [...new Set(toolset.tools.flatMap((tool) => tool.permissions?.[kind] ?? []))].sort();
}

/** The default of main.bicep's graphDelegatedScopes, and main.bicepparam's with no environment variable set. */
function defaults(files: Files): { bicep: string[]; bicepparam: string[] } {
  const param = mainParams(files).find((candidate) => candidate.name === 'graphDelegatedScopes');
  assert.ok(param && Array.isArray(param.defaultValue), 'main.bicep declares graphDelegatedScopes with a literal array default');
  // After the grammar shim, `param x = ...` in a .bicepparam reads as `var x = ...`.
  const assignment = declarations(files.get('main.bicepparam')!, 'var').find((candidate) => candidate.name === 'graphDelegatedScopes');
  const fromParamFile = assignment && evaluate(declaredValue(assignment), { names: new Map(), env: {} });
  assert.ok(Array.isArray(fromParamFile), 'main.bicepparam sets graphDelegatedScopes');
  return { bicep: param.defaultValue as string[], bicepparam: fromParamFile as string[] };
}

/** Problems of the default delegated scopes: a read permission missing, or one only writing tools need. */
function checkDelegatedDefault(files: Files, toolsets = GRAPH_TOOLSETS): string[] {
  const problems: string[] = [];
  const read = declared('graph', 'delegated', toolsets);
  const writeOnly = [...declared('graph.send', 'delegated', toolsets), ...declared('graph.admin', 'delegated', toolsets)].filter((name) => !read.includes(name));
  for (const [where, list] of Object.entries(defaults(files))) {
    const missing = ['User.Read', ...read].filter((name) => !list.includes(name));
    if (missing.length > 0) problems.push(`${where === 'bicep' ? 'main.bicep' : 'main.bicepparam'} graphDelegatedScopes lacks ${missing.join(', ')}, which the graph toolset's tools need`);
    const extra = list.filter((name) => writeOnly.includes(name));
    if (extra.length > 0) problems.push(`${where === 'bicep' ? 'main.bicep' : 'main.bicepparam'} graphDelegatedScopes holds ${extra.join(', ')}, which only graph.send or graph.admin tools need`);
  }
  return problems;
}

/** docs/deploy.md's permission table: toolset id → the backticked names of its delegated and application cells. */
function docsTable(markdown: string): Map<string, Record<Kind, string[]>> {
  const section = markdown.slice(markdown.indexOf('### Microsoft Graph permissions'), markdown.indexOf('\n### ', markdown.indexOf('### Microsoft Graph permissions') + 1));
  const rows = new Map<string, Record<Kind, string[]>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1);
    const id = /^\s*`([a-z.]+)`/.exec(cells[0] ?? '')?.[1];
    if (!id || cells.length !== 3) continue;
    const names = (cell: string) => [...cell.matchAll(/`([A-Za-z.]+)`/g)].map((match) => match[1]!);
    rows.set(id, { delegated: names(cells[1]!), application: names(cells[2]!) });
  }
  return rows;
}

function checkDocs(markdown: string, toolsets = GRAPH_TOOLSETS): string[] {
  const problems: string[] = [];
  const table = docsTable(markdown);
  for (const toolset of toolsets) {
    const row = table.get(toolset.id);
    if (!row) {
      problems.push(`docs/deploy.md's Graph permission table has no row for ${toolset.id}`);
      continue;
    }
    for (const kind of ['delegated', 'application'] as const) {
      const missing = declared(toolset.id, kind, toolsets).filter((name) => !row[kind].includes(name));
      if (missing.length > 0) problems.push(`docs/deploy.md: the ${toolset.id} row's ${kind} permissions lack ${missing.join(', ')}`);
    }
  }
  return problems;
}

const files = await loadInfra();
const deployDocs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
const read = (name: string) => readFileSync(join(infraRoot, name), 'utf8');

describe('Microsoft Graph permissions of the deployment versus the tools', () => {
  test('the Graph module has its three toolsets, and the read toolset declares delegated permissions', () => {
    assert.deepEqual(GRAPH_TOOLSETS.map((toolset) => toolset.id), ['graph', 'graph.send', 'graph.admin']);
    assert.ok(declared('graph', 'delegated').length > 0, 'the graph toolset has tools with delegated permissions');
  });

  test("the default graphDelegatedScopes covers every delegated permission of the graph toolset's tools, and no write-only one", async () => {
    assert.deepEqual(checkDelegatedDefault(files), []);
    // A permission dropped from the default is caught.
    const needed = declared('graph', 'delegated')[0]!;
    const dropped = await loadInfra({ 'main.bicep': read('main.bicep').replace(`  '${needed}'\n`, '') });
    assert.match(checkDelegatedDefault(dropped).join('\n'), new RegExp(`main\\.bicep graphDelegatedScopes lacks ${needed.replace(/\./g, '\\.')}`));
  });

  test('a tool with a new permission fails until the default and the docs have it', () => {
    const future = { name: 'graph_future_tool', permissions: { delegated: ['Future.Read.All'], application: ['Future.Read.All'] } };
    const withFuture = GRAPH_TOOLSETS.map((toolset) => (toolset.id === 'graph' ? { ...toolset, tools: [...toolset.tools, future] } : toolset));
    assert.match(checkDelegatedDefault(files, withFuture).join('\n'), /main\.bicep graphDelegatedScopes lacks Future\.Read\.All/);
    assert.match(checkDocs(deployDocs, withFuture).join('\n'), /the graph row's delegated permissions lack Future\.Read\.All[\s\S]*the graph row's application permissions lack Future\.Read\.All/);
    // A permission only a writing tool needs must stay out of the read default.
    const tool = (name: string, delegated: string[]) => ({ name, permissions: { delegated, application: [] } });
    const synthetic = [
      { id: 'graph', tools: [tool('graph_read', ['Team.ReadBasic.All'])] },
      { id: 'graph.send', tools: [tool('graph_send', ['Team.ReadBasic.All', 'Mail.Read', 'Mail.Send'])] },
      { id: 'graph.admin', tools: [] },
    ];
    const creep = checkDelegatedDefault(files, synthetic).join('\n');
    assert.match(creep, /main\.bicep graphDelegatedScopes holds [^\n]*Mail\.Read[^\n]*, which only graph\.send or graph\.admin tools need/);
    assert.doesNotMatch(creep, /holds [^\n]*Team\.ReadBasic\.All/, 'a permission the read tools need too is not write-only');
  });

  test("docs/deploy.md lists every Graph toolset's delegated and application permissions, and the graph row is the Bicep default", () => {
    assert.deepEqual(checkDocs(deployDocs), []);
    assert.deepEqual([...(docsTable(deployDocs).get('graph')?.delegated ?? [])].sort(), [...defaults(files).bicep].sort());
    const withoutRow = deployDocs.replace(/^\| `graph\.admin`.*\n/m, '');
    assert.notEqual(withoutRow, deployDocs);
    assert.match(checkDocs(withoutRow).join('\n'), /no row for graph\.admin/);
  });
});

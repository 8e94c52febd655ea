import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { loadConfig, SETTING_NAMES, type AppConfig } from '../config.ts';
import { toolDefiner } from '../tools/define-tool.ts';
import { defineToolsetModule, defineToolsetSettings, type ToolsetDeps } from './define-toolset.ts';
import { defineKustoTool } from './kusto/common.ts';
import { kustoSettings } from './kusto/settings.ts';
import { TOOLSET_IDS, TOOLSET_MODULES, type ToolsetId } from './registry.ts';
import { createToolsetServices, unavailableToolsets } from './services.ts';
import { mergeSettingsShapes } from './settings.ts';

/** The toolset modules: ids, settings, availability and services, as config and app derive them. */

const deps = { appName: 'test' } as ToolsetDeps;
const config = loadConfig({});

/** A module with two toolsets over one services object, the way the Graph toolsets share one client. */
function sharedModule(created: string[]) {
  const tool = toolDefiner<{ created: number }, 'demo' | 'demo.send'>();
  const read = tool({
    name: 'demo_items_list',
    title: 'List items',
    description: 'Lists the demo items; a test module that is never part of the product registry.',
    toolset: 'demo',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({}).strict(),
    handler: async (_args, ctx) => ({ content: [{ type: 'text', text: String(ctx.services.created) }] }),
  });
  const send = tool({ ...read, name: 'demo_item_send', toolset: 'demo.send', annotations: { ...read.annotations, readOnlyHint: false } });
  return defineToolsetModule({
    name: 'demo',
    settings: defineToolsetSettings({
      shape: { DEMO_URL: z.string().optional() },
      from: (values) => ({ url: values.DEMO_URL }),
    }),
    unavailable: (settings) => (settings.url ? undefined : 'no demo URL is configured (DEMO_URL)'),
    services: () => {
      created.push('demo');
      return { created: created.length };
    },
    toolsets: [
      { id: 'demo', description: 'Read demo items.', enabledByDefault: true, tools: [read] },
      { id: 'demo.send', description: 'Send demo items.', enabledByDefault: false, tools: [send] },
    ],
  });
}

test('the toolset ids are derived from the registry, each declared once', () => {
  assert.deepEqual(TOOLSET_IDS, ['server', 'kusto', 'graph', 'graph.send', 'graph.admin']);
  assert.equal(new Set(TOOLSET_IDS).size, TOOLSET_IDS.length);
  assert.equal(new Set(TOOLSET_MODULES.map((module) => module.name)).size, TOOLSET_MODULES.length, 'module names key config.<name>');
});

// Compile-time checks (npm test type-checks first): naming a toolset that does not exist fails.
// @ts-expect-error no toolset "kustoo"
export const typoId: ToolsetId = 'kustoo';
export const typoTool = () =>
  defineKustoTool({
    name: 'kusto_typo',
    title: 'Typo',
    description: 'A Kusto tool can only be in the kusto toolset.',
    // @ts-expect-error a Kusto tool in a toolset that is not its module's
    toolset: 'kustoo',
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({}),
    // @ts-expect-error a Kusto tool's services are the Kusto services, never optional: no `?.`, no `.kusto`
    handler: async (_args, ctx) => ({ content: [{ type: 'text', text: String(ctx.services.kusto) }] }),
  });

test('a module\'s settings are part of the one schema, validated with the others, and typed as config.<module name>', () => {
  for (const name of Object.keys(kustoSettings.shape)) assert.ok(SETTING_NAMES.includes(name), name);
  const kusto: AppConfig['kusto'] = loadConfig({ KUSTO_CLUSTERS: 'help=https://help.kusto.windows.net/Samples', KUSTO_MAX_TIMEOUT_SECONDS: '30' }).kusto;
  assert.deepEqual([kusto.clusters.map((c) => c.name), kusto.defaultTimeoutSeconds], [['help'], 30]);
  // One error names the bad settings of config.ts and of the modules alike.
  assert.throws(() => loadConfig({ KUSTO_MAX_ROWS: '0', MCP_MAX_BODY_BYTES: 'x' }), (error: Error) => /KUSTO_MAX_ROWS must be a whole number from 1 to 10000/.test(error.message) && /MCP_MAX_BODY_BYTES must be a whole number/.test(error.message));
  assert.throws(() => loadConfig({ KUSTO_CLUSTERS: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/c/)' }), /KUSTO_CLUSTERS is an unresolved Key Vault reference/);
});

test('MCP_TOOLSETS is checked against the registry at start-up', () => {
  assert.deepEqual(loadConfig({ MCP_TOOLSETS: 'kusto' }).toolsets, ['kusto']);
  assert.throws(() => loadConfig({ MCP_TOOLSETS: 'server,sharepoint' }), /MCP_TOOLSETS names unknown toolsets: sharepoint\. Known: server, kusto/);
});

test('a setting declared twice, by two modules or by a module and config.ts, is refused', () => {
  const module = sharedModule([]);
  assert.deepEqual(Object.keys(mergeSettingsShapes([module], ['MCP_READ_ONLY'])), ['DEMO_URL']);
  assert.throws(() => mergeSettingsShapes([module, { ...module, name: 'other' }], []), /DEMO_URL is declared by both the toolset module demo and the toolset module other/);
  assert.throws(() => mergeSettingsShapes([module], ['DEMO_URL']), /DEMO_URL is declared by both src\/config.ts and the toolset module demo/);
});

test('an unavailable module disables every toolset it declares, with its reason', () => {
  const module = sharedModule([]);
  const unavailable = unavailableToolsets({ ...config, demo: { url: undefined } } as never, [module]);
  assert.deepEqual([...unavailable], [['demo', 'no demo URL is configured (DEMO_URL)'], ['demo.send', 'no demo URL is configured (DEMO_URL)']]);
  assert.equal(unavailableToolsets({ ...config, demo: { url: 'https://demo' } } as never, [module]).size, 0);
  const graphOff = 'Microsoft Graph is not configured on this server (GRAPH_IDENTITY: onBehalfOf or managedIdentity)';
  assert.deepEqual([...unavailableToolsets(config)], [['kusto', 'no Kusto cluster is configured on this server (KUSTO_CLUSTERS)'], ['graph', graphOff], ['graph.send', graphOff], ['graph.admin', graphOff]]);
});

test('services are created on the first call of a tool of the module, once, and shared by its toolsets', async () => {
  const created: string[] = [];
  const module = sharedModule(created);
  const servicesFor = createToolsetServices({ ...config, demo: { url: 'https://demo' } } as never, deps, [module]);
  assert.deepEqual(created, [], 'nothing is created at start-up');
  const first = servicesFor('demo');
  assert.equal(servicesFor('demo.send'), first, 'one services object for both toolsets');
  assert.deepEqual(created, ['demo']);
  assert.throws(() => servicesFor('kusto'), /no toolset module declares the toolset "kusto"/);
});

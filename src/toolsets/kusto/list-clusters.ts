import { z } from 'zod';
import { defineKustoTool, jsonResult } from './common.ts';

const output = z.object({
  clusters: z.array(z.object({ name: z.string(), url: z.string(), defaultDatabase: z.string().optional(), isDefault: z.boolean() })),
});

export const kustoListClusters = defineKustoTool({
  name: 'kusto_list_clusters',
  title: 'List Kusto clusters',
  description:
    'List the Kusto (Azure Data Explorer / Fabric Eventhouse) clusters this server may query: name, URL and default database. ' +
    'Only these clusters can be used; pass a name as `cluster` to the other kusto_* tools. Start here when unsure which cluster holds the data.',
  summary: 'The allow-listed clusters and their default databases',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  output,
  async handler(_args, ctx) {
    const { clusters, defaultCluster } = ctx.services.settings;
    const fallback = defaultCluster ?? clusters[0]?.name;
    const data = {
      clusters: clusters.map((c) => ({ name: c.name, url: c.url, ...(c.defaultDatabase && { defaultDatabase: c.defaultDatabase }), isDefault: c.name === fallback })),
    };
    const text = [
      'name,url,defaultDatabase,isDefault',
      ...data.clusters.map((c) => `${c.name},${c.url},${c.defaultDatabase ?? ''},${c.isDefault}`),
    ].join('\n');
    return jsonResult(data, text, { target: 'kusto:clusters', resultRows: data.clusters.length });
  },
});

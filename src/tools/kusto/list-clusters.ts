import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import { jsonResult, kustoServices } from './common.ts';

const output = z.object({
  clusters: z.array(z.object({ name: z.string(), url: z.string(), defaultDatabase: z.string().optional(), isDefault: z.boolean() })),
});

export const kustoListClusters = defineTool({
  name: 'kusto_list_clusters',
  title: 'List Kusto clusters',
  description:
    'List the Kusto (Azure Data Explorer / Fabric Eventhouse) clusters this server may query: name, URL and default database. ' +
    'Only these clusters can be used; pass a name as `cluster` to the other kusto_* tools. Start here when unsure which cluster holds the data.',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  output,
  async handler(_args, ctx) {
    const services = kustoServices(ctx);
    if (!services.ok) return services.result;
    const { clusters, defaultCluster } = services.value.settings;
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

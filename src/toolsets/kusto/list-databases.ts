import { z } from 'zod';
import { showDatabases } from '../../kusto/commands.ts';
import { rowObjects } from '../../kusto/frames.ts';
import { clusterArgument, defineKustoTool, jsonResult, withTarget } from './common.ts';

const output = z.object({
  cluster: z.string(),
  databases: z.array(z.object({ name: z.string(), prettyName: z.string().optional() })),
});

export const kustoListDatabases = defineKustoTool({
  name: 'kusto_list_databases',
  title: 'List Kusto databases',
  description:
    'List the databases of a Kusto cluster that this server can see. Use the names as `database` in kusto_list_tables, kusto_query and the other kusto_* tools.',
  summary: 'Databases on a cluster',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({ cluster: clusterArgument }).strict(),
  output,
  async handler(args, ctx) {
    return withTarget(
      ctx,
      args,
      async ({ kusto, cluster }) => {
        const session = kusto.session(ctx.caller);
        const clientRequestId = kusto.newRequestId('kusto_list_databases');
        // Kusto lists the databases the caller's identity may see (the app's, or the user's on behalf of them).
        // A cluster-scoped command: no database context, so a caller without access to the default database still gets the list.
        const [table] = await session.command({ cluster, database: '', command: showDatabases(), clientRequestId, signal: ctx.signal });
        const databases = rowObjects(table)
          .map((row) => ({ name: String(row.DatabaseName), ...(row.PrettyName ? { prettyName: String(row.PrettyName) } : {}) }))
          .sort((a, b) => a.name.localeCompare(b.name));
        const text = [`cluster ${cluster.name} · ${databases.length} databases`, ...databases.map((d) => (d.prettyName ? `${d.name} (${d.prettyName})` : d.name))].join('\n');
        return jsonResult({ cluster: cluster.name, databases }, text, {
          target: `kusto:${cluster.url}`,
          upstreamRequestId: clientRequestId,
          resultRows: databases.length,
          downstreamIdentity: session.identity.mode,
        });
      },
      false,
    );
  },
});

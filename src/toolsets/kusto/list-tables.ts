import { z } from 'zod';
import { clusterArgument, databaseArgument, defineKustoTool, jsonResult, withTarget } from './common.ts';

const output = z.object({
  cluster: z.string(),
  database: z.string(),
  tables: z.array(
    z.object({ name: z.string(), folder: z.string().optional(), docString: z.string().optional(), columnCount: z.number(), rowCount: z.number().optional() }),
  ),
});

export const kustoListTables = defineKustoTool({
  name: 'kusto_list_tables',
  title: 'List Kusto tables',
  description:
    'List the tables of a Kusto database with folder, description (docstring), column count and row count. ' +
    'Follow with kusto_table_schema for columns, or kusto_schema_context to find the tables relevant to a question.',
  summary: 'Tables with folder, description, column and row counts',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({ database: databaseArgument, cluster: clusterArgument }).strict(),
  output,
  async handler(args, ctx) {
    return withTarget(ctx, args, async ({ kusto, cluster, database, target }) => {
      const session = kusto.session(ctx.caller);
      const [schema, counts] = await Promise.all([
        session.schema(cluster, database),
        // Row counts are metadata (cheap), but optional: a failure only drops them.
        session.tableRowCounts(cluster, database, kusto.newRequestId('kusto_list_tables')).catch(() => new Map<string, number>()),
      ]);
      const tables = [...schema.tables.values()]
        .map((table) => ({
          name: table.name,
          ...(table.folder && { folder: table.folder }),
          ...(table.docString && { docString: table.docString }),
          columnCount: table.columns.length,
          ...(counts.has(table.name) && { rowCount: counts.get(table.name) }),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const text = [
        `cluster ${cluster.name} · database ${database} · ${tables.length} tables`,
        'name,folder,columns,rows,description',
        ...tables.map((t) => [t.name, t.folder ?? '', t.columnCount, t.rowCount ?? '', t.docString ? JSON.stringify(t.docString) : ''].join(',')),
      ].join('\n');
      return jsonResult({ cluster: cluster.name, database, tables }, text, { target, resultRows: tables.length, downstreamIdentity: session.identity.mode });
    });
  },
});

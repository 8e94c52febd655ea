import { z } from 'zod';
import { validateEntityName } from '../../kusto/identifiers.ts';
import { closeMatches } from '../../kusto/schema-cache.ts';
import { toolError } from '../../tools/define-tool.ts';
import { clusterArgument, databaseArgument, defineKustoTool, jsonResult, tableArgument, withTarget } from './common.ts';

const output = z.object({
  cluster: z.string(),
  database: z.string(),
  table: z.string(),
  folder: z.string().optional(),
  docString: z.string().optional(),
  columns: z.array(z.object({ name: z.string(), type: z.string(), docString: z.string().optional() })),
});

export const kustoTableSchema = defineKustoTool({
  name: 'kusto_table_schema',
  title: 'Kusto table schema',
  description:
    "Get a table's columns with their KQL types and descriptions. Use before writing a query so names and types are right. Served from a schema cache (no data is read).",
  summary: 'Columns with KQL types and descriptions',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({ table: tableArgument, database: databaseArgument, cluster: clusterArgument }).strict(),
  output,
  async handler(args, ctx) {
    return withTarget(ctx, args, async ({ kusto, cluster, database, target }) => {
      validateEntityName('table', args.table);
      const session = kusto.session(ctx.caller);
      let schema = await session.schema(cluster, database);
      // A table created since the last look: check the version once before saying it does not exist.
      if (!schema.tables.has(args.table)) schema = await session.refreshSchema(cluster, database);
      const table = schema.tables.get(args.table);
      if (!table) {
        const near = closeMatches(args.table, schema.tables.keys());
        return toolError({
          message: `Table "${args.table}" was not found in database "${database}".${near.length ? ` Did you mean: ${near.join(', ')}?` : ''}`,
          nextStep: 'Call kusto_list_tables and use an exact table name (names are case-sensitive).',
          errorClass: 'unknown_name',
          target,
        });
      }
      const text = [
        `${table.name}${table.docString ? ` — ${table.docString}` : ''}${table.folder ? ` (folder ${table.folder})` : ''}`,
        ...table.columns.map((c) => `${c.name}:${c.type}${c.docString ? ` — ${c.docString}` : ''}`),
      ].join('\n');
      return jsonResult(
        { cluster: cluster.name, database, table: table.name, ...(table.folder && { folder: table.folder }), ...(table.docString && { docString: table.docString }), columns: table.columns },
        text,
        { target: `${target}/${table.name}`, resultRows: table.columns.length, downstreamIdentity: session.identity.mode },
      );
    });
  },
});

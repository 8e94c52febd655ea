import { z } from 'zod';
import { rankSchema } from '../../kusto/rank.ts';
import { clusterArgument, databaseArgument, defineKustoTool, jsonResult, withTarget } from './common.ts';

const column = z.object({ name: z.string(), type: z.string(), docString: z.string().optional(), score: z.number() });
const output = z.object({
  cluster: z.string(),
  database: z.string(),
  question: z.string(),
  tables: z.array(
    z.object({ name: z.string(), folder: z.string().optional(), docString: z.string().optional(), score: z.number(), columnCount: z.number(), columns: z.array(column) }),
  ),
});

export const kustoSchemaContext = defineKustoTool({
  name: 'kusto_schema_context',
  title: 'Find tables for a question',
  description:
    'Given a natural-language question, return the most relevant tables of a database with their relevant columns, types and descriptions, ranked by matching names and docstrings. ' +
    'Use it before writing KQL for an unfamiliar database; only use tables and columns it (or kusto_table_schema) returns. Reads only the cached schema.',
  summary: 'The tables and columns most relevant to a question',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z
    .object({
      question: z.string().min(3).max(2000).describe('What you want to find out, in plain words.'),
      database: databaseArgument,
      cluster: clusterArgument,
      maxTables: z.number().int().min(1).max(20).default(5).describe('How many tables to return (default 5).'),
    })
    .strict(),
  output,
  async handler(args, ctx) {
    return withTarget(ctx, args, async ({ kusto, cluster, database, target }) => {
      const session = kusto.session(ctx.caller);
      const schema = await session.schema(cluster, database);
      const tables = rankSchema(schema, args.question, args.maxTables);
      const text =
        tables.length === 0
          ? `No table in ${database} matches the words of the question. Call kusto_list_tables to browse all ${schema.tables.size} tables.`
          : [
              `cluster ${cluster.name} · database ${database} · ${tables.length} most relevant of ${schema.tables.size} tables`,
              ...tables.flatMap((table) => [
                `${table.name}${table.docString ? ` — ${table.docString}` : ''}${table.columns.length < table.columnCount ? ` (${table.columns.length} of ${table.columnCount} columns)` : ''}`,
                ...table.columns.map((c) => `  ${c.name}:${c.type}${c.docString ? ` — ${c.docString}` : ''}`),
              ]),
            ].join('\n');
      return jsonResult({ cluster: cluster.name, database, question: args.question, tables }, text, { target, resultRows: tables.length, downstreamIdentity: session.identity.mode });
    });
  },
});

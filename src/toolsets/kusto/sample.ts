import { z } from 'zod';
import { bracketName } from '../../kusto/identifiers.ts';
import { clusterArgument, databaseArgument, defineKustoTool, tableArgument, withTarget } from './common.ts';
import { queryOutputSchema, runReadOnlyQuery } from './run-query.ts';

export const kustoSample = defineKustoTool({
  name: 'kusto_sample',
  title: 'Sample Kusto table rows',
  description:
    'Return a few rows of a table (default 10, at most 100) with column types, to see what the data looks like before writing a query. Rows are arbitrary, not the newest.',
  summary: 'A few rows of a table',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z
    .object({
      table: tableArgument,
      database: databaseArgument,
      cluster: clusterArgument,
      rows: z.number().int().min(1).max(100).default(10).describe('How many rows (1-100).'),
    })
    .strict(),
  output: queryOutputSchema,
  async handler(args, ctx) {
    return withTarget(ctx, args, async (target) => {
      const text = `${bracketName('table', args.table)}\n| take ${args.rows}`;
      return runReadOnlyQuery(
        target,
        {
          tool: 'kusto_sample',
          text,
          maxRows: args.rows,
          timeoutSeconds: target.kusto.settings.defaultTimeoutSeconds,
          includeStats: false,
        },
        ctx,
      );
    });
  },
});

import { z } from 'zod';
import { bindParameters, parametersSchema } from '../../kusto/parameters.ts';
import { checkUserQuery } from '../../kusto/read-only-check.ts';
import { splitStatements } from '../../kusto/statements.ts';
import { toolError } from '../../tools/define-tool.ts';
import { clusterArgument, databaseArgument, defineKustoTool, resolveTarget } from './common.ts';
import { queryOutputSchema, runReadOnlyQuery } from './run-query.ts';

export const kustoQuery = defineKustoTool({
  name: 'kusto_query',
  title: 'Run a read-only KQL query',
  description:
    'Run a read-only KQL query against a Kusto database and get typed, compact results (column types once, then CSV rows). ' +
    'Results are capped (maxRows, default 100) and the answer always says when rows were cut and how many the full query returns. ' +
    'Prefer summarize/count/top and a time filter over raw rows. Put user-supplied values in `parameters` and refer to them by name ' +
    '(declared for you as query_parameters), never by pasting them into the query. Management commands (starting with "."), #-directives and `set` statements ' +
    '(except query_now and a few other harmless ones) are refused. Several statements return several result tables.',
  summary: 'Read-only KQL with parameters, budgets, timeout and statistics',
  toolset: 'kusto',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z
    .object({
      query: z.string().min(1).max(100_000).describe('KQL query text; `let` statements, comments and multiple statements are fine.'),
      database: databaseArgument,
      cluster: clusterArgument,
      parameters: parametersSchema
        .optional()
        .describe('Values for names used in the query, e.g. {"state": "TEXAS", "since": "2007-06-01T00:00:00Z", "n": 10}. Types are inferred (string, long, real, bool, datetime); use {"type":"timespan","value":"1h"} to be explicit.'),
      maxRows: z.number().int().min(1).max(10_000).default(100).describe('Most rows to return (default 100; the server caps it).'),
      timeoutSeconds: z.number().int().min(1).max(220).optional().describe('Server-side time limit; the query is cancelled when it runs out.'),
      includeStats: z.boolean().default(false).describe('Add execution time, CPU, memory and rows/extents scanned.'),
    })
    .strict(),
  output: queryOutputSchema,
  sensitiveArguments: ['parameters'],
  async handler(args, ctx) {
    const resolved = resolveTarget(ctx, args);
    if (!resolved.ok) return resolved.result;
    const target = resolved.value;
    const { settings } = target.kusto;
    const refuse = (message: string, nextStep: string) => toolError({ message, nextStep, errorClass: 'query_refused', target: target.target });

    if (splitStatements(args.query).length === 0) return refuse('The query is empty (only whitespace or comments).', 'Send a KQL query such as `T | take 10`.');
    // The gateway checks again before sending; checking here first keeps the refusal free of any I/O.
    const refusal = checkUserQuery(args.query);
    if (refusal) return refuse(refusal.reason, refusal.nextStep);
    const timeoutSeconds = Math.min(args.timeoutSeconds ?? settings.defaultTimeoutSeconds, settings.maxTimeoutSeconds);
    let bound;
    try {
      bound = args.parameters ? bindParameters(args.parameters) : undefined;
    } catch (error) {
      return toolError({ message: (error as Error).message, nextStep: 'Fix the parameter value or give its type explicitly.', errorClass: 'invalid_arguments', target: target.target });
    }
    return runReadOnlyQuery(
      target,
      {
        tool: 'kusto_query',
        text: bound ? `${bound.declaration}\n${args.query}` : args.query,
        ...(bound && { parameters: bound.values }),
        maxRows: Math.min(args.maxRows, settings.maxRows),
        timeoutSeconds,
        includeStats: args.includeStats,
      },
      ctx,
    );
  },
});

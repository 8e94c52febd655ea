import { z } from 'zod';
import { classifyKustoError, kustoErrorResult, unresolvedName } from '../../kusto/errors.ts';
import { formatStats, plainValue, renderHeader } from '../../kusto/format.ts';
import { isTruncation, type QueryResult } from '../../kusto/frames.ts';
import { KustoRequestError } from '../../kusto/request-error.ts';
import { planTables, truncationText, type Budget, type TablePlan } from '../../kusto/result-budget.ts';
import { unknownNameHints } from '../../kusto/schema-cache.ts';
import { countQuery, isTabular, splitStatements } from '../../kusto/statements.ts';
import type { KustoSession } from '../../kusto/services.ts';
import type { ToolContext, ToolResult } from '../../tools/define-tool.ts';
import { requestDescription, type KustoTarget } from './common.ts';

/** Bytes the engine may return at most: bounds our memory whatever the query does. */
const ENGINE_MAX_BYTES = 16 * 1_048_576;
const COUNT_TIMEOUT_SECONDS = 10;

const columnsSchema = z.array(z.object({ name: z.string(), type: z.string() }));

const tableOutput = z.object({
  name: z.string(),
  columns: columnsSchema,
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().describe('Rows of this table in the result'),
  totalRows: z.number().optional().describe('Rows the statement returns in full, when known'),
  truncated: z.boolean(),
  truncation: z.string().optional(),
});

export const queryOutputSchema = z.object({
  cluster: z.string(),
  database: z.string(),
  columns: columnsSchema.describe('Columns of the first result table'),
  rows: z.array(z.array(z.unknown())).describe('Rows of the first result table'),
  rowCount: z.number().describe('Rows of the first result table in this result'),
  totalRows: z.number().optional().describe('Rows the first statement returns in full, when known'),
  truncated: z.boolean().describe('Whether any result table was cut (rows, bytes or long values)'),
  truncation: z.string().optional().describe('What was cut in the first result table and what to do about it'),
  moreTables: z.array(tableOutput).optional().describe('The result tables after the first (queries with several statements), each with its own budget and truncation'),
  partialErrors: z.array(z.string()).optional(),
  stats: z
    .object({
      executionTimeSeconds: z.number().optional(),
      cpuTotal: z.string().optional(),
      memoryPeakPerNodeBytes: z.number().optional(),
      extentsScanned: z.number().optional(),
      extentsTotal: z.number().optional(),
      rowsScanned: z.number().optional(),
      rowsTotal: z.number().optional(),
    })
    .optional(),
  clientRequestId: z.string(),
});

export interface ReadOnlyQuery {
  tool: string;
  /** Final text sent (parameters declared in front). */
  text: string;
  parameters?: Record<string, string | number>;
  maxRows: number;
  timeoutSeconds: number;
  includeStats: boolean;
}

interface RenderedTable {
  plan: TablePlan;
  totalRows?: number;
  truncation?: string;
}

/**
 * Runs user KQL read-only with budgets: the gateway's read-only check and
 * confinement, engine-side truncation plus our own row, byte and cell cuts
 * per result table, a deadline with cancellation, and a result that always
 * says whether, where and why it was cut.
 */
export async function runReadOnlyQuery(target: KustoTarget, query: ReadOnlyQuery, ctx: ToolContext): Promise<ToolResult> {
  const { kusto, cluster, database } = target;
  const clientRequestId = kusto.newRequestId(query.tool);
  let session: KustoSession;
  try {
    // Every request of this call goes out as the call's downstream identity.
    session = kusto.session(ctx.caller);
  } catch (error) {
    return failure(error, target, query, clientRequestId, undefined);
  }
  const statements = splitStatements(query.text);
  const engineRecords = (query.maxRows + 1) * Math.max(1, statements.filter(isTabular).length);
  const options = {
    // One row beyond the budget per result table tells us a table was cut.
    truncationmaxrecords: engineRecords,
    query_take_max_records: engineRecords,
    truncationmaxsize: ENGINE_MAX_BYTES,
    request_app_name: kusto.appName,
    request_description: requestDescription(query.tool, ctx.caller, ctx.requestId, ctx.traceId),
  };
  let result: QueryResult;
  ctx.progress(`query running on ${cluster.name}/${database} (time limit ${query.timeoutSeconds} s)`);
  try {
    result = await session.query({
      cluster,
      database,
      text: query.text,
      clientRequestId,
      options,
      parameters: query.parameters,
      signal: ctx.signal,
      timeoutMs: query.timeoutSeconds * 1000,
      user: ctx.caller.upn ?? ctx.caller.name ?? ctx.caller.objectId,
    });
  } catch (error) {
    return failure(error, target, query, clientRequestId, session);
  }

  const budget: Budget = { maxRows: query.maxRows, maxRowsCap: kusto.settings.maxRows, maxBytes: kusto.settings.maxResultBytes };
  const tables = result.primary.length > 0 ? result.primary : [{ name: 'PrimaryResult', columns: [], rows: [] }];
  const plans = planTables(tables, result.partialErrors, budget);
  // A count per cut table needs to know which statement made it: one table per tabular statement.
  const tabularIndexes = statements.flatMap((statement, i) => (isTabular(statement) ? [i] : []));
  const statementOf = (index: number) => (tables.length === tabularIndexes.length ? (tabularIndexes[index] ?? -1) : -1);
  const rendered: RenderedTable[] = [];
  for (const [index, plan] of plans.entries()) {
    const totalRows = plan.rowLimited ? await countRows(session, target, query, statements, statementOf(index), ctx) : plan.table.rows.length;
    const truncation = truncationText(plan, totalRows, budget);
    rendered.push({ plan, ...(totalRows !== undefined && { totalRows }), ...(truncation && { truncation }) });
  }
  // Truncation is told per table; other partial failures are told once.
  const otherErrors = result.partialErrors.filter((error) => !isTruncation(error)).map((error) => error.message);
  const truncated = rendered.some((table) => table.plan.truncated);
  const shownRows = rendered.reduce((sum, table) => sum + table.plan.rendered.shown, 0);

  const summary = (table: RenderedTable) => table.truncation ?? `${table.plan.rendered.shown} row${table.plan.rendered.shown === 1 ? '' : 's'}`;
  const head = `cluster ${cluster.name} · database ${database} · ${rendered.length === 1 ? summary(rendered[0] as RenderedTable) : `${rendered.length} result tables`}`;
  const lines = [head, ...otherErrors.map((message) => `partial failure (results may be incomplete): ${message.slice(0, 500)}`)];
  for (const [index, table] of rendered.entries()) {
    if (rendered.length > 1) lines.push(`table ${index + 1} (${table.plan.table.name || 'PrimaryResult'}) · ${summary(table)}`);
    lines.push(renderHeader(table.plan.table.columns), ...table.plan.rendered.lines);
  }
  const statsLine = query.includeStats ? formatStats(result.stats) : undefined;
  if (statsLine) lines.push(statsLine);

  const [first, ...more] = rendered.map(tableData) as [ReturnType<typeof tableData>, ...Array<ReturnType<typeof tableData>>];
  const structured: z.infer<typeof queryOutputSchema> = {
    cluster: cluster.name,
    database,
    columns: first.columns,
    rows: first.rows,
    rowCount: first.rowCount,
    ...(first.totalRows !== undefined && { totalRows: first.totalRows }),
    truncated,
    ...(first.truncation && { truncation: first.truncation }),
    ...(more.length > 0 && { moreTables: more }),
    ...(otherErrors.length > 0 && { partialErrors: otherErrors }),
    ...(query.includeStats && result.stats && { stats: result.stats }),
    clientRequestId,
  };
  return {
    content: [{ type: 'text', text: lines.join('\n') }],
    structuredContent: structured,
    audit: { target: target.target, upstreamRequestId: clientRequestId, resultRows: shownRows, truncated, queryText: query.text, downstreamIdentity: session.identity.mode },
  };
}

function tableData({ plan, totalRows, truncation }: RenderedTable): z.infer<typeof tableOutput> {
  const { table, rendered, cellChars } = plan;
  return {
    name: table.name || 'PrimaryResult',
    columns: table.columns,
    rows: table.rows.slice(0, rendered.shown).map((row) => table.columns.map((column, i) => plainValue(row[i], column.type, cellChars))),
    rowCount: rendered.shown,
    ...(totalRows !== undefined && { totalRows }),
    truncated: plan.truncated,
    ...(truncation && { truncation }),
  };
}

/**
 * Exact row count of one statement's full result, when a quick count can
 * tell: undefined when the statement cannot be counted on its own, or the
 * count does not come back as one `Count` value.
 */
async function countRows(session: KustoSession, target: KustoTarget, query: ReadOnlyQuery, statements: ReturnType<typeof splitStatements>, statementIndex: number, ctx: ToolContext): Promise<number | undefined> {
  const text = statementIndex >= 0 ? countQuery(statements, statementIndex, query.text) : undefined;
  if (!text) return undefined;
  ctx.progress(`the result was cut at ${query.maxRows} rows; counting the full result`);
  try {
    const result = await session.query({
      cluster: target.cluster,
      database: target.database,
      text,
      clientRequestId: target.kusto.newRequestId(`${query.tool}.count`),
      options: { request_app_name: target.kusto.appName, truncationmaxrecords: 10 },
      parameters: query.parameters,
      signal: ctx.signal,
      timeoutMs: COUNT_TIMEOUT_SECONDS * 1000,
    });
    const [table, ...others] = result.primary;
    const onlyCount = table && others.length === 0 && table.columns.length === 1 && table.columns[0]?.name === 'Count' && table.rows.length === 1;
    const count = onlyCount ? Number(table.rows[0]?.[0]) : NaN;
    return Number.isSafeInteger(count) && count >= 0 && result.partialErrors.length === 0 ? count : undefined;
  } catch {
    return undefined; // "more than N" is still honest
  }
}

async function failure(error: unknown, target: KustoTarget, query: ReadOnlyQuery, clientRequestId: string, session: KustoSession | undefined): Promise<ToolResult> {
  let nameHints: string[] | undefined;
  if (session && error instanceof KustoRequestError && classifyKustoError(error) === 'unknown_name') {
    const name = unresolvedName(error.message);
    try {
      // A missing name may mean the schema changed: check the version once, then hint from the schema.
      const schema = await session.refreshSchema(target.cluster, target.database);
      if (name) nameHints = unknownNameHints(schema, name);
    } catch {
      // Hints are a bonus; the error itself still goes back.
    }
  }
  const result = kustoErrorResult(error, {
    target: target.target,
    database: target.database,
    nameHints,
    timeoutSeconds: query.timeoutSeconds,
    maxTimeoutSeconds: target.kusto.settings.maxTimeoutSeconds,
  });
  if (result.audit) {
    result.audit.upstreamRequestId ??= clientRequestId;
    result.audit.queryText = query.text;
  }
  return result;
}

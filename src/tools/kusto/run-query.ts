import { z } from 'zod';
import { kustoErrorResult, unresolvedName } from '../../kusto/errors.ts';
import { formatStats, plainValue, renderHeader, renderRows } from '../../kusto/format.ts';
import type { KustoTable, QueryStats } from '../../kusto/frames.ts';
import { KustoRequestError } from '../../kusto/gateway.ts';
import { closeMatches } from '../../kusto/schema-cache.ts';
import { countQuery, type Statement } from '../../kusto/statements.ts';
import type { ToolContext, ToolResult } from '../define-tool.ts';
import { requestDescription, type KustoTarget } from './common.ts';

/** Bytes the engine may return at most: bounds our memory whatever the query does. */
const ENGINE_MAX_BYTES = 16 * 1_048_576;
const COUNT_TIMEOUT_SECONDS = 10;

/**
 * Sent with every user query. Read-only (hardline also turns off plugins that
 * cannot guarantee it), and no reaching out from the cluster: no other
 * clusters (`cluster('…')`), no `externaldata` URLs, no callouts such as
 * `http_request`, so a query cannot make the cluster fetch from or leak to
 * places the allow-list does not name.
 */
const CONFINEMENT_OPTIONS = {
  request_readonly: true,
  request_readonly_hardline: true,
  request_remote_entities_disabled: true,
  request_external_data_disabled: true,
  request_callout_disabled: true,
} as const;

export const queryOutputSchema = z.object({
  cluster: z.string(),
  database: z.string(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().describe('Rows in this result'),
  totalRows: z.number().optional().describe('Rows the full query returns, when known'),
  truncated: z.boolean(),
  truncation: z.string().optional(),
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
  statements: readonly Statement[];
  /** Final text sent (parameters declared in front). */
  text: string;
  parameters?: Record<string, string | number>;
  maxRows: number;
  timeoutSeconds: number;
  includeStats: boolean;
}

const isTruncationError = (message: string) => /E_QUERY_RESULT_SET_TOO_LARGE|exceeded the internal (record count|data size) limit/i.test(message);

/**
 * Runs user KQL read-only with budgets: the query endpoint only, read-only
 * request properties the query text cannot override, engine-side truncation
 * plus our own byte cut, a server timeout with cancellation, and a result
 * that always says whether and why it was cut.
 */
export async function runReadOnlyQuery(target: KustoTarget, query: ReadOnlyQuery, ctx: ToolContext): Promise<ToolResult> {
  const { kusto, cluster, database } = target;
  const clientRequestId = kusto.newRequestId(query.tool);
  const options = {
    ...CONFINEMENT_OPTIONS,
    // Milliseconds: the SDK writes them as a timespan and sets its own client timeout a little above.
    servertimeout: query.timeoutSeconds * 1000,
    // One row beyond the budget tells us the result was cut.
    truncationmaxrecords: query.maxRows + 1,
    query_take_max_records: query.maxRows + 1,
    truncationmaxsize: ENGINE_MAX_BYTES,
    request_app_name: kusto.appName,
    request_description: requestDescription(query.tool, ctx.caller, ctx.requestId),
  };
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout((query.timeoutSeconds + 5) * 1000)]);
  let table: KustoTable;
  let partialErrors: string[];
  let stats: QueryStats | undefined;
  ctx.progress(`query running on ${cluster.name}/${database} (time limit ${query.timeoutSeconds} s)`);
  try {
    const result = await kusto.gateway.query({
      cluster,
      database,
      text: query.text,
      clientRequestId,
      options,
      parameters: query.parameters,
      signal,
      user: ctx.caller.name ?? ctx.caller.objectId,
    });
    table = result.primary[0] ?? { name: 'PrimaryResult', columns: [], rows: [] };
    partialErrors = result.partialErrors.map((error) => error.message);
    stats = result.stats;
  } catch (error) {
    return failure(error, target, query, clientRequestId);
  }

  const rowLimited = table.rows.length > query.maxRows || partialErrors.some(isTruncationError);
  const rendered = renderRows(table, query.maxRows, kusto.settings.maxResultBytes);
  const byteLimited = rendered.shown < Math.min(query.maxRows, table.rows.length);
  const truncated = rowLimited || byteLimited;
  const totalRows = rowLimited ? await countRows(target, query, ctx) : truncated ? table.rows.length : rendered.shown;
  const otherErrors = partialErrors.filter((message) => !isTruncationError(message));

  const of = totalRows !== undefined ? `${rendered.shown.toLocaleString('en-US')} of ${totalRows.toLocaleString('en-US')}` : `${rendered.shown.toLocaleString('en-US')} of more than ${query.maxRows.toLocaleString('en-US')}`;
  const truncation = !truncated
    ? undefined
    : byteLimited && !rowLimited
      ? `showing ${of} rows: the ${kusto.settings.maxResultBytes.toLocaleString('en-US')}-byte result budget was reached; project fewer or shorter columns (e.g. substring()) or summarize`
      : `showing ${of} rows (maxRows ${query.maxRows}); add filters, summarize, or project fewer columns${query.maxRows < kusto.settings.maxRows ? `, or raise maxRows (at most ${kusto.settings.maxRows})` : ''}`;
  const lines = [
    `cluster ${cluster.name} · database ${database} · ${truncation ?? `${rendered.shown} row${rendered.shown === 1 ? '' : 's'}`}`,
    ...otherErrors.map((message) => `partial failure (results may be incomplete): ${message.slice(0, 500)}`),
    renderHeader(table.columns),
    ...rendered.lines,
  ];
  const statsLine = query.includeStats ? formatStats(stats) : undefined;
  if (statsLine) lines.push(statsLine);
  const structured: z.infer<typeof queryOutputSchema> = {
    cluster: cluster.name,
    database,
    columns: table.columns,
    rows: table.rows.slice(0, rendered.shown).map((row) => table.columns.map((column, i) => plainValue(row[i], column.type))),
    rowCount: rendered.shown,
    ...(totalRows !== undefined && { totalRows }),
    truncated,
    ...(truncation && { truncation }),
    ...(otherErrors.length > 0 && { partialErrors: otherErrors }),
    ...(query.includeStats && stats && { stats }),
    clientRequestId,
  };
  return {
    content: [{ type: 'text', text: lines.join('\n') }],
    structuredContent: structured,
    audit: { target: target.target, upstreamRequestId: clientRequestId, resultRows: rendered.shown, truncated, queryText: query.text },
  };
}

/** Exact row count of the full result, when a quick count can tell; undefined otherwise. */
async function countRows(target: KustoTarget, query: ReadOnlyQuery, ctx: ToolContext): Promise<number | undefined> {
  const text = countQuery(query.statements);
  if (!text) return undefined;
  ctx.progress(`the result was cut at ${query.maxRows} rows; counting the full result`);
  const parameterDeclaration = query.text.startsWith('declare query_parameters') ? `${query.text.slice(0, query.text.indexOf(';') + 1)}\n` : '';
  try {
    const result = await target.kusto.gateway.query({
      cluster: target.cluster,
      database: target.database,
      text: `${parameterDeclaration}${text}`,
      clientRequestId: target.kusto.newRequestId(`${query.tool}.count`),
      options: { ...CONFINEMENT_OPTIONS, servertimeout: COUNT_TIMEOUT_SECONDS * 1000, request_app_name: target.kusto.appName },
      parameters: query.parameters,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout((COUNT_TIMEOUT_SECONDS + 2) * 1000)]),
    });
    const count = Number(result.primary[0]?.rows[0]?.[0]);
    return Number.isFinite(count) && result.partialErrors.length === 0 ? count : undefined;
  } catch {
    return undefined; // "more than N" is still honest
  }
}

async function failure(error: unknown, target: KustoTarget, query: ReadOnlyQuery, clientRequestId: string): Promise<ToolResult> {
  let suggestions: string[] | undefined;
  if (error instanceof KustoRequestError && (error.code === 'SEM0100' || /Failed to resolve/i.test(error.message))) {
    const name = unresolvedName(error.message);
    try {
      // A missing name may mean the schema changed: check the version once, then suggest close names.
      const schema = await target.kusto.schemas.refresh(target.cluster, target.database);
      const names = [...schema.tables.keys(), ...[...schema.tables.values()].flatMap((t) => t.columns.map((c) => c.name))];
      if (name) suggestions = closeMatches(name, new Set(names));
    } catch {
      // Suggestions are a bonus; the error itself still goes back.
    }
  }
  const result = kustoErrorResult(error, {
    target: target.target,
    database: target.database,
    suggestions,
    timeoutSeconds: query.timeoutSeconds,
    maxTimeoutSeconds: target.kusto.settings.maxTimeoutSeconds,
  });
  if (result.audit) {
    result.audit.upstreamRequestId ??= clientRequestId;
    result.audit.queryText = query.text;
  }
  return result;
}

import { toolError, type ToolResult } from '../tools/define-tool.ts';
import { KustoCancelledError, KustoRequestError } from './gateway.ts';
import { InvalidIdentifierError } from './identifiers.ts';

/**
 * Turns any Kusto failure into a tool result a model can act on: a class,
 * the service's own message (with line and column for syntax errors), the
 * request id to quote, and one concrete next step.
 */

export interface ErrorContext {
  target: string;
  database: string;
  /** Names near the unknown one, from the schema cache (filled by the caller). */
  suggestions?: readonly string[];
  timeoutSeconds?: number;
  maxTimeoutSeconds?: number;
}

/** The entity named in SEM0100-style "Failed to resolve … named 'X'" messages. */
export function unresolvedName(message: string): string | undefined {
  return /named '([^']+)'/.exec(message)?.[1];
}

function firstLine(message: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

export function kustoErrorResult(error: unknown, context: ErrorContext): ToolResult {
  const base = { target: context.target };
  if (error instanceof InvalidIdentifierError) {
    return toolError({ ...base, message: error.message, nextStep: 'Use an exact name from kusto_list_tables.', errorClass: 'invalid_arguments' });
  }
  if (error instanceof KustoCancelledError) {
    return toolError({
      ...base,
      message: `The query did not finish within ${context.timeoutSeconds ?? '?'} seconds and was cancelled on the cluster.`,
      nextStep: `Narrow the time range, filter earlier, or summarize; or raise timeoutSeconds (at most ${context.maxTimeoutSeconds ?? '?'}).`,
      errorClass: 'timeout',
      upstreamRequestId: error.clientRequestId || undefined,
    });
  }
  if (!(error instanceof KustoRequestError)) {
    return toolError({
      ...base,
      message: `Kusto call failed: ${firstLine((error as Error).message ?? String(error))}`,
      nextStep: 'Retry once; if it fails again, report the time of the call to the operators.',
      errorClass: 'upstream_error',
    });
  }
  const upstreamRequestId = error.clientRequestId;
  const message = firstLine(error.message);
  const code = error.code;
  const result = (errorClass: string, nextStep: string, text = message) => toolError({ ...base, message: text, nextStep, errorClass, upstreamRequestId });

  if (error.status === undefined) {
    return result('unreachable', `Check that ${context.target.split('/').slice(0, 3).join('/')} is reachable from the server; retry later.`, `The cluster could not be reached (${code}): ${message}`);
  }
  if (error.status === 429) {
    const wait = error.retryAfterSeconds ?? 10;
    return result('throttled', `Wait ${wait} seconds, then retry; reduce concurrency or narrow the query.`, `Kusto throttled the request (HTTP 429): ${message}`);
  }
  if (error.status === 401) {
    return result('unauthenticated', "The server's managed identity was not accepted; an operator must check its token audience and tenant.", `Kusto rejected the server's credentials (HTTP 401): ${message}`);
  }
  if (error.status === 403) {
    return result(
      'permission_denied',
      `Ask an operator to grant this server's identity the Viewer role on database "${context.database}" (or check the database name).`,
      `Access denied (HTTP 403): ${message}`,
    );
  }
  if (error.status === 504 || /\btimed out\b|\btimeout (expired|exceeded)\b/i.test(message)) {
    return result('timeout', `Narrow the time range, filter earlier, or summarize; or raise timeoutSeconds (at most ${context.maxTimeoutSeconds ?? '?'}).`);
  }
  if (/E_QUERY_RESULT_SET_TOO_LARGE|E_LOW_MEMORY|80DA0003|LimitsExceeded/i.test(`${code} ${message}`)) {
    return result('result_too_large', 'Return less: add filters, summarize, or project fewer columns.');
  }
  if (/read-?only|readonly/i.test(message)) {
    return result('read_only', 'This server only runs read-only queries; rewrite the request as a query.');
  }
  if (/^SYN|Syntax error/i.test(code) || /Syntax error/i.test(message)) {
    return result('syntax_error', 'Fix the KQL syntax at the position given and run the query again.');
  }
  if (code === 'SEM0100' || /Failed to resolve/i.test(message)) {
    const name = unresolvedName(message);
    const hint = context.suggestions?.length ? ` Did you mean: ${context.suggestions.join(', ')}?` : '';
    return result(
      'unknown_name',
      `Check the names with kusto_table_schema or kusto_list_tables and correct "${name ?? 'the name'}".`,
      `${message}${hint}`,
    );
  }
  if (/^SEM|Semantic error/i.test(`${code} ${message}`)) {
    return result('semantic_error', 'Fix the query (types, operators or names) as the message says, then run it again.');
  }
  if (error.status === 404) {
    return result('not_found', `Check the database name with kusto_list_databases; "${context.database}" was not found.`);
  }
  if (error.status === 400) {
    return result('bad_request', 'Correct the query as the message says and run it again.');
  }
  return result('upstream_error', error.permanent === false ? 'Retry in a few seconds.' : 'Retry once; if it fails again, report the request id to the operators.', `Kusto error (HTTP ${error.status}): ${message}`);
}

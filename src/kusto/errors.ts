import { ClaimsChallengeError, onBehalfOfErrorIn, type OnBehalfOfError } from '../azure/on-behalf-of.ts';
import { CallAbortedError } from '../core/abort.ts';
import { BackendBusyError } from '../core/limiter.ts';
import { toolError, type ToolResult } from '../tools/define-tool.ts';
import { InvalidIdentifierError } from './identifiers.ts';
import { identityErrorIn, KustoCancelledError, KustoCredentialError, KustoQueryRefusedError, KustoRequestError } from './request-error.ts';

/**
 * Turns any Kusto failure into a tool result a model can act on: a class,
 * the service's own message (with line and position for syntax errors),
 * the request id to quote, and one concrete next step.
 *
 * Classification is code-first: the HTTP status where it is decisive
 * (401, 403, 429, 504), then the Kusto error code, and only then the
 * message text, so a message that merely mentions a word (a column named
 * `IsReadOnly`) cannot change the class.
 */

export interface ErrorContext {
  target: string;
  database: string;
  /** Hints from the schema cache for an unknown name ("Did you mean", "is a column of table X"). */
  nameHints?: readonly string[];
  timeoutSeconds?: number;
  maxTimeoutSeconds?: number;
}

export type KustoErrorClass =
  | 'unreachable'
  | 'throttled'
  | 'unauthenticated'
  | 'permission_denied'
  | 'timeout'
  | 'result_too_large'
  | 'read_only'
  | 'syntax_error'
  | 'unknown_name'
  | 'unknown_database'
  | 'semantic_error'
  | 'not_found'
  | 'bad_request'
  | 'upstream_error';

/** Kusto codes (inner error first) and what they mean. Prefix entries end with `*`. */
const CODE_CLASSES: ReadonlyArray<[pattern: string, errorClass: KustoErrorClass]> = [
  ['SEM0100', 'unknown_name'],
  ['SYN*', 'syntax_error'],
  ['SEM*', 'semantic_error'],
  ['BadRequest_DatabaseNotExist', 'unknown_database'],
  ['BadRequest_EntityNotFound', 'not_found'],
  ['BadRequest_TableNotExist', 'unknown_name'],
  ['LimitsExceeded', 'result_too_large'],
  ['E_QUERY_RESULT_SET_TOO_LARGE', 'result_too_large'],
  ['E_LOW_MEMORY_CONDITION', 'result_too_large'],
  ['RequestTimeout', 'timeout'],
  ['TooManyRequests', 'throttled'],
  ['Unauthorized', 'unauthenticated'],
  ['Forbidden', 'permission_denied'],
  ['InternalServiceError', 'upstream_error'],
  ['General_InternalServerError', 'upstream_error'],
];

/** Used only when the code says nothing specific (General_BadRequest, HTTP400, a plain-text body). */
const MESSAGE_CLASSES: ReadonlyArray<[RegExp, KustoErrorClass]> = [
  [/\bSyntax error\b/i, 'syntax_error'],
  [/\bFailed to resolve\b/i, 'unknown_name'],
  [/\bDatabase '[^']*' was not found\b/i, 'unknown_database'],
  [/\bSemantic error\b/i, 'semantic_error'],
  [/\b80DA0003\b|E_QUERY_RESULT_SET_TOO_LARGE|\bexceeded the allowed limits\b/i, 'result_too_large'],
  [/\btimed out\b|\btimeout (expired|exceeded)\b/i, 'timeout'],
  [/\bread-?only\b/i, 'read_only'],
];

const matchesCode = (pattern: string, code: string) => (pattern.endsWith('*') ? code.startsWith(pattern.slice(0, -1)) : code === pattern);

/** The class of a service (or network) failure. */
export function classifyKustoError(error: KustoRequestError): KustoErrorClass {
  if (error.status === undefined) return 'unreachable';
  if (error.status === 429) return 'throttled';
  if (error.status === 401) return 'unauthenticated';
  if (error.status === 504) return 'timeout';
  const byCode = CODE_CLASSES.find(([pattern]) => matchesCode(pattern, error.code))?.[1];
  if (error.status === 403) {
    // Both carry the code Forbidden; a write refused for being read-only says so in its message.
    return /\bRequest is read-only\b|\brequest_readonly\b/i.test(error.message) ? 'read_only' : 'permission_denied';
  }
  if (byCode) return byCode;
  const byMessage = MESSAGE_CLASSES.find(([pattern]) => pattern.test(error.message))?.[1];
  if (byMessage) return byMessage;
  if (error.status === 404) return 'not_found';
  if (error.status === 400) return 'bad_request';
  return 'upstream_error';
}

/** The entity named in SEM0100-style "Failed to resolve … named 'X'" messages. */
export function unresolvedName(message: string): string | undefined {
  return /named '([^']+)'/.exec(message)?.[1];
}

function firstLine(message: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** " (line 1, position 14, at 'wher')" from the inner error's `@line`, `@pos`, `@token`. */
function location(error: KustoRequestError): string {
  const { line, position, token } = error.details;
  const parts = [line !== undefined && `line ${line}`, position !== undefined && `position ${position}`, token && `at '${token.slice(0, 80)}'`].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * The caller's token could not be obtained (on-behalf-of): nothing was
 * sent. A Conditional Access claims challenge is not a tool result: it is
 * thrown on, so the HTTP layer can answer 401 with the claims for the client
 * to sign in again with.
 */
function onBehalfOfResult(error: OnBehalfOfError, target: string): ToolResult {
  if (error instanceof ClaimsChallengeError) throw error;
  const errorClass = error.code === 'no_user' ? 'unauthenticated' : error.code === 'client_authentication_failed' ? 'credential_unavailable' : error.code;
  const result = toolError({ target, message: `${error.message} Nothing was sent to the cluster.`, nextStep: error.nextStep, errorClass });
  if (result.audit) result.audit.downstreamIdentity = 'onBehalfOf';
  return result;
}

export function kustoErrorResult(error: unknown, context: ErrorContext): ToolResult {
  const base = { target: context.target };
  const onBehalfOf = onBehalfOfErrorIn(error);
  if (onBehalfOf) return onBehalfOfResult(onBehalfOf, context.target);
  const narrow = `Narrow the time range, filter earlier, or summarize; or raise timeoutSeconds (at most ${context.maxTimeoutSeconds ?? '?'}).`;
  if (error instanceof InvalidIdentifierError) {
    return toolError({ ...base, message: error.message, nextStep: 'Use an exact name from kusto_list_tables.', errorClass: 'invalid_arguments' });
  }
  if (error instanceof BackendBusyError) {
    return toolError({ ...base, message: error.message, nextStep: `Wait ${error.retryAfterSeconds} seconds, then call the tool again.`, errorClass: 'busy' });
  }
  if (error instanceof KustoQueryRefusedError) {
    return toolError({ ...base, message: error.refusal.reason, nextStep: error.refusal.nextStep, errorClass: 'query_refused' });
  }
  if (error instanceof KustoCancelledError) {
    const messages = {
      timeout: `The query did not finish within ${context.timeoutSeconds ?? '?'} seconds and was cancelled on the cluster.`,
      client_disconnected: 'The client disconnected before the query finished, and the query was cancelled on the cluster.',
      cancelled: 'The call was cancelled by the client, and the query was cancelled on the cluster.',
    };
    const nextSteps = {
      timeout: narrow,
      client_disconnected: 'Call again if the result is still needed, and keep the connection open until the answer (long queries send progress; let it extend the request timeout).',
      cancelled: 'Run the query again if it is still needed.',
    };
    return toolError({ ...base, message: messages[error.reason], nextStep: nextSteps[error.reason], errorClass: error.reason, upstreamRequestId: error.clientRequestId || undefined });
  }
  if (error instanceof CallAbortedError) {
    // Stopped before anything was sent (waiting for a backend slot).
    return toolError({
      ...base,
      message: error.kind === 'client_disconnected' ? 'The client disconnected before the query was sent; nothing ran on the cluster.' : 'The call was cancelled by the client before the query was sent; nothing ran on the cluster.',
      nextStep: 'Call again if the result is still needed.',
      errorClass: error.kind,
    });
  }
  const identity = error instanceof KustoCredentialError ? error : identityErrorIn(error);
  if (identity) {
    return toolError({
      ...base,
      message: `The server could not get an access token from its managed identity, so nothing was sent to the cluster (${identity instanceof KustoCredentialError ? identity.identityError : identity.name}): ${firstLine(identity.message)}`,
      nextStep:
        "This is not a problem with the query or the cluster, and changing the query will not help. Retry in a minute (a passing outage of the identity endpoint clears by itself); if it keeps failing, an operator must check the server's managed identity configuration (identity enabled on the app, the configured client id).",
      errorClass: 'credential_unavailable',
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
  const message = firstLine(error.message);
  const asUser = error.details.identity === 'onBehalfOf';
  const result = (errorClass: string, nextStep: string, text = message) => {
    const failed = toolError({ ...base, message: text, nextStep, errorClass, upstreamRequestId: error.clientRequestId });
    if (failed.audit && error.details.identity) failed.audit.downstreamIdentity = error.details.identity;
    return failed;
  };
  const errorClass = classifyKustoError(error);
  const hints = context.nameHints?.length ? ` ${context.nameHints.join(' ')}` : '';
  switch (errorClass) {
    case 'unreachable':
      return result(errorClass, `Check that ${context.target.split('/').slice(0, 3).join('/')} is reachable from the server; retry later.`, `The cluster could not be reached (${error.code}): ${message}`);
    case 'throttled':
      return result(errorClass, `Wait ${error.details.retryAfterSeconds ?? 10} seconds, then retry; reduce concurrency or narrow the query.`, `Kusto throttled the request (HTTP 429): ${message}`);
    case 'unauthenticated':
      return asUser
        ? result(errorClass, 'Sign in again in your MCP client and retry; if it persists, an operator checks that the cluster accepts tokens from this tenant.', `Kusto rejected the token issued on your behalf (HTTP 401): ${message}`)
        : result(errorClass, "The server's managed identity was not accepted; an operator must check its token audience and tenant.", `Kusto rejected the server's credentials (HTTP 401): ${message}`);
    case 'permission_denied':
      // On behalf of a user, Kusto decided with the user's own roles.
      return asUser
        ? result(errorClass, `You need the Viewer role (or higher) on database "${context.database}": ask its administrator, or call kusto_list_databases to see the databases you can read.`, `Access denied to you (HTTP 403): ${message}`)
        : result(errorClass, `Ask an operator to grant this server's identity the Viewer role on database "${context.database}" (or check the database name).`, `Access denied (HTTP 403): ${message}`);
    case 'timeout':
      return result(errorClass, narrow);
    case 'result_too_large':
      return result(errorClass, 'Return less: add filters, summarize, or project fewer columns.');
    case 'read_only':
      return result(errorClass, 'This server only runs read-only queries; rewrite the request as a query.');
    case 'syntax_error':
      return result(errorClass, 'Fix the KQL syntax at the position given and run the query again.', `${message}${location(error)}`);
    case 'unknown_name': {
      const name = unresolvedName(error.message);
      return result(errorClass, `Check the names with kusto_table_schema or kusto_list_tables and correct "${name ?? 'the name'}".`, `${message}${hints}`);
    }
    case 'unknown_database':
      return result(errorClass, 'Call kusto_list_databases and pass one of its names as database.', `${message} The database "${context.database}" does not exist on this cluster (or this server cannot see it).`);
    case 'semantic_error':
      return result(errorClass, 'Fix the query (types, operators or names) as the message says, then run it again.');
    case 'not_found':
      return result(errorClass, `Check the database name with kusto_list_databases; "${context.database}" was not found.`);
    case 'bad_request':
      return result(errorClass, 'Correct the query as the message says and run it again.');
    case 'upstream_error':
      return result(
        errorClass,
        error.details.permanent === false ? 'Retry in a few seconds.' : 'Retry once; if it fails again, report the request id to the operators.',
        `Kusto error (HTTP ${error.status}): ${message}`,
      );
  }
}

/**
 * Kusto's OneApi error bodies: `{"error": {code, message, @type, @message,
 * @context, @permanent, innererror}}` for hard failures (4xx/5xx), and the
 * same `error` object inside `OneApiErrors` for partial failures (HTTP 200).
 */
import type { KqlError } from './kql-errors.ts';

export interface OneApiError {
  error: {
    code: string;
    message: string;
    '@type': string;
    '@message': string;
    '@context': Record<string, unknown>;
    '@permanent': boolean;
    innererror?: { code: string; message?: string; '@errorCode'?: string; '@errorMessage'?: string; [extra: string]: unknown };
    [extra: string]: unknown;
  };
}

export interface RequestIds {
  clientRequestId: string;
  activityId: string;
  /** Upper-cased cluster name, like the service's `serviceAlias`. */
  serviceAlias: string;
}

export interface OneApiErrorInit {
  code: string;
  message: string;
  type: string;
  detail: string;
  permanent: boolean;
  innerCode?: string;
  innerMessage?: string;
  extra?: Record<string, unknown>;
}

export function oneApiError(init: OneApiErrorInit, ids: RequestIds): OneApiError {
  return {
    error: {
      code: init.code,
      message: init.message,
      '@type': init.type,
      '@message': init.detail,
      '@context': {
        timestamp: new Date().toISOString(),
        serviceAlias: ids.serviceAlias,
        machineName: 'KEngine000000',
        processName: 'Kusto.Emulator',
        processId: process.pid,
        threadId: 1,
        clientRequestId: ids.clientRequestId,
        activityId: ids.activityId,
        subActivityId: ids.activityId,
        activityType: 'GW.Http.CallContext',
        parentActivityId: ids.activityId,
        activityStack: `(Activity stack: CRID=${ids.clientRequestId} ARID=${ids.activityId} > GW.Http.CallContext/${ids.activityId})`,
      },
      '@permanent': init.permanent,
      ...init.extra,
      ...(init.innerCode
        ? { innererror: { code: init.innerCode, message: init.innerMessage ?? init.detail, '@errorCode': init.innerCode, '@errorMessage': init.innerMessage ?? init.detail } }
        : {}),
    },
  };
}

const TYPES: Record<KqlError['kind'], string> = {
  syntax: 'Kusto.Data.Exceptions.SyntaxException',
  semantic: 'Kusto.Data.Exceptions.SemanticException',
  unsupported: 'Kusto.Data.Exceptions.KustoBadRequestException',
  request: 'Kusto.Data.Exceptions.KustoBadRequestException',
};

/**
 * 400 body for a query that was rejected (syntax, semantic, unsupported, bad
 * parameter), shaped like the service's (response-v2 docs): an outer
 * General_BadRequest, and an inner error with the specific code, type and,
 * for syntax errors, `@token`, `@line` and `@pos`.
 */
export function queryErrorBody(error: KqlError, ids: RequestIds, database: string, text: string): OneApiError {
  const body = oneApiError(
    {
      code: 'General_BadRequest',
      message: 'Request is invalid and cannot be executed.',
      type: 'Kusto.Data.Exceptions.KustoBadRequestException',
      detail: error.kind === 'semantic' ? `Request is invalid and cannot be processed: ${error.message}` : error.message,
      permanent: true,
      extra: { '@text': text, '@database': database, '@ClientRequestLogger': '' },
    },
    ids,
  );
  if (error.kind === 'request') return body;
  body.error.innererror = {
    code: error.code,
    message: error.detail,
    '@type': TYPES[error.kind],
    '@message': error.message,
    '@context': body.error['@context'],
    '@permanent': true,
    '@errorCode': error.code,
    '@errorMessage': error.detail,
    ...(error.location && { '@token': error.location.token, '@line': String(error.location.line), '@pos': String(error.location.position) }),
  };
  return body;
}

/** A request for a database the cluster does not have (DatabaseNotFoundException, BadRequest_DatabaseNotExist). */
export function databaseNotFoundBody(database: string, ids: RequestIds): OneApiError {
  return oneApiError(
    { code: 'BadRequest_DatabaseNotExist', message: 'Request is invalid and cannot be executed.', type: 'Kusto.Data.Exceptions.DatabaseNotFoundException', detail: `Database '${database}' was not found.`, permanent: true },
    ids,
  );
}

/**
 * The plain-text 400 the service sends for a management command on the v2
 * query endpoint (recorded: go-v2/error.txt in the shared fixtures).
 */
export function commandOnQueryEndpointText(ids: RequestIds): string {
  const timestamp = new Date().toISOString().replace('Z', '0000Z');
  return (
    "Bad request: Control commands (starting with a dot '.') do not support api_version=v2\n" +
    'Error details:\n' +
    `ClientRequestId='${ids.clientRequestId}', ActivityId='${ids.activityId}', Timestamp='${timestamp}'.`
  );
}

export function badRequestBody(detail: string, ids: RequestIds, innerCode = 'General_BadRequest'): OneApiError {
  return oneApiError(
    { code: 'General_BadRequest', message: 'Request is invalid and cannot be executed.', type: 'Kusto.Data.Exceptions.KustoBadRequestException', detail, permanent: true, innerCode },
    ids,
  );
}

export function unauthorizedBody(detail: string, ids: RequestIds): OneApiError {
  return oneApiError(
    { code: 'Unauthorized', message: 'The request is not authorized.', type: 'Kusto.Common.Svc.Exceptions.UnauthorizedOperationException', detail, permanent: true },
    ids,
  );
}

export function forbiddenBody(detail: string, ids: RequestIds): OneApiError {
  return oneApiError(
    // The wording of the service's answers (e.g. microsoft/delta-kusto#155): "Caller is not authorized to perform this action".
    { code: 'Forbidden', message: 'Caller is not authorized to perform this action', type: 'Kusto.DataNode.Exceptions.UnauthorizedDatabaseAccessException', detail, permanent: true },
    ids,
  );
}

/** A write command refused because the request is read-only (`request_readonly` / `x-ms-readonly`). */
export function readOnlyBody(verb: string, ids: RequestIds): OneApiError {
  return oneApiError(
    {
      code: 'Forbidden',
      message: 'Request is read-only and cannot modify the database.',
      type: 'Kusto.Data.Exceptions.KustoRequestDeniedException',
      detail: `Request is read-only (request_readonly=true): '${verb}' would modify the database and is denied.`,
      permanent: true,
    },
    ids,
  );
}

export function throttledBody(ids: RequestIds): OneApiError {
  return oneApiError(
    {
      code: 'TooManyRequests',
      message: 'The request was denied due to throttling.',
      type: 'Kusto.DataNode.Exceptions.ControlCommandThrottledException',
      detail: 'The request was denied due to throttling: the number of concurrent requests exceeded the limit of the workload group (E_REQUEST_THROTTLED).',
      permanent: false,
    },
    ids,
  );
}

export function timeoutBody(timeoutText: string, ids: RequestIds): OneApiError {
  return oneApiError(
    {
      code: 'RequestTimeout',
      message: 'Request timed out.',
      type: 'Kusto.Data.Exceptions.KustoRequestTimeoutException',
      detail: `Query execution has exceeded the allowed limits (80DA0001): the query did not complete within its servertimeout of ${timeoutText} (E_QUERY_TIMEOUT). Request timed out.`,
      permanent: false,
    },
    ids,
  );
}

export function internalErrorBody(ids: RequestIds): OneApiError {
  return oneApiError(
    {
      code: 'InternalServiceError',
      message: 'An internal service error occurred.',
      type: 'Kusto.Data.Exceptions.KustoServiceException',
      detail: 'Service is temporarily unavailable (injected fault). Please retry.',
      permanent: false,
    },
    ids,
  );
}

/**
 * The `error` object of a truncated result, worded as the service words it
 * today (recorded: go-v2/partialError.json): code LimitsExceeded, the
 * partial-failure type, and 80DA0003 / E_QUERY_RESULT_SET_TOO_LARGE.
 */
export function truncationError(kind: 'records' | 'size', limit: number, ids: RequestIds): OneApiError {
  const what = kind === 'records' ? `${limit} records` : `${limit} bytes`;
  return oneApiError(
    {
      code: 'LimitsExceeded',
      message: 'Request is invalid and cannot be executed.',
      type: 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException',
      detail:
        `Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of ${what}, so not all records were returned ` +
        '(E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003). See https://aka.ms/kustoquerylimits for more information and possible solutions..',
      permanent: false,
    },
    ids,
  );
}

/** The `error` object of a query stopped by `.cancel query`. */
export function cancelledError(reason: string, ids: RequestIds): OneApiError {
  return oneApiError(
    {
      code: 'QueryCancelled',
      message: 'The query was cancelled.',
      type: 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureException',
      detail: `Query execution was cancelled by '.cancel query': ${reason}`,
      permanent: false,
    },
    ids,
  );
}

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
    innererror?: { code: string; message?: string; '@errorCode'?: string; '@errorMessage'?: string };
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

/** 400 body for a query the engine rejected (syntax, semantic, unsupported, bad parameter). */
export function queryErrorBody(error: KqlError, ids: RequestIds, database: string, text: string): OneApiError {
  const type = error.kind === 'syntax' ? 'Kusto.Data.Exceptions.SyntaxException'
    : error.kind === 'semantic' ? 'Kusto.Data.Exceptions.SemanticException'
    : 'Kusto.Data.Exceptions.KustoBadRequestException';
  return oneApiError(
    {
      code: 'General_BadRequest',
      message: 'Request is invalid and cannot be executed.',
      type,
      detail: error.kind === 'request' ? error.message : `Request is invalid and cannot be processed: ${error.message}`,
      permanent: true,
      innerCode: error.code,
      innerMessage: error.message,
      extra: { '@text': text, '@database': database, '@ClientRequestLogger': '' },
    },
    ids,
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
    { code: 'Forbidden', message: 'Caller is not authorized to perform this operation.', type: 'Kusto.DataNode.Exceptions.UnauthorizedDatabaseAccessException', detail, permanent: true },
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

/** The `error` object of a truncated result (E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003). */
export function truncationError(kind: 'records' | 'size', limit: number, ids: RequestIds): OneApiError {
  const what = kind === 'records' ? 'record count' : 'data size';
  return oneApiError(
    {
      code: 'LimitsExceeded',
      message: 'Request is invalid and cannot be executed.',
      type: 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException',
      detail: `Query execution has exceeded the allowed limits (80DA0003): Query result set has exceeded the internal ${what} limit ${limit} (E_QUERY_RESULT_SET_TOO_LARGE).`,
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

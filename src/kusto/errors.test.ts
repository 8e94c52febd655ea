import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyKustoError, kustoErrorResult, type KustoErrorClass } from './errors.ts';
import { InvalidIdentifierError } from './identifiers.ts';
import { KustoCancelledError, KustoQueryRefusedError, KustoRequestError, toRequestError } from './request-error.ts';

const CONTEXT = { target: 'kusto:https://help.kusto.windows.net/Samples', database: 'Samples', timeoutSeconds: 30, maxTimeoutSeconds: 180 };
const textOf = (result: ReturnType<typeof kustoErrorResult>) => (result.content as Array<{ text: string }>)[0]?.text ?? '';

/** One row per documented class: [status, code, message, expected class, next step it must give]. */
const CASES: ReadonlyArray<[number | undefined, string, string, KustoErrorClass, RegExp]> = [
  [undefined, 'ECONNREFUSED', 'connect ECONNREFUSED', 'unreachable', /reachable from the server/],
  [429, 'TooManyRequests', 'The request was denied due to throttling.', 'throttled', /^Wait 7 seconds/],
  [401, 'Unauthorized', 'The request is not authorized.', 'unauthenticated', /managed identity was not accepted/],
  [403, 'Forbidden', "Principal 'aadapp=x' is not authorized to read database 'Samples'.", 'permission_denied', /Viewer role on database "Samples"/],
  [403, 'Forbidden', "Request is read-only (request_readonly=true): '.drop' would modify the database and is denied.", 'read_only', /rewrite the request as a query/],
  [504, 'RequestTimeout', 'Request timed out.', 'timeout', /raise timeoutSeconds \(at most 180\)/],
  [200, 'LimitsExceeded', 'Query execution has exceeded the allowed limits (80DA0003): .', 'result_too_large', /Return less/],
  [400, 'E_LOW_MEMORY_CONDITION', 'Low memory condition', 'result_too_large', /Return less/],
  [400, 'SYN0002', 'Syntax error: Query could not be parsed: SYN0002: A recognition error occurred. [line:position=1:14]', 'syntax_error', /Fix the KQL syntax/],
  [400, 'SEM0100', "Semantic error: SEM0100: 'where' operator: Failed to resolve scalar expression named 'Stat'", 'unknown_name', /correct "Stat"/],
  [400, 'BadRequest_DatabaseNotExist', "Database 'Sample' was not found.", 'unknown_database', /kusto_list_databases/],
  [400, 'SEM0002', "Semantic error: SEM0002: Cannot compare values of types string and long", 'semantic_error', /types, operators or names/],
  [404, 'HTTP404', 'Not found', 'not_found', /kusto_list_databases/],
  [400, 'General_BadRequest', 'Request is invalid and cannot be executed.', 'bad_request', /Correct the query/],
  [500, 'InternalServiceError', 'Service is temporarily unavailable.', 'upstream_error', /Retry/],
];

test('every documented error class, from its code (table-driven)', () => {
  for (const [status, code, message, expected, nextStep] of CASES) {
    const error = new KustoRequestError(status, code, message, 'app.kusto_query;1', { retryAfterSeconds: 7 });
    assert.equal(classifyKustoError(error), expected, `${status} ${code}`);
    const result = kustoErrorResult(error, CONTEXT);
    assert.equal(result.isError, true);
    assert.equal(result.audit?.errorClass, expected);
    assert.equal(result.audit?.upstreamRequestId, 'app.kusto_query;1');
    assert.match(textOf(result).split('\n').find((line) => line.startsWith('Next step: '))?.slice(11) ?? '', nextStep, `${code}: next step`);
    assert.match(textOf(result), /Upstream request id: app\.kusto_query;1/);
  }
});

test('the code decides before the message: a SEM0100 naming a column IsReadOnly is an unknown name', () => {
  const error = new KustoRequestError(400, 'SEM0100', "Semantic error: SEM0100: 'where' operator: Failed to resolve scalar expression named 'IsReadOnly'", 'id');
  assert.equal(classifyKustoError(error), 'unknown_name');
  assert.match(textOf(kustoErrorResult(error, CONTEXT)), /correct "IsReadOnly"/);
  const timedOutName = new KustoRequestError(400, 'SEM0100', "Failed to resolve scalar expression named 'TimedOut'", 'id');
  assert.equal(classifyKustoError(timedOutName), 'unknown_name');
  const truncationName = new KustoRequestError(400, 'SYN0002', "Syntax error near 'E_QUERY_RESULT_SET_TOO_LARGE'", 'id');
  assert.equal(classifyKustoError(truncationName), 'syntax_error');
});

test('messages decide only when the code is generic', () => {
  const general = (message: string) => classifyKustoError(new KustoRequestError(400, 'General_BadRequest', message, 'id'));
  assert.equal(general("Request is invalid and cannot be processed: Syntax error: SYN0002: A recognition error occurred."), 'syntax_error');
  assert.equal(general("Semantic error: SEM0100: 'table' operator: Failed to resolve table expression named 'aaa'"), 'unknown_name');
  assert.equal(general("Database 'Nope' was not found."), 'unknown_database');
  assert.equal(general('Query execution has exceeded the allowed limits (80DA0003): .'), 'result_too_large');
});

test('refusals, cancellations and bad identifiers have their own classes', () => {
  const refused = kustoErrorResult(new KustoQueryRefusedError({ reason: 'Refused: ".drop" …', nextStep: 'Use a query instead.' }), CONTEXT);
  assert.equal(refused.audit?.errorClass, 'query_refused');
  const timedOut = kustoErrorResult(new KustoCancelledError('id', 'timeout'), CONTEXT);
  assert.equal(timedOut.audit?.errorClass, 'timeout');
  assert.match(textOf(timedOut), /did not finish within 30 seconds and was cancelled on the cluster/);
  assert.equal(kustoErrorResult(new KustoCancelledError('id', 'caller'), CONTEXT).audit?.errorClass, 'cancelled');
  assert.equal(kustoErrorResult(new InvalidIdentifierError('table', "x']"), CONTEXT).audit?.errorClass, 'invalid_arguments');
  assert.equal(kustoErrorResult(new Error('boom'), CONTEXT).audit?.errorClass, 'upstream_error');
});

test('a syntax error shows where: the inner error @line, @pos and @token', () => {
  const error = toRequestError(
    {
      message: 'Request failed with status code 400',
      response: {
        status: 400,
        headers: { 'x-ms-activity-id': 'activity-1' },
        data: JSON.stringify({
          error: {
            code: 'General_BadRequest',
            message: 'Request is invalid and cannot be executed.',
            '@type': 'Kusto.Data.Exceptions.SyntaxException',
            '@message': 'Syntax error: Query could not be parsed: SYN0002: A recognition error occurred. [line:position=1:14]. Query: \'StormEvents | wher x\'',
            '@permanent': true,
            innererror: { code: 'SYN0002', '@errorCode': 'SYN0002', '@type': 'Kusto.Data.Exceptions.SyntaxException', '@token': 'wher', '@line': '1', '@pos': '14' },
          },
        }),
      },
    },
    'app.kusto_query;2',
  );
  assert.equal(error.code, 'SYN0002');
  assert.deepEqual(error.details, { type: 'Kusto.Data.Exceptions.SyntaxException', token: 'wher', line: 1, position: 14, activityId: 'activity-1', permanent: true });
  assert.match(textOf(kustoErrorResult(error, CONTEXT)), /\[line:position=1:14\].*\(line 1, position 14, at 'wher'\)\nNext step: Fix the KQL syntax/);
});

test('the gateway error mapping reads OneApi bodies, plain text, throttling and network failures', () => {
  const oneApi = toRequestError(
    { message: 'x', response: { status: 400, data: { error: { code: 'General_BadRequest', '@message': "Semantic error: SEM0100: 'table' operator: Failed to resolve table expression named 'aaa'", '@context': { activityId: 'a-1' }, innererror: { code: 'SEM0100' } } } } },
    'id',
  );
  assert.deepEqual([oneApi.status, oneApi.code, oneApi.details.activityId], [400, 'SEM0100', 'a-1']);
  const plain = toRequestError({ message: 'x', response: { status: 502, data: 'Bad gateway from a proxy', headers: {} } }, 'id');
  assert.deepEqual([plain.status, plain.code, plain.message], [502, 'HTTP502', 'Bad gateway from a proxy']);
  const throttled = toRequestError({ message: 'POST request failed with status 429 (Too Many Requests)', inner: { message: 'x', response: { status: 429, data: '{"error":{"code":"TooManyRequests","@message":"throttled"}}', headers: { 'retry-after': '3' } } } }, 'id');
  assert.deepEqual([throttled.status, throttled.code, throttled.details.retryAfterSeconds], [429, 'TooManyRequests', 3]);
  const network = toRequestError({ code: 'ECONNRESET', message: 'socket hang up' }, 'id');
  assert.deepEqual([network.status, network.code], [undefined, 'ECONNRESET']);
  assert.equal(classifyKustoError(network), 'unreachable');
});

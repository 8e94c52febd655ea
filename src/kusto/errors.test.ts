import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyKustoError, kustoErrorResult, type KustoErrorClass } from './errors.ts';
import { InvalidIdentifierError } from './identifiers.ts';
import { CallAbortedError } from '../core/abort.ts';
import { KustoCancelledError, KustoCredentialError, KustoQueryRefusedError, KustoRequestError, toKustoError, toRequestError } from './request-error.ts';

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
  assert.equal(kustoErrorResult(new KustoCancelledError('id', 'cancelled'), CONTEXT).audit?.errorClass, 'cancelled');
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

const nextStepOf = (result: ReturnType<typeof kustoErrorResult>) => textOf(result).split('\n').find((line) => line.startsWith('Next step: '))?.slice(11) ?? '';

test('client_disconnected: the client went away (not our deadline, not a cancel), with its own next step', () => {
  const gone = kustoErrorResult(new KustoCancelledError('app.kusto_query;9', 'client_disconnected'), CONTEXT);
  assert.equal(gone.audit?.errorClass, 'client_disconnected');
  assert.equal(gone.audit?.upstreamRequestId, 'app.kusto_query;9');
  assert.match(textOf(gone), /client disconnected before the query finished/);
  assert.match(nextStepOf(gone), /keep the connection open/);
  assert.doesNotMatch(textOf(gone), /did not finish within|timeoutSeconds/, 'not told as a timeout');
  // Stopped while waiting for a backend slot: nothing was sent.
  const beforeSend = kustoErrorResult(new CallAbortedError('client_disconnected'), CONTEXT);
  assert.equal(beforeSend.audit?.errorClass, 'client_disconnected');
  assert.match(textOf(beforeSend), /nothing ran on the cluster/);
  assert.equal(kustoErrorResult(new CallAbortedError('cancelled'), CONTEXT).audit?.errorClass, 'cancelled');
  // The three reasons are three classes.
  assert.deepEqual(
    (['timeout', 'client_disconnected', 'cancelled'] as const).map((reason) => kustoErrorResult(new KustoCancelledError('id', reason), CONTEXT).audit?.errorClass),
    ['timeout', 'client_disconnected', 'cancelled'],
  );
});

/** Errors shaped like @azure/identity's, as another copy of the module would throw them: recognised by name. */
function identityError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

test('credential_unavailable: the managed identity got no token; never told as an unreachable cluster', () => {
  const cases = [
    identityError('CredentialUnavailableError', 'ManagedIdentityCredential: Authentication failed. Message Attempted to use managed identity, but the endpoint is not available.'),
    identityError('AuthenticationError', 'ManagedIdentityCredential authentication failed. Status code: 500'),
    identityError('AggregateAuthenticationError', 'ChainedTokenCredential authentication failed.'),
  ];
  for (const inner of cases) {
    // As azure-kusto-data throws it: a KustoAuthenticationError with the identity error as `inner`, and no HTTP response.
    const wrapped = Object.assign(new Error(inner.message), { name: 'KustoAuthenticationError', inner, tokenProviderName: 'TokenCredentialProvider' });
    const mapped = toKustoError(wrapped, 'app.kusto_query;3');
    assert.ok(mapped instanceof KustoCredentialError, `${inner.name} maps to a credential error`);
    assert.equal(mapped.identityError, inner.name);
    for (const error of [mapped, wrapped, inner, Object.assign(new Error('outer'), { cause: inner })]) {
      const result = kustoErrorResult(error, CONTEXT);
      assert.equal(result.audit?.errorClass, 'credential_unavailable', `${inner.name} as ${error.name}`);
      assert.match(textOf(result), /could not get an access token from its managed identity/);
      assert.match(nextStepOf(result), /operator must check the server's managed identity/);
      assert.doesNotMatch(textOf(result), /reachable/i, 'does not suggest the cluster is unreachable');
      assert.equal(result.audit?.upstreamRequestId, undefined, 'nothing was sent to the cluster');
    }
  }
  // A network failure is still unreachable, and a wrapped network failure is not a credential failure.
  const network = toKustoError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'id');
  assert.ok(network instanceof KustoRequestError);
  assert.equal(kustoErrorResult(network, CONTEXT).audit?.errorClass, 'unreachable');
  const metadataDown = toKustoError(Object.assign(new Error('x'), { name: 'KustoAuthenticationError', inner: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } }), 'id');
  assert.equal(kustoErrorResult(metadataDown, CONTEXT).audit?.errorClass, 'unreachable');
});

test('on behalf of a user: exchange failures say who must act, a 403 is about the user, a claims challenge is thrown on', async () => {
  const { ClaimsChallengeError, OnBehalfOfError } = await import('../azure/on-behalf-of.ts');
  // As the Kusto SDK wraps a credential's error.
  const wrapped = (inner: Error) => Object.assign(new Error(inner.message), { name: 'KustoAuthenticationError', inner });
  const consent = kustoErrorResult(wrapped(new OnBehalfOfError('consent_required', 'Not consented (AADSTS65001).', 'An administrator grants admin consent.', 'AADSTS65001')), CONTEXT);
  assert.equal(consent.isError, true);
  assert.deepEqual([consent.audit?.errorClass, consent.audit?.downstreamIdentity], ['consent_required', 'onBehalfOf']);
  assert.match(textOf(consent), /Nothing was sent to the cluster\.\nNext step: An administrator grants admin consent\./);
  const noUser = kustoErrorResult(new OnBehalfOfError('no_user', 'An app-only caller.', 'Sign in as a user.'), CONTEXT);
  assert.equal(noUser.audit?.errorClass, 'unauthenticated');
  const broken = kustoErrorResult(new OnBehalfOfError('client_authentication_failed', 'Federated credential missing.', 'An operator fixes it.', 'AADSTS70021'), CONTEXT);
  assert.equal(broken.audit?.errorClass, 'credential_unavailable');

  const denied = new KustoRequestError(403, 'Forbidden', "Principal 'aaduser=u;t' is not authorized to read database 'Samples'.", 'crid', { identity: 'onBehalfOf' });
  const result = kustoErrorResult(denied, CONTEXT);
  assert.equal(result.audit?.errorClass, 'permission_denied');
  assert.equal(result.audit?.downstreamIdentity, 'onBehalfOf');
  assert.match(textOf(result), /Access denied to you \(HTTP 403\)/);
  assert.match(textOf(result), /You need the Viewer role \(or higher\) on database "Samples"/);
  const asApp = kustoErrorResult(new KustoRequestError(403, 'Forbidden', 'x', 'crid', { identity: 'managedIdentity' }), CONTEXT);
  assert.match(textOf(asApp), /grant this server's identity the Viewer role/);
  assert.equal(asApp.audit?.downstreamIdentity, 'managedIdentity');

  const challenge = new ClaimsChallengeError('{"access_token":{"nbf":{"essential":true,"value":"1"}}}', 'AADSTS50079');
  assert.throws(() => kustoErrorResult(wrapped(challenge), CONTEXT), (error: unknown) => error === challenge);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/identity';
import { ClaimsChallengeError, OnBehalfOfError } from '../azure/on-behalf-of.ts';
import { createCircuitBreaker } from './circuit-breaker.ts';
import { CursorRefusedError } from './cursor.ts';
import { graphEndpoint } from './endpoint.ts';
import { createGraphClientFactory } from './graph-client.ts';
import { DelegatedOnlyError, graphFailure, permissionsNamedIn, requireDelegated, safeText, type GraphErrorContext } from './graph-errors.ts';
import { GraphTimeoutError } from './middleware.ts';

const endpoint = graphEndpoint('https://graph.localhost:8443');
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJlLXBhcnQ';

/** The GraphError the real client throws for a canned answer. */
async function graphErrorFor(status: number, error: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const fetch = async () => new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json', 'request-id': 'hdr-req', ...headers } });
  const credential: TokenCredential = { getToken: async () => ({ token: JWT, expiresOnTimestamp: Date.now() + 60_000 }) };
  const factory = createGraphClientFactory({ endpoint, requestTimeoutMs: 5000, retry: { maxRetries: 0, maxTotalWaitSeconds: 0, baseDelaySeconds: 0 }, breaker: createCircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }), fetch });
  const client = await factory.client(credential);
  try {
    await client.api('/teams/x/channels/y/messages').get();
  } catch (caught) {
    return caught;
  }
  throw new Error('expected a failure');
}

const inner = (code = 'x') => ({ code, 'request-id': 'req-42', 'client-request-id': 'ours-7', date: '2026-05-01T10:00:00' });
const delegated: GraphErrorContext = { target: '/teams/{teamId}/channels/{channelId}/messages', identity: 'onBehalfOf', permissions: { delegated: ['ChannelMessage.Read.All'], application: ['ChannelMessage.Read.All'] } };
const appOnly: GraphErrorContext = { ...delegated, identity: 'managedIdentity' };

test('a 403 naming permissions says which to grant, with the request ids and date', async () => {
  const error = await graphErrorFor(403, { code: 'Forbidden', message: "Missing scope permissions on the request. API requires one of 'ChannelMessage.Read.All, Group.Read.All'. Scopes on the request 'User.Read'", innerError: inner() });
  const failure = graphFailure(error, delegated);
  assert.equal(failure.errorClass, 'permission_denied');
  assert.deepEqual(failure.missingPermissions, ['ChannelMessage.Read.All', 'Group.Read.All']);
  assert.match(failure.nextStep, /ChannelMessage\.Read\.All or Group\.Read\.All/);
  assert.match(failure.nextStep, /member/);
  assert.equal(failure.upstreamRequestId, 'req-42');
  assert.equal(failure.clientRequestId, 'ours-7');
  assert.equal(failure.date, '2026-05-01T10:00:00');
  assert.equal(failure.status, 403);
  assert.equal(failure.code, 'Forbidden');
});

test('app-only 403 without names falls back to the operation permissions and says how to assign them to the managed identity', async () => {
  const failure = graphFailure(await graphErrorFor(403, { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError: inner() }), appOnly);
  assert.equal(failure.errorClass, 'permission_denied');
  assert.deepEqual(failure.missingPermissions, ['ChannelMessage.Read.All']);
  assert.match(failure.nextStep, /managed identity the application permission ChannelMessage\.Read\.All/);
});

test('a protected Teams API 403 explains the approval and resource-specific consent', async () => {
  const message = 'Invoked API requires Protected API access in application-only context when not using Resource Specific Consent. Visit https://docs.microsoft.com/en-us/graph/teams-protected-apis for more details.';
  const failure = graphFailure(await graphErrorFor(403, { code: 'Forbidden', message, innerError: inner() }), appOnly);
  assert.equal(failure.errorClass, 'protected_api');
  assert.match(failure.nextStep, /aka\.ms\/teamsgraph\/requestaccess/);
  assert.match(failure.nextStep, /ChannelMessage\.Read\.Group/);
  assert.match(failure.nextStep, /on-behalf-of/);
});

test('/me with an app-only token is a delegated-only error, and requireDelegated refuses before sending', async () => {
  const failure = graphFailure(await graphErrorFor(400, { code: 'BadRequest', message: '/me request is only valid with delegated authentication flow.', innerError: inner() }), { ...appOnly, target: '/me/joinedTeams' });
  assert.equal(failure.errorClass, 'delegated_only');
  assert.match(failure.nextStep, /on-behalf-of/);
  assert.throws(() => requireDelegated('managedIdentity', 'Posting a channel message'), DelegatedOnlyError);
  assert.doesNotThrow(() => requireDelegated('onBehalfOf', 'Posting a channel message'));
  try {
    requireDelegated('managedIdentity', 'Microsoft Search over messages');
  } catch (error) {
    const refused = graphFailure(error, appOnly);
    assert.equal(refused.errorClass, 'delegated_only');
    assert.match(refused.message, /Microsoft Search over messages works only for a signed-in user.*Nothing was sent/);
  }
});

test('404 points at the listing tool; 429 says how long to wait', async () => {
  const missing = graphFailure(await graphErrorFor(404, { code: 'NotFound', message: 'Channel not found', innerError: inner() }), { ...delegated, findWith: 'graph_team_channels_list' });
  assert.equal(missing.errorClass, 'not_found');
  assert.match(missing.nextStep, /call graph_team_channels_list/);
  const throttled = graphFailure(await graphErrorFor(429, { code: 'activityLimitReached', message: 'Throttled', innerError: { ...inner('throttledRequest') } }, { 'retry-after': '41' }), delegated);
  assert.equal(throttled.errorClass, 'throttled');
  assert.equal(throttled.retryAfterSeconds, 41);
  assert.match(throttled.message, /retry after 41 s/);
  assert.match(throttled.nextStep, /Wait 41 seconds/);
});

test('a failed or timed-out write is flagged as possibly carried out', async () => {
  const failure = graphFailure(await graphErrorFor(503, { code: 'serviceNotAvailable', message: 'try later', innerError: inner() }), { ...delegated, method: 'POST' });
  assert.equal(failure.mayHaveRun, true);
  assert.match(failure.nextStep, /check whether it was carried out/);
  const read = graphFailure(await graphErrorFor(503, { code: 'serviceNotAvailable', message: 'try later', innerError: inner() }), delegated);
  assert.equal(read.mayHaveRun, undefined);
  const timeout = graphFailure(Object.assign(new Error('wrapped'), { cause: new GraphTimeoutError('POST', 30_000) }), delegated);
  assert.deepEqual([timeout.errorClass, timeout.mayHaveRun], ['timeout', true]);
});

test('a Conditional Access claims challenge is thrown on for the HTTP layer, in delegated mode', async () => {
  const claims = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}';
  const challenge = `Bearer realm="", error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`;
  const error = await graphErrorFor(401, { code: 'InvalidAuthenticationToken', message: 'Continuous access evaluation resulted in challenge', innerError: inner() }, { 'www-authenticate': challenge });
  assert.throws(() => graphFailure(error, delegated), (thrown: unknown) => thrown instanceof ClaimsChallengeError && thrown.claims === claims);
  assert.equal(graphFailure(error, appOnly).errorClass, 'unauthenticated');
});

test('errors from before sending keep their meaning: on-behalf-of, cursor, aborted', () => {
  const consent = graphFailure(Object.assign(new Error('x'), { cause: new OnBehalfOfError('consent_required', 'No consent for Graph.', 'Ask an admin.') }), delegated);
  assert.deepEqual([consent.errorClass, consent.nextStep], ['consent_required', 'Ask an admin.']);
  assert.match(consent.message, /Nothing was sent to Microsoft Graph/);
  assert.equal(graphFailure(new CursorRefusedError('other_caller'), delegated).errorClass, 'invalid_cursor');
});

test('no token ever appears in a failure, even when Graph echoes one', async () => {
  const error = await graphErrorFor(400, { code: 'BadRequest', message: `Invalid token ${JWT} (Authorization: Bearer ${JWT}) at https://x/?access_token=abc123&y=1`, innerError: inner() });
  const failure = graphFailure(error, delegated);
  const text = JSON.stringify(failure);
  assert.equal(text.includes(JWT), false);
  assert.equal(text.includes('abc123'), false);
  assert.match(failure.message, /\[token\]/);
  assert.equal(safeText('a\u001b[31mred\u202e\nnext'), 'a [31mred next');
});

test('permission names are read from the forms Graph uses', () => {
  assert.deepEqual(permissionsNamedIn("API requires one of 'Chat.Read, Chat.ReadWrite'."), ['Chat.Read', 'Chat.ReadWrite']);
  assert.deepEqual(permissionsNamedIn('Insufficient privileges to complete the operation.'), []);
});

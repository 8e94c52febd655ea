import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createVerify, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { anonymousPrincipal, createPrincipal, type Principal } from '../auth/principal.ts';
import {
  certificateAssertion,
  ClaimsChallengeError,
  createOnBehalfOfCredentials,
  mapExchangeError,
  OnBehalfOfError,
  onBehalfOfErrorIn,
  tokenExchangeAudience,
  type ExchangeRequest,
} from './on-behalf-of.ts';
import { createSecretProvider } from './secrets.ts';

/** The credential factory's cache and error mapping, with a scripted exchange (no I/O). */

const TENANT = '00000000-0000-4000-8000-00000000aaaa';
const API = '00000000-0000-4000-8000-0000000000a1';
const KUSTO = 'https://help.kusto.windows.net/.default';
const GRAPH = 'https://graph.microsoft.com/User.Read';

const userPrincipal = (oid: string, token = `assertion-of-${oid}`, tid = TENANT): Principal =>
  createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: oid, tenantId: tid, upn: `${oid}@contoso.test` }, token);

/** A JWT-shaped token naming the user, as Entra's OBO answers name them. */
const tokenFor = (oid: string, tid: string, scope: string, n: number) =>
  `e30.${Buffer.from(JSON.stringify({ oid, tid, aud: scope, n })).toString('base64url')}.sig`;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid: string; tid: string; aud: string; n: number };

function scriptedExchange(options: { delayMs?: number; lifetimeMs?: number; fail?: (request: ExchangeRequest) => unknown; now?: () => number } = {}) {
  const calls: ExchangeRequest[] = [];
  const assertionOwners = new Map<string, string>();
  return {
    calls,
    /** Which user each assertion belongs to, so the fake "Entra" answers for the right one. */
    owns: (assertion: string, oid: string) => assertionOwners.set(assertion, oid),
    exchange: async (request: ExchangeRequest) => {
      const n = calls.push(request);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const failure = options.fail?.(request);
      if (failure) throw failure;
      const oid = assertionOwners.get(request.userAssertion) ?? request.userAssertion.replace(/^assertion-of-/, '');
      return { token: tokenFor(oid, request.tenantId, request.scopes[0] ?? '', n), expiresOnTimestamp: (options.now ?? Date.now)() + (options.lifetimeMs ?? 3_600_000) };
    },
  };
}

const settings = { authorityHost: 'https://login.microsoftonline.com', clientId: API, clientAuth: { kind: 'managedIdentity' as const } };
const managedIdentity = async () => ({ getToken: async () => ({ token: 'mi-token-for-exchange', expiresOnTimestamp: Date.now() + 3_600_000 }) });

test('tokens are cached per user and scope; users never share an entry, even with calls interleaved', async () => {
  const fake = scriptedExchange({ delayMs: 15 });
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity, exchange: fake.exchange });
  const alice = obo.forCaller(userPrincipal('alice'));
  const bob = obo.forCaller(userPrincipal('bob'));

  // Interleaved: both users' first calls are in flight at the same time, several each.
  const results = await Promise.all([alice.getToken(KUSTO), bob.getToken(KUSTO), alice.getToken(KUSTO), bob.getToken(KUSTO), alice.getToken(GRAPH)]);
  const [a1, b1, a2, b2, aGraph] = results.map((token) => claimsOf(token!.token));
  assert.deepEqual([a1?.oid, a2?.oid, aGraph?.oid], ['alice', 'alice', 'alice']);
  assert.deepEqual([b1?.oid, b2?.oid], ['bob', 'bob']);
  assert.equal(a1?.n, a2?.n, "concurrent calls with one user's token share one exchange");
  assert.notEqual(a1?.n, b1?.n);
  assert.equal(aGraph?.aud, GRAPH, 'per scope');
  assert.equal(fake.calls.length, 3, 'alice/Kusto, bob/Kusto, alice/Graph');

  // Later calls, even from a new request (a new Principal with a fresh token), come from the cache.
  const again = await obo.forCaller(userPrincipal('alice', 'a-later-token-of-alice')).getToken(KUSTO);
  assert.equal(claimsOf(again!.token).n, a1?.n);
  assert.equal(fake.calls.length, 3);
  // The inbound token is only ever the assertion; the client authenticates with the managed identity.
  for (const call of fake.calls) {
    assert.match(call.userAssertion, /^assertion-of-(alice|bob)$/);
    assert.equal(call.tenantId, TENANT);
    assert.ok('clientAssertion' in call.client && (await call.client.clientAssertion()) === 'mi-token-for-exchange');
  }
  assert.equal(obo.partitionOf(userPrincipal('alice')), `user:${TENANT}/alice`);
});

test('a token is exchanged again shortly before it expires; a failure is not cached', async () => {
  let now = 1_000_000;
  let fail = false;
  const fake = scriptedExchange({ now: () => now, lifetimeMs: 60 * 60_000, fail: () => (fail ? new Error('invalid_grant: AADSTS500133: Assertion is not within its valid time range.') : undefined) });
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity, exchange: fake.exchange, now: () => now });
  const alice = obo.forCaller(userPrincipal('alice'));
  await alice.getToken(KUSTO);
  now += 54 * 60_000;
  await alice.getToken(KUSTO);
  assert.equal(fake.calls.length, 1, 'still more than 5 minutes left');
  now += 2 * 60_000;
  fail = true;
  await assert.rejects(alice.getToken(KUSTO), (error: unknown) => error instanceof OnBehalfOfError && error.code === 'invalid_assertion' && error.aadsts === 'AADSTS500133');
  fail = false;
  const fresh = await alice.getToken(KUSTO);
  assert.equal(fake.calls.length, 3, 'the failure was not remembered');
  assert.equal(claimsOf(fresh!.token).n, 3);
});

test('the cache is bounded: the least recently used user goes first', async () => {
  const fake = scriptedExchange();
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity, exchange: fake.exchange, maxUsers: 2 });
  const token = (oid: string) => obo.forCaller(userPrincipal(oid)).getToken(KUSTO);
  await token('u1');
  await token('u2');
  await token('u1'); // u1 is now the most recently used
  await token('u3'); // evicts u2
  assert.equal(fake.calls.length, 3);
  await token('u1');
  assert.equal(fake.calls.length, 3, 'u1 kept');
  await token('u2');
  assert.equal(fake.calls.length, 4, 'u2 was evicted and exchanged again');
});

test('a token that names another user is discarded, never cached or returned', async () => {
  const fake = scriptedExchange();
  fake.owns('assertion-of-alice', 'mallory');
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity, exchange: fake.exchange });
  await assert.rejects(obo.forCaller(userPrincipal('alice')).getToken(KUSTO), (error: unknown) => error instanceof OnBehalfOfError && /another user/.test(error.message));
  fake.owns('assertion-of-alice', 'alice');
  assert.equal(claimsOf((await obo.forCaller(userPrincipal('alice')).getToken(KUSTO))!.token).oid, 'alice');
  assert.equal(fake.calls.length, 2);
});

test('no user to act for: app-only callers, anonymous modes, a principal without its token', () => {
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity, exchange: scriptedExchange().exchange });
  const app = createPrincipal({ authMode: 'entra', idtyp: 'app', objectId: 'sp', tenantId: TENANT }, 'app-token');
  const copy = { ...userPrincipal('alice') } as Principal; // copies never carry the assertion
  for (const [name, principal] of [['app', app], ['anonymous', anonymousPrincipal('functionKey')], ['copy', copy]] as const) {
    assert.throws(() => obo.forCaller(principal), (error: unknown) => error instanceof OnBehalfOfError && error.code === 'no_user', name);
  }
});

test("Entra's refusals become typed, actionable errors; a claims challenge keeps its claims", () => {
  const consent = mapExchangeError(new Error('invalid_grant: AADSTS65001: The user or administrator has not consented. Trace ID: x'), undefined, 'https://help.kusto.windows.net');
  assert.equal(consent.code, 'consent_required');
  assert.match(consent.nextStep, /admin consent/);
  assert.match(consent.message, /help\.kusto\.windows\.net/);

  const assignment = mapExchangeError(new Error('x'), { error: 'invalid_grant', error_codes: [50105], error_description: 'AADSTS50105: not assigned' }, 'api://downstream');
  assert.equal(assignment.code, 'user_not_assigned');
  assert.match(assignment.nextStep, /assign you/);

  const claims = '{"access_token":{"capolids":{"essential":true,"values":["c0ffee00"]}}}';
  const challenge = mapExchangeError(new Error('interaction_required: AADSTS50079: MFA'), { error: 'interaction_required', error_codes: [50079], suberror: 'basic_action', claims }, 'https://graph.microsoft.com');
  assert.ok(challenge instanceof ClaimsChallengeError);
  assert.equal(challenge.claims, claims);
  assert.equal(Buffer.from(challenge.encodedClaims, 'base64').toString('utf8'), claims);
  assert.equal(challenge.aadsts, 'AADSTS50079');

  const noClaims = mapExchangeError(new Error('interaction_required: AADSTS50076: MFA'), undefined, 'x');
  assert.ok(!(noClaims instanceof ClaimsChallengeError));
  assert.equal(noClaims.code, 'interaction_required');

  for (const code of [70021, 700213, 7000215, 700027]) {
    assert.equal(mapExchangeError(new Error('x'), { error: 'invalid_client', error_codes: [code] }, 'x').code, 'client_authentication_failed', String(code));
  }
  assert.equal(mapExchangeError(Object.assign(new Error('no MI'), { name: 'CredentialUnavailableError' }), undefined, 'x').code, 'client_authentication_failed');
  assert.equal(mapExchangeError(new Error('socket hang up'), undefined, 'x').code, 'exchange_failed');
  // Wrapped as the Kusto SDK wraps credential errors: still found.
  assert.equal(onBehalfOfErrorIn({ name: 'KustoAuthenticationError', inner: challenge }), challenge);
  // Nothing of a token in any message.
  for (const error of [consent, assignment, challenge, noClaims]) assert.ok(!/eyJ|assertion-of/.test(error.message + error.nextStep));
});

test('client secret fallback: read from the secret provider; a rotated secret is read again once (AADSTS7000215)', async () => {
  const vault = { value: 'old-secret', reads: 0 };
  const secrets = createSecretProvider({ read: async () => (vault.reads++, vault.value), ttlMs: 3_600_000 });
  const fake = scriptedExchange({
    fail: (request) => ('clientSecret' in request.client && request.client.clientSecret !== 'new-secret' ? new OnBehalfOfError('client_authentication_failed', 'Invalid client secret', 'x', 'AADSTS7000215') : undefined),
  });
  const obo = createOnBehalfOfCredentials({ ...settings, clientAuth: { kind: 'secret', secretName: 'api-client-secret' }, managedIdentity, secrets, exchange: fake.exchange });
  await secrets.get('api-client-secret'); // cached before the rotation
  vault.value = 'new-secret';
  const token = await obo.forCaller(userPrincipal('alice')).getToken(KUSTO);
  assert.equal(claimsOf(token!.token).oid, 'alice');
  assert.deepEqual(fake.calls.map((call) => ('clientSecret' in call.client ? call.client.clientSecret : '?')), ['old-secret', 'new-secret']);
  assert.equal(vault.reads, 2, 'exactly one re-read');

  // Any other failure is not retried with a re-read.
  const other = createOnBehalfOfCredentials({ ...settings, clientAuth: { kind: 'secret', secretName: 'api-client-secret' }, managedIdentity, secrets, exchange: scriptedExchange({ fail: () => new Error('invalid_grant: AADSTS65001: consent') }).exchange });
  await assert.rejects(other.forCaller(userPrincipal('bob')).getToken(KUSTO), (error: unknown) => (error as OnBehalfOfError).code === 'consent_required');
  assert.equal(vault.reads, 2);

  const noVault = createOnBehalfOfCredentials({ ...settings, clientAuth: { kind: 'secret', secretName: 'api-client-secret' }, managedIdentity, exchange: fake.exchange });
  await assert.rejects(noVault.forCaller(userPrincipal('carol')).getToken(KUSTO), /no Key Vault is configured/);
});

test('the managed identity assertion: failures say the operator must act', async () => {
  const broken = async () => ({ getToken: async () => Promise.reject(Object.assign(new Error('IDENTITY_ENDPOINT unreachable'), { name: 'CredentialUnavailableError' })) });
  const obo = createOnBehalfOfCredentials({ ...settings, managedIdentity: broken, exchange: async (request) => ('clientAssertion' in request.client ? { token: await request.client.clientAssertion(), expiresOnTimestamp: 0 } : { token: '', expiresOnTimestamp: 0 }) });
  await assert.rejects(obo.forCaller(userPrincipal('alice')).getToken(KUSTO), (error: unknown) => error instanceof OnBehalfOfError && error.code === 'client_authentication_failed' && /managed identity/.test(error.message));
  assert.equal(tokenExchangeAudience('https://login.microsoftonline.com'), 'api://AzureADTokenExchange');
  assert.equal(tokenExchangeAudience('https://login.microsoftonline.us'), 'api://AzureADTokenExchangeUSGov');
  assert.equal(tokenExchangeAudience('https://login.chinacloudapi.cn'), 'api://AzureADTokenExchangeChina');
});

test('certificate fallback: a private_key_jwt assertion signed in memory, with the certificate thumbprints', async () => {
  const pems = await generate([{ name: 'commonName', value: 'obo-test' }], { keySize: 2048, algorithm: 'sha256' });
  const assertion = certificateAssertion(`${pems.private}\n${pems.cert}\n`, { tenantId: TENANT, clientId: API, authorityHost: 'https://login.microsoftonline.com/' });
  const [header, payload, signature] = assertion.split('.') as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  const certificate = new X509Certificate(pems.cert);
  assert.equal(decode(header).alg, 'RS256');
  assert.equal(decode(header)['x5t#S256'], Buffer.from(certificate.fingerprint256.replaceAll(':', ''), 'hex').toString('base64url'));
  assert.equal(decode(header).x5t, Buffer.from(certificate.fingerprint.replaceAll(':', ''), 'hex').toString('base64url'));
  const claims = decode(payload);
  assert.equal(claims.aud, `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
  assert.equal(claims.iss, API);
  assert.equal(claims.sub, API);
  assert.ok(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(createPublicKey(pems.cert), Buffer.from(signature, 'base64url')));
  // Not PEM, or a key without its certificate: an error that never echoes the secret.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  for (const bad of ['not a pem', privateKey]) {
    assert.throws(() => certificateAssertion(bad, { tenantId: TENANT, clientId: API, authorityHost: 'https://login.microsoftonline.com' }), (error: unknown) => error instanceof OnBehalfOfError && !String((error as Error).message).includes('PRIVATE'));
  }
});

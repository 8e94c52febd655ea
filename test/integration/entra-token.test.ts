import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createEntraTokenValidator, type AuthFailure, type EntraTokenValidator } from '../../src/auth/entra-token.ts';
import { onBehalfOfAssertion } from '../../src/auth/principal.ts';
import type { EntraSettings } from '../../src/auth/settings.ts';
import { VS_CODE_CLIENT_ID, type ApiTokenOptions } from '../../emulator/entra-tenant.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../emulator/server.ts';

/** The product's Entra token validator against the emulated tenant's real OpenID documents and JWKS. */
const SECOND_TENANT = '00000000-0000-4000-8000-0000000e7a18';
const OTHER_TENANT = '00000000-0000-4000-8000-0000000e7a19';
const APP_ROLE = 'mcp.invoke';

let emulator: Emulator;
let settings: EntraSettings;
let validator: EntraTokenValidator;

before(async () => {
  emulator = await startEmulator();
  emulator.entra.addTenant(SECOND_TENANT);
  emulator.entra.addTenant(OTHER_TENANT);
  settings = {
    authorityHost: emulator.origin('login.localhost'),
    tenantIds: [emulator.tenantId, SECOND_TENANT],
    clientId: emulator.entra.api.clientId,
    identifierUri: `api://${emulator.entra.api.clientId}`,
    acceptV1Tokens: false,
    requiredScope: 'user_impersonation',
    appRole: APP_ROLE,
    clockSkewSeconds: 60,
  };
  validator = createEntraTokenValidator(settings);
});
after(() => emulator.close());

const mint = (options: ApiTokenOptions = {}) => emulator.entra.mintApiToken(options);
const now = () => Math.floor(Date.now() / 1000);
const jwksFetches = () => emulator.requestsFor('entra').filter((r) => new URL(r.url).pathname.endsWith('/keys')).length;
const documentFetches = () => emulator.requestsFor('entra').filter((r) => new URL(r.url).pathname.endsWith('/openid-configuration')).length;

async function expectRefused(token: string, expected: Pick<AuthFailure, 'status' | 'error' | 'reason'>, using = validator): Promise<AuthFailure> {
  const result = await using.validate(`Bearer ${token}`);
  assert.equal(result.ok, false, `accepted, expected ${expected.reason}`);
  const { failure } = result as { ok: false; failure: AuthFailure };
  assert.deepEqual({ status: failure.status, error: failure.error, reason: failure.reason }, expected, failure.description);
  assert.ok(!failure.description.includes(token.split('.')[1] ?? token), 'the description carries no token');
  return failure;
}

async function expectAccepted(token: string, using = validator) {
  const result = await using.validate(`Bearer ${token}`);
  assert.ok(result.ok, result.ok ? '' : `${result.failure.reason}: ${result.failure.description}`);
  return result.principal;
}

const invalidToken = (reason: AuthFailure['reason']) => ({ status: 401 as const, error: 'invalid_token' as const, reason });

describe('Entra token validation: refusals', () => {
  it('no token, another scheme, an empty or non-JWT bearer', async () => {
    for (const header of [undefined, null, '', '   ', 'Basic dXNlcjpwYXNz']) {
      const result = await validator.validate(header);
      assert.equal(result.ok, false);
      assert.deepEqual(result.ok ? undefined : [result.failure.status, result.failure.error, result.failure.reason], [401, undefined, 'no_token'], String(header));
    }
    await expectRefused('not-a-jwt', invalidToken('malformed_token'));
    const result = await validator.validate('Bearer');
    assert.equal(result.ok ? undefined : result.failure.reason, 'malformed_token');
    const noHeader = await validator.validateRequest(new Request('https://app.example/mcp', { method: 'POST' }));
    assert.equal(noHeader.ok ? undefined : noHeader.failure.reason, 'no_token');
  });

  it('alg none', async () => {
    await expectRefused(await mint({ alg: 'none' }), invalidToken('alg_not_allowed'));
  });

  it('HS256 signed with the tenant public key', async () => {
    await expectRefused(await mint({ alg: 'HS256' }), invalidToken('alg_not_allowed'));
  });

  it('any RSA algorithm but RS256', async () => {
    for (const alg of ['RS384', 'RS512', 'PS256']) await expectRefused(await mint({ alg }), invalidToken('alg_not_allowed'));
  });

  it('wrong audience: another API, or Graph', async () => {
    await expectRefused(await mint({ aud: 'api://someone-else' }), invalidToken('wrong_audience'));
    await expectRefused(await mint({ aud: 'https://graph.microsoft.com' }), invalidToken('wrong_audience'));
  });

  it('wrong issuer: not the one the tenant document declares, or another tenant\'s', async () => {
    await expectRefused(await mint({ iss: `https://login.microsoftonline.com/${emulator.tenantId}/v2.0` }), invalidToken('wrong_issuer'));
    await expectRefused(await mint({ iss: emulator.entra.issuerV2(SECOND_TENANT) }), invalidToken('wrong_issuer'));
    await expectRefused(await mint({ iss: 'https://evil.example/v2.0' }), invalidToken('wrong_issuer'));
  });

  it('another tenant (a real one, not allowed), without fetching its metadata', async () => {
    emulator.clearRequests();
    await expectRefused(await mint({ tid: OTHER_TENANT }), invalidToken('tenant_not_allowed'));
    assert.ok(!emulator.requestsFor('entra').some((r) => r.url.includes(OTHER_TENANT)), 'no request for the tenant that is not allowed');
  });

  it('expired, beyond the skew (and accepted within it)', async () => {
    await expectRefused(await mint({ exp: now() - 3600 }), invalidToken('token_expired'));
    await expectRefused(await mint({ exp: now() - 90 }), invalidToken('token_expired'));
    await expectAccepted(await mint({ exp: now() - 30 }));
  });

  it('nbf in the future, beyond the skew (and accepted within it)', async () => {
    await expectRefused(await mint({ nbf: now() + 3600 }), invalidToken('token_not_yet_valid'));
    await expectAccepted(await mint({ nbf: now() + 30 }));
  });

  it('tampered: changed claims, or a changed signature', async () => {
    const [header, payload, signature] = (await mint({ scp: 'user.read' })).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...claims, scp: 'user_impersonation' })).toString('base64url');
    await expectRefused(`${header}.${elevated}.${signature}`, invalidToken('bad_signature'));
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    await expectRefused(`${header}.${payload}.${flipped}`, invalidToken('bad_signature'));
  });

  it('unknown kid: a key the tenant never published, or a kid it does not have', async () => {
    await expectRefused(await mint({ unpublishedKey: true }), invalidToken('unknown_kid'));
    await expectRefused(await mint({ kid: 'not-a-published-kid' }), invalidToken('unknown_kid'));
  });

  it('missing scope: 403 insufficient_scope naming the fully qualified scope', async () => {
    const failure = await expectRefused(await mint({ scp: 'Files.Read' }), { status: 403, error: 'insufficient_scope', reason: 'missing_scope' });
    assert.equal(failure.scope, `api://${settings.clientId}/user_impersonation`);
    await expectRefused(await mint({ scp: null, idtyp: 'user' }), { status: 403, error: 'insufficient_scope', reason: 'missing_scope' });
  });

  it('a user ID-token-like token (no scp, pairwise sub) with roles is not taken for an app', async () => {
    await expectRefused(await mint({ scp: null, idtyp: null, roles: [APP_ROLE] }), { status: 403, error: 'insufficient_scope', reason: 'missing_scope' });
  });

  it('missing role: an app-only token without the app role, or any app when no role is configured', async () => {
    const failure = await expectRefused(await mint({ kind: 'app', roles: ['kusto.read'] }), { status: 403, error: 'insufficient_scope', reason: 'missing_role' });
    assert.equal(failure.scope, `api://${settings.clientId}/.default`);
    await expectRefused(await mint({ kind: 'app' }), { status: 403, error: 'insufficient_scope', reason: 'missing_role' });
    const noApps = createEntraTokenValidator({ ...settings, appRole: undefined });
    await expectRefused(await mint({ kind: 'app', roles: [APP_ROLE] }), { status: 403, error: 'insufficient_scope', reason: 'missing_role' }, noApps);
  });

  it('v1 tokens unless enabled', async () => {
    await expectRefused(await mint({ version: '1.0' }), invalidToken('v1_token_not_accepted'));
  });

  it('Entra metadata unreachable: 503, retried only after the retry interval', async () => {
    emulator.addFault({ service: 'entra', pathPrefix: `/${emulator.tenantId}/v2.0/.well-known`, status: 500, times: 1 });
    const fresh = createEntraTokenValidator(settings, { metadataRetryMs: 60_000 });
    const token = await mint();
    const failure = await expectRefused(token, { status: 503, error: undefined, reason: 'metadata_unavailable' }, fresh);
    assert.match(failure.description, /try again/);
    emulator.clearRequests();
    await expectRefused(token, { status: 503, error: undefined, reason: 'metadata_unavailable' }, fresh);
    assert.equal(documentFetches(), 0, 'no new fetch inside the retry interval');

    emulator.addFault({ service: 'entra', pathPrefix: `/${emulator.tenantId}/v2.0/.well-known`, status: 500, times: 1 });
    const quick = createEntraTokenValidator(settings, { metadataRetryMs: 0 });
    await expectRefused(token, { status: 503, error: undefined, reason: 'metadata_unavailable' }, quick);
    await expectAccepted(token, quick);
  });
});

describe('Entra token validation: acceptance', () => {
  it('a valid user token: the Principal, with the token kept only for on-behalf-of', async () => {
    const token = await mint({ scp: 'user_impersonation Files.Read' });
    const principal = await expectAccepted(token);
    assert.equal(principal.authMode, 'entra');
    assert.equal(principal.idtyp, 'user');
    assert.equal(principal.objectId, TEST_USER_ID);
    assert.equal(principal.tenantId, emulator.tenantId);
    assert.equal(principal.appId, VS_CODE_CLIENT_ID);
    assert.equal(principal.upn, 'test.user@emulator.localhost');
    assert.equal(principal.name, 'Test User');
    assert.deepEqual(principal.scopes, ['user_impersonation', 'Files.Read']);
    assert.equal(principal.tokenVersion, '2.0');
    assert.ok(principal.expiresAt! > Date.now());
    assert.equal(onBehalfOfAssertion(principal), token);
    assert.ok(!JSON.stringify(principal).includes(token));
  });

  it('the identifier URI as audience, too', async () => {
    await expectAccepted(await mint({ aud: settings.identifierUri }));
  });

  it('a valid app token with the app role (idtyp app, or no idtyp with sub = oid)', async () => {
    const principal = await expectAccepted(await mint({ kind: 'app', roles: [APP_ROLE, 'kusto.read'] }));
    assert.equal(principal.idtyp, 'app');
    assert.deepEqual(principal.roles, [APP_ROLE, 'kusto.read']);
    assert.deepEqual(principal.scopes, []);
    assert.equal((await expectAccepted(await mint({ kind: 'app', roles: [APP_ROLE], idtyp: null }))).idtyp, 'app');
  });

  it('the second allowed tenant, with its own issuer', async () => {
    const principal = await expectAccepted(await mint({ tid: SECOND_TENANT }));
    assert.equal(principal.tenantId, SECOND_TENANT);
  });

  it('v1 tokens when enabled (issuer from the tenant\'s v1 document; appid, upn)', async () => {
    const v1 = createEntraTokenValidator({ ...settings, acceptV1Tokens: true });
    const principal = await expectAccepted(await mint({ version: '1.0' }), v1);
    assert.equal(principal.tokenVersion, '1.0');
    assert.equal(principal.appId, VS_CODE_CLIENT_ID);
    assert.equal(principal.upn, 'test.user@emulator.localhost');
    await expectAccepted(await mint(), v1);
    await expectRefused(await mint({ version: '1.0', iss: 'https://sts.windows.net/evil/' }), invalidToken('wrong_issuer'), v1);
  });
});

describe('Entra token validation: keys', () => {
  it('key rotation fails no valid token: old tokens still verify, new ones after one refetch', async () => {
    const rotating = createEntraTokenValidator(settings, { jwksCooldownMs: 100 });
    const before = await mint();
    await expectAccepted(before, rotating);
    await emulator.entra.rotateSigningKey();
    await new Promise((resolve) => setTimeout(resolve, 150));
    emulator.clearRequests();
    const after = await mint();
    assert.notEqual(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid, JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid);
    await expectAccepted(after, rotating);
    await expectAccepted(before, rotating);
    await expectAccepted(await mint(), rotating);
    assert.equal(jwksFetches(), 1, 'one refetch for the new kid');
  });

  it('a flood of unknown kids costs the JWKS endpoint nothing within the cooldown', async () => {
    const guarded = createEntraTokenValidator(settings);
    await expectAccepted(await mint(), guarded);
    emulator.clearRequests();
    const forged = await Promise.all(Array.from({ length: 40 }, () => mint({ kid: randomUUID() })));
    for (const token of forged) await expectRefused(token, invalidToken('unknown_kid'), guarded);
    await Promise.all(forged.map((token) => guarded.validate(`Bearer ${token}`)));
    assert.equal(jwksFetches(), 0, 'no JWKS request during the cooldown');
    assert.equal(documentFetches(), 0, 'OpenID documents cached');
  });

  it('fetches each document and key set once for concurrent first requests', async () => {
    emulator.clearRequests();
    const cold = createEntraTokenValidator(settings);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => mint()));
    const results = await Promise.all(tokens.map((token) => cold.validate(`Bearer ${token}`)));
    assert.ok(results.every((result) => result.ok));
    assert.equal(documentFetches(), 1);
    assert.equal(jwksFetches(), 1);
  });
});

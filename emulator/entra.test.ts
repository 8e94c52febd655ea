import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TOKEN_EXCHANGE_AUDIENCE } from './entra.ts';
import { startEmulator, type Emulator } from './server.ts';

let emulator: Emulator;
const SECOND_TENANT = '00000000-0000-4000-8000-0000000e7a18';

before(async () => {
  emulator = await startEmulator();
  emulator.entra.addTenant(SECOND_TENANT);
});
after(() => emulator.close());

const login = (path: string, init?: RequestInit) => fetch(emulator.url('login.localhost', path), init);
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;
const jwks = async (tenant = emulator.tenantId) => (await json(await login(`/${tenant}/discovery/v2.0/keys`))) as { keys: Array<{ kid: string }> };

describe('Entra discovery per tenant', () => {
  it('serves each tenant its own v2 issuer, and the placeholder for common', async () => {
    for (const tenant of [emulator.tenantId, SECOND_TENANT]) {
      const document = await json(await login(`/${tenant}/v2.0/.well-known/openid-configuration`));
      assert.equal(document.issuer, `${emulator.origin('login.localhost')}/${tenant}/v2.0`);
      assert.equal(document.jwks_uri, `${emulator.origin('login.localhost')}/${tenant}/discovery/v2.0/keys`);
    }
    const common = await json(await login('/common/v2.0/.well-known/openid-configuration'));
    assert.equal(common.issuer, `${emulator.origin('login.localhost')}/{tenantid}/v2.0`);
  });

  it('serves the v1 document with the sts.windows.net issuer', async () => {
    const document = await json(await login(`/${SECOND_TENANT}/.well-known/openid-configuration`));
    assert.equal(document.issuer, `https://sts.windows.net/${SECOND_TENANT}/`);
    assert.equal(document.jwks_uri, `${emulator.origin('login.localhost')}/${SECOND_TENANT}/discovery/keys`);
  });

  it('refuses unknown tenants (AADSTS90002) and has no RFC 8414 document, as Entra', async () => {
    const unknown = await login('/00000000-0000-4000-8000-0000000000aa/v2.0/.well-known/openid-configuration');
    assert.equal(unknown.status, 400);
    assert.deepEqual((await json(unknown)).error_codes, [90002]);
    const rfc8414 = await login(`/.well-known/oauth-authorization-server/${emulator.tenantId}/v2.0`);
    assert.equal(rfc8414.status, 404);
  });
});

describe('Entra signing keys', () => {
  it('rotates: publishes the new key, signs with it, keeps the old one for the grace, then drops it', async () => {
    const old = await emulator.entra.mintApiToken();
    const oldKid = decodeProtectedHeader(old).kid;
    const newKid = await emulator.entra.rotateSigningKey({ graceSeconds: 0.3 });
    const fresh = await emulator.entra.mintApiToken();
    assert.equal(decodeProtectedHeader(fresh).kid, newKid);
    assert.deepEqual((await jwks()).keys.map((key) => key.kid).sort(), [oldKid, newKid].sort());
    const keySet = createLocalJWKSet(await jwks());
    await jwtVerify(old, keySet);
    await jwtVerify(fresh, keySet);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.deepEqual((await jwks()).keys.map((key) => key.kid), [newKid]);
    assert.equal(await emulator.mintToken({ aud: 'x' }).then((token) => decodeProtectedHeader(token).kid), newKid);
  });

  it('can sign with a key it never publishes', async () => {
    const token = await emulator.entra.mintApiToken({ unpublishedKey: true });
    const kid = decodeProtectedHeader(token).kid;
    assert.ok(kid);
    assert.ok(!(await jwks()).keys.some((key) => key.kid === kid));
  });

  it('crafts alg none and HS256-with-the-public-key tokens', async () => {
    const none = await emulator.entra.mintApiToken({ alg: 'none' });
    assert.equal(decodeProtectedHeader(none).alg, 'none');
    assert.ok(none.endsWith('.'));
    const hs256 = await emulator.entra.mintApiToken({ alg: 'HS256' });
    assert.equal(decodeProtectedHeader(hs256).alg, 'HS256');
    const publicKeyPem = (await fetchPublicKeyPem()).trim();
    await jwtVerify(hs256, new TextEncoder().encode(publicKeyPem), { algorithms: ['HS256'] });
  });
});

/** The current key's SPKI PEM, derived from the JWKS as an attacker would. */
async function fetchPublicKeyPem(): Promise<string> {
  const { createPublicKey } = await import('node:crypto');
  const token = await emulator.entra.mintApiToken();
  const key = (await jwks()).keys.find((candidate) => candidate.kid === decodeProtectedHeader(token).kid);
  return createPublicKey({ key: key as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

describe('Entra API tokens', () => {
  it('mints v2 user tokens (aud = client id) and v1 ones (aud = identifier URI)', async () => {
    const v2 = decodeJwt(await emulator.entra.mintApiToken());
    assert.equal(v2.aud, emulator.entra.api.clientId);
    assert.equal(v2.iss, emulator.entra.issuerV2());
    assert.equal(v2.scp, 'user_impersonation');
    assert.equal(v2.ver, '2.0');
    assert.notEqual(v2.sub, v2.oid, 'pairwise sub');
    const v1 = decodeJwt(await emulator.entra.mintApiToken({ version: '1.0', tid: SECOND_TENANT }));
    assert.equal(v1.aud, `api://${emulator.entra.api.clientId}`);
    assert.equal(v1.iss, `https://sts.windows.net/${SECOND_TENANT}/`);
    assert.equal(v1.upn, 'test.user@emulator.localhost');
  });

  it('mints app tokens: roles, no scp, sub = oid', async () => {
    const app = decodeJwt(await emulator.entra.mintApiToken({ kind: 'app', roles: ['mcp.invoke'] }));
    assert.deepEqual(app.roles, ['mcp.invoke']);
    assert.equal(app.scp, undefined);
    assert.equal(app.sub, app.oid);
    assert.equal(app.idtyp, 'app');
  });
});

describe('managed identity as a federated credential', () => {
  it('issues v2 tokens for api://AzureADTokenExchange naming the identity as subject', async () => {
    const url = `${emulator.identity.endpoint}?${new URLSearchParams({ 'api-version': '2019-08-01', resource: TOKEN_EXCHANGE_AUDIENCE, client_id: emulator.identity.clientId })}`;
    const body = await json(await fetch(url, { headers: { 'X-IDENTITY-HEADER': emulator.identity.header } }));
    const claims = decodeJwt(String(body.access_token));
    assert.equal(claims.aud, TOKEN_EXCHANGE_AUDIENCE);
    assert.equal(claims.iss, emulator.entra.issuerV2());
    assert.equal(claims.sub, emulator.identity.principalId);
    const credential = emulator.entra.api.federatedCredentials[0];
    assert.deepEqual([credential?.issuer, credential?.subject, credential?.audiences], [claims.iss, claims.sub, [TOKEN_EXCHANGE_AUDIENCE]]);
  });
});

describe('token endpoint: on-behalf-of errors as Entra words them', () => {
  const obo = (fields: Record<string, string>) =>
    login(`/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', requested_token_use: 'on_behalf_of', client_id: emulator.entra.api.clientId, ...fields }),
    });

  it('no client authentication: invalid_client AADSTS7000218', async () => {
    const response = await obo({ assertion: await emulator.entra.mintApiToken(), scope: 'https://kusto.localhost/.default' });
    assert.equal(response.status, 401);
    const body = await json(response);
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000218]);
    assert.match(String(body.error_description), /^AADSTS7000218: /);
  });

  it('consent missing: invalid_grant AADSTS65001 with suberror consent_required', async () => {
    const app = emulator.entra.registerApp({ secrets: ['s'] });
    const response = await obo({ client_id: app.clientId, client_secret: 's', assertion: await emulator.entra.mintApiToken({ aud: app.clientId }), scope: 'https://kusto.localhost/.default openid profile offline_access' });
    assert.equal(response.status, 400);
    const body = await json(response);
    assert.deepEqual([body.error, body.error_codes, body.suberror], ['invalid_grant', [65001], 'consent_required']);
  });

  it('a scope naming two resources: AADSTS28000; an unknown resource: AADSTS500011', async () => {
    const app = emulator.entra.registerApp({ secrets: ['s'] });
    const assertion = await emulator.entra.mintApiToken({ aud: app.clientId });
    const two = await json(await obo({ client_id: app.clientId, client_secret: 's', assertion, scope: 'https://kusto.localhost/.default https://graph.microsoft.com/User.Read' }));
    assert.deepEqual(two.error_codes, [28000]);
    const unknown = await json(await obo({ client_id: app.clientId, client_secret: 's', assertion, scope: 'https://unknown.example/.default' }));
    assert.deepEqual(unknown.error_codes, [500011]);
  });

  it('client_credentials still serves unregistered clients (existing behaviour)', async () => {
    const response = await login(`/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'any-app', client_secret: 'any', scope: 'https://vault.localhost/.default' }),
    });
    assert.equal(response.status, 200);
  });
});

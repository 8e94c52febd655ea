import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startEmulator, type Emulator } from './server.ts';

let emulator: Emulator;

before(async () => {
  emulator = await startEmulator();
  Object.assign(process.env, emulator.env());
});

after(() => emulator.close());

describe('managed identity endpoint', () => {
  it('gives ManagedIdentityCredential a token for the requested resource', async () => {
    const credential = new ManagedIdentityCredential(emulator.identity.clientId);
    const { token } = await credential.getToken('https://vault.localhost/.default');

    const claims = decodeJwt(token);
    assert.equal(claims.aud, 'https://vault.localhost');
    assert.equal(claims.iss, `https://sts.windows.net/${emulator.tenantId}/`);
    assert.equal(claims.appid, emulator.identity.clientId);
    assert.equal(claims.oid, emulator.identity.principalId);
    assert.equal(claims.idtyp, 'app');
    const [request] = emulator.requestsFor('identity');
    assert.ok(request);
    assert.equal(request.headers['x-identity-header'], emulator.identity.header);
    const query = new URL(request.url).searchParams;
    assert.equal(query.get('api-version'), '2019-08-01');
    assert.equal(query.get('resource'), 'https://vault.localhost');
    assert.equal(query.get('client_id'), emulator.identity.clientId);
  });

  it('answers like App Service: expires_on as epoch seconds in a string', async () => {
    const response = await fetch(identityUrl({ resource: 'https://monitor.azure.com', client_id: emulator.identity.clientId }), {
      headers: { 'X-IDENTITY-HEADER': emulator.identity.header },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.resource, 'https://monitor.azure.com');
    assert.equal(body.client_id, emulator.identity.clientId);
    assert.match(String(body.expires_on), /^\d{10}$/);
    assert.equal(typeof body.expires_on, 'string');
  });

  // msal-node keeps the first managed identity source (endpoint and header) for the whole
  // process, so the wrong secret is checked on the wire rather than through a new credential.
  it('refuses a wrong X-IDENTITY-HEADER with 401', async () => {
    const response = await fetch(identityUrl({ resource: 'https://vault.localhost', client_id: emulator.identity.clientId }), {
      headers: { 'X-IDENTITY-HEADER': 'not-the-secret' },
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { statusCode: number; message: string };
    assert.equal(body.statusCode, 401);
    assert.match(body.message, /X-IDENTITY-HEADER/);
  });

  it('rejects a missing resource and an unknown or missing identity with 400', async () => {
    const headers = { 'X-IDENTITY-HEADER': emulator.identity.header };
    const cases: Array<Record<string, string>> = [
      { client_id: emulator.identity.clientId },
      { resource: 'https://vault.localhost', client_id: '11111111-1111-4111-8111-111111111111' },
      { resource: 'https://vault.localhost' },
    ];
    for (const query of cases) {
      const response = await fetch(identityUrl(query), { headers });
      assert.equal(response.status, 400, JSON.stringify(query));
      assert.equal(((await response.json()) as { statusCode: number }).statusCode, 400);
    }
  });
});

describe('Entra', () => {
  it('issues client-credential tokens to ClientSecretCredential', async () => {
    // Without disableInstanceDiscovery msal-node asks login.microsoftonline.com about a custom authority.
    const credential = new ClientSecretCredential(emulator.tenantId, 'app-client-id', 'app-secret', {
      authorityHost: emulator.origin('login.localhost'),
      disableInstanceDiscovery: true,
    });
    const { token } = await credential.getToken('https://kusto.localhost/.default');

    const claims = decodeJwt(token);
    assert.equal(claims.aud, 'https://kusto.localhost');
    assert.equal(claims.appid, 'app-client-id');
    assert.equal(claims.appidacr, '1');
    const paths = emulator.requestsFor('entra').map((request) => `${request.method} ${new URL(request.url).pathname}`);
    assert.deepEqual(paths, [
      `GET /${emulator.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${emulator.tenantId}/oauth2/v2.0/token`,
    ]);
  });

  it('refuses a client-credential request without a secret or assertion', async () => {
    const response = await fetch(emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/token`), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'app', scope: 'https://vault.localhost/.default' }),
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000216]);
  });

  it('answers msal instance discovery as its own cloud', async () => {
    const authorize = emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/authorize`);
    const response = await fetch(emulator.url('login.localhost', `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorize)}`));
    const body = (await response.json()) as { tenant_discovery_endpoint: string; metadata: Array<{ aliases: string[] }> };
    assert.equal(body.tenant_discovery_endpoint, emulator.url('login.localhost', `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`));
    assert.deepEqual(body.metadata[0]?.aliases, [`login.localhost:${emulator.port}`]);
  });

  it('publishes the signing key, so minted tokens verify against the discovered JWKS', async () => {
    const discovery = await fetch(emulator.url('login.localhost', `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`));
    const { issuer, jwks_uri } = (await discovery.json()) as { issuer: string; jwks_uri: string };
    const token = await emulator.mintToken({ aud: 'api://mcp-server', scp: 'mcp.invoke' });

    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(jwks_uri)), { issuer, audience: 'api://mcp-server' });
    assert.equal(payload.tid, emulator.tenantId);
    assert.equal(payload.scp, 'mcp.invoke');
  });
});

function identityUrl(query: Record<string, string>): string {
  return `${emulator.identity.endpoint}?${new URLSearchParams({ 'api-version': '2019-08-01', ...query })}`;
}

describe('app role assignments', () => {
  it('reach the managed identity token for that resource only, as Entra puts them in roles', async () => {
    const token = async (resource: string) => {
      const url = `${emulator.identity.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}&client_id=${emulator.identity.clientId}`;
      const body = (await (await fetch(url, { headers: { 'x-identity-header': emulator.identity.header } })).json()) as { access_token: string };
      return decodeJwt(body.access_token) as { roles?: string[] };
    };
    assert.equal((await token('https://graph.microsoft.com')).roles, undefined, 'no roles before an admin assigns any');
    emulator.entra.assignAppRoles(emulator.identity.principalId, 'https://graph.microsoft.com', ['Team.ReadBasic.All', 'Presence.Read.All']);
    assert.deepEqual((await token('https://graph.microsoft.com')).roles, ['Team.ReadBasic.All', 'Presence.Read.All']);
    assert.deepEqual((await token(emulator.graph.endpoint)).roles, ['Team.ReadBasic.All', 'Presence.Read.All'], "the emulator's Graph address names the same resource");
    assert.equal((await token('https://help.kusto.windows.net')).roles, undefined, 'another resource gets none');
  });
});

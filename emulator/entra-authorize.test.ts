import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { base64url, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { VS_CODE_CLIENT_ID, type AppRegistration } from './entra-tenant.ts';
import { startEmulator, type Emulator } from './server.ts';

let emulator: Emulator;
let client: AppRegistration;
const REDIRECT = 'http://127.0.0.1/callback';
const OTHER_USER = '00000000-0000-4000-8000-0000000a11ce';

before(async () => {
  emulator = await startEmulator();
  client = emulator.entra.registerPublicClient({ displayName: 'mcp-test-client', redirectUris: [REDIRECT, 'https://app.example/callback'], spaRedirectUris: ['https://spa.example/cb'] });
  emulator.entra.addUser({ oid: OTHER_USER, upn: 'alice@emulator.localhost', name: 'Alice' });
});
after(() => emulator.close());

const apiScope = () => `api://${emulator.entra.api.clientId}/user_impersonation`;
const authorizeUrl = (params: Record<string, string>) => emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams(params)}`);
const pkce = () => {
  const verifier = base64url.encode(randomBytes(32));
  return { verifier, challenge: base64url.encode(createHash('sha256').update(verifier).digest()) };
};
const authorize = (params: Record<string, string>) => fetch(authorizeUrl(params), { redirect: 'manual' });
const token = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/token`), { method: 'POST', headers, body: new URLSearchParams(fields) });
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;
const location = (response: Response) => new URL(response.headers.get('location') ?? 'about:blank');

/** A full `/authorize` request with PKCE; returns the code and the verifier. */
async function signIn(overrides: Record<string, string> = {}, redirectUri = 'http://127.0.0.1:53111/callback') {
  const { verifier, challenge } = pkce();
  const response = await authorize({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: `${apiScope()} openid profile offline_access`,
    state: 'st-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  });
  assert.equal(response.status, 302);
  const target = location(response);
  return { target, code: target.searchParams.get('code') ?? '', verifier, redirectUri };
}
const redeem = (code: string, verifier: string, redirectUri: string, extra: Record<string, string> = {}) =>
  token({ grant_type: 'authorization_code', client_id: client.clientId, code, code_verifier: verifier, redirect_uri: redirectUri, scope: apiScope(), ...extra });

describe('authorize + token: authorization code with PKCE', () => {
  it('signs in the default user, redirects with code and state (no iss), and redeems for an API token, id token and refresh token', async () => {
    const { target, code, verifier, redirectUri } = await signIn({ nonce: 'n-1' });
    assert.equal(`${target.origin}${target.pathname}`, 'http://127.0.0.1:53111/callback');
    assert.equal(target.searchParams.get('state'), 'st-1');
    assert.ok(code);
    assert.equal(target.searchParams.get('iss'), null, 'Entra sends no RFC 9207 iss');
    const response = await redeem(code, verifier, redirectUri);
    assert.equal(response.status, 200);
    const body = await json(response);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3599);
    assert.equal(body.scope, apiScope());
    assert.ok(body.refresh_token);
    const keys = createLocalJWKSet((await (await fetch(emulator.url('login.localhost', `/${emulator.tenantId}/discovery/v2.0/keys`))).json()) as never);
    const { payload: access } = await jwtVerify(String(body.access_token), keys);
    assert.equal(access.aud, emulator.entra.api.clientId);
    assert.equal(access.iss, emulator.entra.issuerV2());
    assert.equal(access.scp, 'user_impersonation');
    assert.equal(access.azp, client.clientId);
    assert.equal(access.ver, '2.0');
    assert.equal(access.preferred_username, 'test.user@emulator.localhost');
    const { payload: id } = await jwtVerify(String(body.id_token), keys);
    assert.deepEqual([id.aud, id.iss, id.nonce, id.preferred_username], [client.clientId, emulator.entra.issuerV2(), 'n-1', 'test.user@emulator.localhost']);
  });

  it('signs in the user named by login_hint; an unknown one gets AADSTS50034', async () => {
    const { code, verifier, redirectUri } = await signIn({ login_hint: 'alice@emulator.localhost' });
    const access = decodeJwt(String((await json(await redeem(code, verifier, redirectUri))).access_token));
    assert.equal(access.oid, OTHER_USER);
    const unknown = await authorize({ client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: apiScope(), login_hint: 'nobody@emulator.localhost' });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /AADSTS50034/);
  });

  it('no refresh token without offline_access, no id token without openid', async () => {
    const { code, verifier, redirectUri } = await signIn({ scope: apiScope() });
    const body = await json(await redeem(code, verifier, redirectUri));
    assert.equal(body.refresh_token, undefined);
    assert.equal(body.id_token, undefined);
  });

  it('a code is single use: the second redemption gets AADSTS54005', async () => {
    const { code, verifier, redirectUri } = await signIn();
    assert.equal((await redeem(code, verifier, redirectUri)).status, 200);
    const again = await redeem(code, verifier, redirectUri);
    assert.equal(again.status, 400);
    const body = await json(again);
    assert.deepEqual([body.error, body.error_codes], ['invalid_grant', [54005]]);
    assert.match(String(body.error_description), /^AADSTS54005: OAuth2 Authorization code was already redeemed/);
  });

  it('a code expires (AADSTS70008)', async () => {
    const lifetime = emulator.entra.authorizationCodeLifetimeSeconds;
    emulator.entra.authorizationCodeLifetimeSeconds = 0.05;
    try {
      const { code, verifier, redirectUri } = await signIn();
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.deepEqual((await json(await redeem(code, verifier, redirectUri))).error_codes, [70008]);
    } finally {
      emulator.entra.authorizationCodeLifetimeSeconds = lifetime;
    }
  });

  it('PKCE: a wrong verifier gets AADSTS501481, a missing one AADSTS50148', async () => {
    const { code, redirectUri, verifier } = await signIn();
    const wrong = await json(await redeem(code, pkce().verifier, redirectUri));
    assert.deepEqual([wrong.error, wrong.error_codes], ['invalid_grant', [501481]]);
    const missing = await json(await token({ grant_type: 'authorization_code', client_id: client.clientId, code, redirect_uri: redirectUri, scope: apiScope() }));
    assert.deepEqual(missing.error_codes, [50148]);
    // A failed verifier does not burn the code.
    assert.equal((await redeem(code, verifier, redirectUri)).status, 200);
  });

  it('the code is bound to its client (AADSTS70000) and redirect URI (AADSTS500112)', async () => {
    const { code, verifier, redirectUri } = await signIn();
    const other = emulator.entra.registerPublicClient({ redirectUris: [REDIRECT] });
    const stolen = await json(await token({ grant_type: 'authorization_code', client_id: other.clientId, code, code_verifier: verifier, redirect_uri: redirectUri }));
    assert.deepEqual([stolen.error, stolen.error_codes], ['invalid_grant', [70000]]);
    const moved = await json(await redeem(code, verifier, 'http://127.0.0.1:9999/callback'));
    assert.deepEqual(moved.error_codes, [500112]);
  });

  it('a public client presenting a secret gets AADSTS700025', async () => {
    const { code, verifier, redirectUri } = await signIn();
    const body = await json(await redeem(code, verifier, redirectUri, { client_secret: 'x' }));
    assert.deepEqual([body.error, body.error_codes], ['invalid_client', [700025]]);
  });

  it('PKCE is optional for a native public client', async () => {
    const response = await authorize({ client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: apiScope(), state: 's' });
    const code = location(response).searchParams.get('code') ?? '';
    assert.ok(code);
    const redeemed = await token({ grant_type: 'authorization_code', client_id: client.clientId, code, redirect_uri: REDIRECT });
    assert.equal(redeemed.status, 200);
  });

  it('an SPA redirect URI requires PKCE (AADSTS9002325) and cross-origin redemption (AADSTS9002327)', async () => {
    const noPkce = await authorize({ client_id: client.clientId, response_type: 'code', redirect_uri: 'https://spa.example/cb', scope: apiScope(), state: 's' });
    assert.equal(noPkce.status, 302);
    assert.equal(location(noPkce).searchParams.get('error'), 'invalid_request');
    assert.match(location(noPkce).searchParams.get('error_description') ?? '', /^AADSTS9002325: /);
    const { code, verifier, redirectUri } = await signIn({}, 'https://spa.example/cb');
    assert.deepEqual((await json(await redeem(code, verifier, redirectUri))).error_codes, [9002327]);
    const body = await json(await token({ grant_type: 'authorization_code', client_id: client.clientId, code, code_verifier: verifier, redirect_uri: redirectUri }, { origin: 'https://spa.example' }));
    assert.equal(body.refresh_token_expires_in, 86400);
  });
});

describe('authorize: errors as Entra shows them', () => {
  const base = () => ({ client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: apiScope(), state: 'st-e', code_challenge: pkce().challenge, code_challenge_method: 'S256' });

  it('unknown client: error page with AADSTS700016, no redirect', async () => {
    const response = await authorize({ ...base(), client_id: '00000000-0000-4000-8000-00000000dead' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(await response.text(), /AADSTS700016: Application with identifier '00000000-0000-4000-8000-00000000dead' was not found/);
  });

  it('unregistered redirect URIs: error page with AADSTS50011, never a redirect', async () => {
    for (const redirectUri of [
      'https://evil.example/callback',
      'http://127.0.0.1.evil.example/callback',
      'http://user@127.0.0.1:5000/callback',
      'http://127.0.0.1:5000/other',
      'http://127.0.0.1:5000/callback/../x',
      'http://127.0.0.1:5000/callback%2F..%2Fx',
      'https://app.example/callback/',
      'https://app.example:8443/callback',
      'http://localhost:5000/callback', // only 127.0.0.1 is registered for this path
    ]) {
      const response = await authorize({ ...base(), redirect_uri: redirectUri });
      assert.equal(response.status, 400, redirectUri);
      assert.equal(response.headers.get('location'), null, redirectUri);
      assert.match(await response.text(), /AADSTS50011: The redirect URI/, redirectUri);
    }
  });

  it('loopback redirect URIs registered without a port accept any port; web ones match exactly', async () => {
    for (const redirectUri of ['http://127.0.0.1:1/callback', 'http://127.0.0.1:65535/callback', 'http://127.0.0.1/callback', 'https://app.example/callback']) {
      const response = await authorize({ ...base(), redirect_uri: redirectUri });
      assert.equal(response.status, 302, redirectUri);
      assert.ok(location(response).searchParams.get('code'), redirectUri);
    }
    // A confidential (web) client gets no loopback port leniency.
    const web = emulator.entra.registerApp({ redirectUris: ['http://localhost/cb'], secrets: ['s'] });
    assert.equal((await authorize({ ...base(), client_id: web.clientId, redirect_uri: 'http://localhost:8080/cb' })).status, 400);
  });

  it('invalid scope: redirect with error=invalid_scope (AADSTS70011)', async () => {
    for (const scope of [`api://${emulator.entra.api.clientId}/no_such_scope`, 'user_impersonation']) {
      const response = await authorize({ ...base(), scope });
      assert.equal(response.status, 302);
      const target = location(response);
      assert.equal(target.searchParams.get('error'), 'invalid_scope', scope);
      assert.match(target.searchParams.get('error_description') ?? '', /^AADSTS70011: /);
      assert.equal(target.searchParams.get('state'), 'st-e');
    }
  });

  it('an RFC 8707 resource next to v2 scopes: error=invalid_target AADSTS9010010', async () => {
    for (const resource of ['https://mcp.example/mcp', 'https://mcp.example/']) {
      const response = await authorize({ ...base(), resource });
      assert.equal(response.status, 302);
      const target = location(response);
      assert.equal(target.searchParams.get('error'), 'invalid_target');
      assert.match(target.searchParams.get('error_description') ?? '', /^AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes\./);
      assert.equal(target.searchParams.get('code'), null);
    }
  });

  it('a resource naming the scopes\' own API is let through', async () => {
    const response = await authorize({ ...base(), resource: `api://${emulator.entra.api.clientId}` });
    assert.ok(location(response).searchParams.get('code'));
  });

  it('an unknown code at the token endpoint: AADSTS9002313', async () => {
    const body = await json(await token({ grant_type: 'authorization_code', client_id: client.clientId, code: 'forged', redirect_uri: REDIRECT }));
    assert.deepEqual([body.error, body.error_codes], ['invalid_grant', [9002313]]);
  });

  it('response_type other than code: unsupported_response_type', async () => {
    const target = location(await authorize({ ...base(), response_type: 'token' }));
    assert.equal(target.searchParams.get('error'), 'unsupported_response_type');
  });
});

describe('token: resource parameter and refresh tokens', () => {
  it('refuses resource next to v2 scopes at the token endpoint too (AADSTS9010010)', async () => {
    const { code, verifier, redirectUri } = await signIn();
    const body = await json(await redeem(code, verifier, redirectUri, { resource: 'https://mcp.example/mcp' }));
    assert.deepEqual([body.error, body.error_codes], ['invalid_target', [9010010]]);
  });

  it('rotates the refresh token; the old one stays valid (Entra does not revoke used refresh tokens)', async () => {
    const { code, verifier, redirectUri } = await signIn();
    const first = await json(await redeem(code, verifier, redirectUri));
    const refresh = (refreshToken: string, extra: Record<string, string> = {}) => token({ grant_type: 'refresh_token', client_id: client.clientId, refresh_token: refreshToken, ...extra });
    const second = await json(await refresh(String(first.refresh_token), { scope: `${apiScope()} offline_access` }));
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(decodeJwt(String(second.access_token)).scp, 'user_impersonation');
    const again = await refresh(String(first.refresh_token));
    assert.equal(again.status, 200);
    // No scope on refresh: the scopes first granted.
    const kept = await json(again);
    assert.equal(kept.scope, apiScope());
    assert.ok(kept.refresh_token);
    assert.ok(kept.id_token, 'openid was granted at sign-in');
  });

  it('refresh errors: resource (AADSTS9010010), another client (AADSTS70000), unknown token (AADSTS9002313)', async () => {
    const { code, verifier, redirectUri } = await signIn();
    const { refresh_token: refreshToken } = await json(await redeem(code, verifier, redirectUri));
    const withResource = await json(await token({ grant_type: 'refresh_token', client_id: client.clientId, refresh_token: String(refreshToken), scope: apiScope(), resource: 'https://mcp.example/mcp' }));
    assert.deepEqual(withResource.error_codes, [9010010]);
    const other = emulator.entra.registerPublicClient({ redirectUris: [REDIRECT] });
    const stolen = await json(await token({ grant_type: 'refresh_token', client_id: other.clientId, refresh_token: String(refreshToken) }));
    assert.deepEqual(stolen.error_codes, [70000]);
    const unknown = await json(await token({ grant_type: 'refresh_token', client_id: client.clientId, refresh_token: 'nope' }));
    assert.deepEqual(unknown.error_codes, [9002313]);
  });
});

describe('VS Code and pre-authorized clients', () => {
  const vscode = (redirectUri: string) => {
    const { challenge } = pkce();
    return authorize({ client_id: VS_CODE_CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: `${apiScope()} offline_access`, state: 'v', code_challenge: challenge, code_challenge_method: 'S256' });
  };

  it('VS Code is registered with loopback redirect URIs (any port) and is pre-authorized on the API', async () => {
    assert.deepEqual(emulator.entra.api.preAuthorizedApplications, [{ appId: VS_CODE_CLIENT_ID, scopes: ['user_impersonation'] }]);
    for (const redirectUri of ['http://127.0.0.1:33418/', 'http://localhost:33418/', 'https://vscode.dev/redirect']) {
      const response = await vscode(redirectUri);
      assert.equal(response.status, 302, redirectUri);
      assert.ok(location(response).searchParams.get('code'), redirectUri);
    }
  });

  it('without pre-authorization VS Code (no consent prompt) gets consent_required AADSTS65001', async () => {
    emulator.entra.revokePreAuthorization(VS_CODE_CLIENT_ID);
    try {
      const target = location(await vscode('http://127.0.0.1:33418/'));
      assert.equal(target.searchParams.get('code'), null);
      assert.equal(target.searchParams.get('error'), 'consent_required');
      assert.match(target.searchParams.get('error_description') ?? '', /^AADSTS65001: /);
    } finally {
      emulator.entra.preAuthorize(VS_CODE_CLIENT_ID);
    }
    assert.equal((await vscode('http://127.0.0.1:33418/')).status, 302);
  });
});

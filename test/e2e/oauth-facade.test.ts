import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { VS_CODE_CLIENT_ID } from '../../emulator/entra-tenant.ts';
import { InMemoryOAuthClient, ScriptedBrowser } from '../support/oauth-browser.ts';
import { freePort, startEntraServerProcess, startFacadeServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * The authorization-server facade (MCP_OAUTH_FACADE) through the real
 * server process against the emulated tenant, which behaves as Entra does
 * in 2026 (AADSTS9010010 for `resource` next to v2 scopes, exact redirect
 * URIs, single-use codes): the official SDK client signs in through the
 * facade and calls a tool; the same client against the plain mode fails as
 * real clients do; every attack is refused and audited.
 */
let emulator: Emulator;
let server: ServerProcess & { publicUrl: string };
const CLAUDE_CALLBACK = 'https://claude.ai/api/mcp/auth_callback';

before(async () => {
  emulator = await startEmulator();
  server = await startFacadeServerProcess(emulator, { MCP_OAUTH_REDIRECT_URIS: CLAUDE_CALLBACK });
});
after(async () => {
  await server?.stop();
  await emulator?.close();
});

const facadeEvents = () => server.auditLines().filter((line) => line.event === 'mcp.oauth.request');
const S256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

async function register(redirectUris: string[], name = 'attack-test'): Promise<Response> {
  return fetch(`${server.baseUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: name, redirect_uris: redirectUris }) });
}

async function registeredClient(redirectUri: string): Promise<string> {
  const response = await register([redirectUri]);
  assert.equal(response.status, 201);
  return ((await response.json()) as { client_id: string }).client_id;
}

/** Runs /authorize → Entra → callback in a scripted browser; returns the URL the client's redirect URI receives. */
async function signIn(clientId: string, redirectUri: string, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 'client-state', code_challenge: S256(verifier), code_challenge_method: 'S256', scope: 'user_impersonation', ...extra });
  const browser = new ScriptedBrowser();
  const landed = await browser.follow(`${server.baseUrl}/authorize?${params}`, (url) => url.href.startsWith(redirectUri));
  return { landed, verifier, browser };
}

function redeem(fields: Record<string, string>) {
  return fetch(`${server.baseUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
}

describe('the official SDK client signs in', () => {
  test('through the facade: discovery, dynamic registration, PKCE, the browser step, token, tool call as the signed-in user', async () => {
    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    const provider = new InMemoryOAuthClient(redirectUrl);
    const first = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider: provider })), UnauthorizedError);
    assert.ok(provider.clientInfo?.client_id, 'registered through /register');
    assert.ok(provider.authorizationUrl, 'sent to the browser');
    assert.equal(provider.authorizationUrl.origin, server.baseUrl, 'the facade, not Entra, is the authorization server it found');
    assert.equal(provider.authorizationUrl.searchParams.get('resource'), server.publicUrl, 'the client sends resource as RFC 8707 says');

    const browser = new ScriptedBrowser();
    const landed = await browser.follow(provider.authorizationUrl, (url) => url.href.startsWith(redirectUrl));
    const entraHop = browser.visited.find((url) => url.hostname === 'login.localhost');
    assert.ok(entraHop, 'the browser went through Entra');
    assert.equal(entraHop.searchParams.get('resource'), null, 'no resource reaches Entra');
    assert.equal(entraHop.searchParams.get('scope'), `api://${emulator.entra.api.clientId}/user_impersonation offline_access`);
    assert.equal(landed.searchParams.get('state'), provider.expectedState);
    assert.equal(landed.searchParams.get('iss'), server.baseUrl, 'RFC 9207 iss on the authorization response');

    const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider: provider });
    await transport.finishAuth(landed.searchParams);
    const token = decodeJwt(String(provider.saved?.access_token));
    assert.equal(token.aud, emulator.entra.api.clientId, 'an ordinary Entra access token for this API');
    assert.equal(token.iss, emulator.entra.issuerV2());
    assert.ok(provider.saved?.refresh_token, 'a refresh token came back');
    assert.equal((provider.saved as Record<string, unknown>).id_token, undefined, 'the id token issued to the facade is not passed on');

    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    await client.connect(transport);
    const result = await client.callTool({ name: 'server_info_get', arguments: {} });
    assert.equal(result.isError, undefined);
    assert.match(JSON.stringify(result.structuredContent), /test\.user@emulator\.localhost/);
    await client.close();

    const endpoints = facadeEvents().map((event) => `${event.endpoint}:${event.outcome}`);
    for (const expected of ['metadata:success', 'register:success', 'authorize:success', 'callback:success', 'token:success']) assert.ok(endpoints.includes(expected), `${expected} audited (${endpoints.join(' ')})`);
  });

  test('the refresh grant works when the client sends a bare scope or none (as Claude Code does on reconnect)', async () => {
    const redirectUri = 'http://127.0.0.1:40111/callback';
    const clientId = await registeredClient(redirectUri);
    const { landed, verifier } = await signIn(clientId, redirectUri);
    const tokens = (await (await redeem({ grant_type: 'authorization_code', client_id: clientId, code: landed.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier })).json()) as Record<string, string>;
    for (const scope of ['user_impersonation', undefined]) {
      const refreshed = await redeem({ grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token ?? '', ...(scope && { scope }) });
      assert.equal(refreshed.status, 200, await refreshed.clone().text());
      const body = (await refreshed.json()) as Record<string, string>;
      assert.equal(decodeJwt(body.access_token ?? '').aud, emulator.entra.api.clientId);
      tokens.refresh_token = body.refresh_token ?? tokens.refresh_token ?? '';
    }
  });
});

test("Entra's refusal at sign-in reaches the client as an OAuth error with its AADSTS code and the next step", async () => {
  const otherTenant = '00000000-0000-4000-8000-0000000e7a99';
  emulator.entra.addTenant(otherTenant);
  emulator.entra.addUser({ oid: '00000000-0000-4000-8000-00000000ff01', tenantId: otherTenant, upn: 'outsider@other.example', name: 'Outsider' });
  const redirectUri = 'http://127.0.0.1:40333/callback';
  const clientId = await registeredClient(redirectUri);
  const { landed } = await signIn(clientId, redirectUri, { login_hint: 'outsider@other.example' });
  assert.equal(landed.searchParams.get('state'), 'client-state');
  assert.equal(landed.searchParams.get('iss'), server.baseUrl);
  assert.ok(landed.searchParams.get('error'));
  assert.match(landed.searchParams.get('error_description') ?? '', /^AADSTS50020: .*What to do: The user is not a member/);
  const event = facadeEvents().at(-1) ?? {};
  assert.deepEqual([event.endpoint, event.errorClass, event.aadsts], ['callback', 'entra_refused', '50020']);
});

describe('without the facade (Entra itself is the authorization server)', () => {
  let plain: ServerProcess & { publicUrl: string };
  before(async () => {
    plain = await startEntraServerProcess(emulator);
  });
  after(() => plain?.stop());

  test('the same SDK client fails as real clients do today: Entra answers AADSTS9010010 to the resource it must send', async () => {
    const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
    // Entra offers no registration: the client brings a pre-registered public client id.
    const app = emulator.entra.registerPublicClient({ displayName: 'plain-mode client', redirectUris: ['http://127.0.0.1/callback'] });
    emulator.entra.preAuthorize(app.clientId);
    const provider = new InMemoryOAuthClient(redirectUrl, { clientId: app.clientId, scope: `api://${emulator.entra.api.clientId}/user_impersonation` });
    await assert.rejects(new Client({ name: 'plain', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(new URL(plain.mcpUrl), { authProvider: provider })), UnauthorizedError);
    assert.equal(provider.authorizationUrl?.hostname, 'login.localhost', 'the client went to Entra itself');
    const landed = await new ScriptedBrowser().follow(provider.authorizationUrl, (url) => url.href.startsWith(redirectUrl));
    assert.equal(landed.searchParams.get('error'), 'invalid_target');
    assert.match(landed.searchParams.get('error_description') ?? '', /^AADSTS9010010/);
  });

  test("VS Code's path: its own pre-authorized client id signs in at Entra with no consent prompt, and its token reaches the tools", async () => {
    const verifier = randomBytes(32).toString('base64url');
    const redirectUri = `http://127.0.0.1:${await freePort()}/`;
    // As VS Code's Microsoft sign-in asks: its client id, a loopback redirect, the API's scope, no resource.
    const params = new URLSearchParams({ client_id: VS_CODE_CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: `api://${emulator.entra.api.clientId}/user_impersonation offline_access`, state: 'vscode', code_challenge: S256(verifier), code_challenge_method: 'S256' });
    const landed = await new ScriptedBrowser().follow(emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/authorize?${params}`), (url) => url.href.startsWith(redirectUri));
    assert.ok(landed.searchParams.get('code'), landed.href);
    const token = await fetch(emulator.url('login.localhost', `/${emulator.tenantId}/oauth2/v2.0/token`), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: VS_CODE_CLIENT_ID, code: landed.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier }),
    });
    const accessToken = String(((await token.json()) as Record<string, unknown>).access_token);
    assert.equal(decodeJwt(accessToken).azp, VS_CODE_CLIENT_ID);
    const client = new Client({ name: 'vscode-like', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(plain.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
    const result = await client.callTool({ name: 'server_info_get', arguments: {} });
    assert.equal(result.isError, undefined);
    await client.close();
    const call = plain.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);
    assert.equal(call?.callerAppId, VS_CODE_CLIENT_ID, 'the audit names VS Code as the client');
  });
});

describe('attacks are refused and audited', () => {
  const redirectUri = 'http://127.0.0.1:40222/callback';
  let clientId: string;
  before(async () => {
    clientId = await registeredClient(redirectUri);
  });

  const lastFacadeEvent = () => facadeEvents().at(-1) ?? {};

  test('registering or using a redirect URI the server does not allow (open-redirect tricks included)', async () => {
    assert.equal((await register([CLAUDE_CALLBACK])).status, 201, 'a configured HTTPS callback registers');
    const mixed = await register(['http://127.0.0.1/callback', 'https://evil.example/callback']);
    assert.equal(mixed.status, 201);
    assert.deepEqual(((await mixed.json()) as { redirect_uris: string[] }).redirect_uris, ['http://127.0.0.1/callback'], 'a URI the server does not allow is left out of a registration');
    assert.equal(lastFacadeEvent().errorClass, 'redirect_uris_dropped');
    for (const uri of ['https://evil.example/callback', 'http://127.0.0.1.evil.example/callback', 'http://127.0.0.1@evil.example/callback', 'http://127.0.0.1%2f@evil.example/cb', 'http://127.0.0.1:1/a\\@evil.example']) {
      const response = await register([uri]);
      assert.equal(response.status, 400, uri);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_redirect_uri');
      assert.equal(lastFacadeEvent().errorClass, 'redirect_uri_not_allowed');
    }
    // A registered client asking for a URI it did not register: a page, never a redirect.
    const response = await fetch(`${server.baseUrl}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'https://evil.example/callback', state: 's', code_challenge: S256('x'.repeat(43)), code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.equal(lastFacadeEvent().errorClass, 'redirect_uri_not_allowed');
    const unknown = await fetch(`${server.baseUrl}/authorize?client_id=made-up&redirect_uri=${encodeURIComponent(redirectUri)}`, { redirect: 'manual' });
    assert.equal(unknown.status, 400);
    assert.equal(lastFacadeEvent().errorClass, 'unknown_client');
  });

  test('missing PKCE or state, a resource naming another server, another API\'s scope', async () => {
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ code_challenge: '' , code_challenge_method: '' }, 'invalid_request', 'pkce_missing'],
      [{ code_challenge_method: 'plain' }, 'invalid_request', 'pkce_missing'],
      [{ state: '' }, 'invalid_request', 'state_missing'],
      [{ resource: 'https://other-server.example/mcp' }, 'invalid_target', 'resource_not_this_server'],
      [{ scope: 'https://graph.microsoft.com/Mail.Read' }, 'invalid_scope', 'scope_not_this_api'],
    ];
    for (const [overrides, error, reason] of cases) {
      const params = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 's', code_challenge: S256('v'.repeat(43)), code_challenge_method: 'S256', ...overrides });
      const response = await fetch(`${server.baseUrl}/authorize?${params}`, { redirect: 'manual' });
      assert.equal(response.status, 302, reason);
      const target = new URL(response.headers.get('location') ?? '');
      assert.equal(`${target.origin}${target.pathname}`, redirectUri);
      assert.equal(target.searchParams.get('error'), error, reason);
      assert.equal(target.searchParams.get('iss'), server.baseUrl);
      assert.equal(lastFacadeEvent().errorClass, reason);
    }
  });

  test('a tampered state, or a state replayed or carried to another browser, is refused at the callback', async () => {
    const params = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state: 's', code_challenge: S256('w'.repeat(43)), code_challenge_method: 'S256' });
    const browser = new ScriptedBrowser();
    const atCallback = await browser.follow(`${server.baseUrl}/authorize?${params}`, (url) => url.pathname === '/oauth/callback');
    const state = atCallback.searchParams.get('state') ?? '';
    const tampered = new URL(atCallback);
    tampered.searchParams.set('state', `${state.slice(0, -3)}${state.endsWith('AAA') ? 'BBB' : 'AAA'}`);
    assert.equal((await browser.get(tampered)).status, 400);
    assert.equal(lastFacadeEvent().errorClass, 'state_tampered');
    assert.equal((await new ScriptedBrowser().get(atCallback)).status, 400, 'another browser');
    assert.equal(lastFacadeEvent().errorClass, 'state_not_bound_to_browser');
    assert.equal((await browser.get(atCallback)).status, 302, 'the browser that started it completes once');
    assert.equal((await browser.get(atCallback)).status, 400, 'and only once');
    assert.equal(lastFacadeEvent().errorClass, 'state_not_bound_to_browser');
  });

  test("code injection: another client's code, a wrong verifier, a wrong redirect URI, a replayed code", async () => {
    const { landed, verifier } = await signIn(clientId, redirectUri);
    const code = landed.searchParams.get('code') ?? '';
    const otherClient = await registeredClient(redirectUri);
    const attempts: Array<[Record<string, string>, string]> = [
      [{ client_id: otherClient, code_verifier: verifier, redirect_uri: redirectUri }, 'code_client_mismatch'],
      [{ client_id: clientId, code_verifier: randomBytes(32).toString('base64url'), redirect_uri: redirectUri }, 'pkce_mismatch'],
      [{ client_id: clientId, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:40223/callback' }, 'code_redirect_mismatch'],
      [{ client_id: clientId, code_verifier: verifier, redirect_uri: redirectUri, resource: 'https://other-server.example/mcp' }, 'resource_not_this_server'],
    ];
    for (const [fields, reason] of attempts) {
      const response = await redeem({ grant_type: 'authorization_code', code, ...fields });
      assert.equal(response.status, 400, reason);
      assert.equal(lastFacadeEvent().errorClass, reason);
    }
    const honest = await redeem({ grant_type: 'authorization_code', code, client_id: clientId, code_verifier: verifier, redirect_uri: redirectUri });
    assert.equal(honest.status, 200, 'none of the attempts used the code up');
    const replay = await redeem({ grant_type: 'authorization_code', code, client_id: clientId, code_verifier: verifier, redirect_uri: redirectUri });
    assert.equal(replay.status, 400);
    const body = (await replay.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    assert.match(body.error_description, /^AADSTS54005: .* What to do: The code was already used: sign in again from the MCP client\.$/, 'Entra\'s code and the next step, without its trace ids');
    assert.equal(lastFacadeEvent().errorClass, 'entra_refused');
    assert.equal(lastFacadeEvent().aadsts, '54005', 'the AADSTS code is audited');
  });

  test('no code, token, verifier or state ever reaches the audit', () => {
    const text = JSON.stringify(facadeEvents());
    assert.ok(facadeEvents().length > 10);
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{20,}/, 'no JWT');
    assert.doesNotMatch(text, /v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}/, 'no sealed value (state, code, client id)');
    assert.doesNotMatch(text, /emulator-ac\./, "no Entra code");
  });
});

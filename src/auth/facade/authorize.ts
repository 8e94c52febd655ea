import { createHash, randomBytes } from 'node:crypto';
import { lookUpClient, registeredRedirect } from './clients.ts';
import { aadstsOf, describeEntraError } from './entra-relay.ts';
import { clientIdDigest, type FacadeContext, type FacadeResult } from './facade.ts';
import { redirectHost } from './redirect-uri.ts';
import { qualifyScopes, resourceIsThisServer } from './scopes.ts';

/**
 * `/authorize` and the callback Entra returns to: the two legs of the
 * sign-in. The client's PKCE stays between client and facade; the facade
 * runs its own PKCE with Entra (two-leg PKCE), so Entra's code is useless
 * to anyone without the facade's verifier, which travels only sealed.
 *
 * State is sealed for ten minutes and bound to the browser that started the
 * sign-in by a cookie holding a nonce whose hash is in the state; the
 * callback clears it, so a replayed or transplanted callback is refused.
 */

/** What the facade's `state` at Entra carries (sealed, so short names keep URLs short). */
interface SignInState {
  /** client id */
  c: string;
  /** client name (audit) */
  n?: string;
  /** client redirect URI */
  r: string;
  /** client state */
  s: string;
  /** client code challenge (S256) */
  cc: string;
  /** facade verifier for the Entra leg */
  v: string;
  /** scopes asked of Entra */
  sc: string[];
  /** SHA-256 of the browser-binding nonce */
  b: string;
}

/** What the facade's code carries (sealed, five minutes; Entra's code inside is single-use at Entra). */
export interface FacadeCode {
  /** Entra's authorization code */
  e: string;
  v: string;
  c: string;
  r: string;
  cc: string;
  sc: string[];
  n?: string;
}

const STATE_SECONDS = 600;
const CODE_SECONDS = 300;
const S256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** Entra echoes `state` as given; long client states would only bloat URLs. */
const MAX_CLIENT_STATE = 512;

/** A page for the browser when the client cannot be trusted with a redirect (unknown client, bad redirect URI). */
function refusalPage(status: number, message: string): Response {
  return new Response(`Sign-in refused: ${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...headers } });
}

/** An authorization response to the client, always with `iss` (RFC 9207). */
function toClient(redirectUri: string, issuer: string, params: Record<string, string | undefined>, headers: Record<string, string> = {}): Response {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(name, value);
  target.searchParams.set('iss', issuer);
  return redirect(target.href, headers);
}

const cookieName = (binding: string, secure: boolean) => `${secure ? '__Host-' : ''}mcp-oauth-${binding.slice(0, 16)}`;
const cookieAttributes = (secure: boolean) => `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;

export async function authorizeEndpoint(request: Request, ctx: FacadeContext): Promise<FacadeResult> {
  const params = new URL(request.url).searchParams;
  const clientId = params.get('client_id');
  const ring = await ctx.keyRing();
  const client = lookUpClient(ring, clientId);
  const who = { ...(clientId && { clientId: clientIdDigest(clientId) }), ...(redirectHost(params.get('redirect_uri')) && { redirectHost: redirectHost(params.get('redirect_uri')) as string }) };
  if (!client.ok) {
    return { response: refusalPage(400, 'unknown client_id: register the client at /register first (dynamic client registration).'), audit: { outcome: 'denied', reason: 'unknown_client', oauthError: 'invalid_client', ...who } };
  }
  const name = client.registration.n;
  const audited = { ...who, ...(name && { clientName: name }) };
  const redirectUri = registeredRedirect(client.registration, params.get('redirect_uri'), ctx.redirectUris);
  if (!redirectUri.ok) {
    return { response: refusalPage(400, `${redirectUri.reason}.`), audit: { outcome: 'denied', reason: 'redirect_uri_not_allowed', oauthError: 'invalid_request', ...audited } };
  }
  const state = params.get('state');
  const fail = (error: string, reason: string, description: string): FacadeResult => ({
    response: toClient(redirectUri.uri, ctx.issuer, { error, error_description: description, state: state ?? undefined }),
    audit: { outcome: 'denied', reason, oauthError: error, ...audited },
  });
  if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'unsupported_response_type', 'Only response_type=code is supported.');
  if (!state) return fail('invalid_request', 'state_missing', 'state is required.');
  if (state.length > MAX_CLIENT_STATE) return fail('invalid_request', 'state_too_long', `state must be at most ${MAX_CLIENT_STATE} characters.`);
  const challenge = params.get('code_challenge');
  if (!challenge || params.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'pkce_missing', 'PKCE is required: send code_challenge with code_challenge_method=S256.');
  if (!PKCE_CHALLENGE.test(challenge)) return fail('invalid_request', 'pkce_malformed', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters).');
  if (!resourceIsThisServer(params.get('resource'), ctx.resource, ctx.api)) {
    return fail('invalid_target', 'resource_not_this_server', `resource must name this server (${ctx.resource}).`);
  }
  const scopes = qualifyScopes(params.get('scope'), ctx.api);
  if (!scopes.ok) return fail('invalid_scope', 'scope_not_this_api', scopes.description);

  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(18).toString('base64url');
  const binding = S256(nonce);
  const sealed = ring.seal('state', { c: clientId as string, ...(name && { n: name }), r: redirectUri.uri, s: state, cc: challenge, v: verifier, sc: scopes.scopes, b: binding } satisfies SignInState, { ttlSeconds: STATE_SECONDS });
  const entra = new URL(ctx.entra.authorize);
  const forward: Record<string, string> = {
    client_id: ctx.entraClientId,
    response_type: 'code',
    response_mode: 'query',
    redirect_uri: ctx.callbackUrl,
    scope: scopes.scopes.join(' '),
    state: sealed,
    code_challenge: S256(verifier),
    code_challenge_method: 'S256',
  };
  // Hints that only shape Entra's sign-in page pass through; nothing else does (resource above all).
  for (const hint of ['login_hint', 'domain_hint', 'prompt']) {
    const value = params.get(hint);
    if (value && value.length <= 256) forward[hint] = value;
  }
  for (const [key, value] of Object.entries(forward)) entra.searchParams.set(key, value);
  const cookie = `${cookieName(binding, ctx.secureCookies)}=${nonce}; Max-Age=${STATE_SECONDS}; ${cookieAttributes(ctx.secureCookies)}`;
  return { response: redirect(entra.href, { 'set-cookie': cookie }), audit: { outcome: 'success', ...audited } };
}

function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export async function callbackEndpoint(request: Request, ctx: FacadeContext): Promise<FacadeResult> {
  const params = new URL(request.url).searchParams;
  const ring = await ctx.keyRing();
  const opened = ring.open<SignInState>('state', params.get('state') ?? '');
  if (!opened.ok) {
    const message = opened.reason === 'expired' ? 'the sign-in took too long; start it again from your MCP client.' : 'the sign-in state is not valid; start the sign-in again from your MCP client.';
    return { response: refusalPage(400, message), audit: { outcome: 'denied', reason: `state_${opened.reason}`, oauthError: 'invalid_request' } };
  }
  const state = opened.payload;
  const audited = { clientId: clientIdDigest(state.c), ...(state.n && { clientName: state.n }), ...(redirectHost(state.r) && { redirectHost: redirectHost(state.r) as string }) };
  const name = cookieName(state.b, ctx.secureCookies);
  const nonce = cookieValue(request, name);
  if (!nonce || S256(nonce) !== state.b) {
    return {
      response: refusalPage(400, 'this sign-in was not started in this browser, or was already completed; start it again from your MCP client.'),
      audit: { outcome: 'denied', reason: 'state_not_bound_to_browser', oauthError: 'invalid_request', ...audited },
    };
  }
  const clear = { 'set-cookie': `${name}=; Max-Age=0; ${cookieAttributes(ctx.secureCookies)}` };
  const entraError = params.get('error');
  if (entraError) {
    const aadsts = aadstsOf({ error_description: params.get('error_description') ?? '' });
    return {
      response: toClient(state.r, ctx.issuer, { error: entraError, error_description: describeEntraError(params.get('error_description'), aadsts), state: state.s }, clear),
      audit: { outcome: 'denied', reason: 'entra_refused', oauthError: entraError, ...(aadsts !== undefined && { aadsts }), ...audited },
    };
  }
  const entraCode = params.get('code');
  if (!entraCode) {
    return { response: toClient(state.r, ctx.issuer, { error: 'server_error', error_description: 'Entra returned neither a code nor an error.', state: state.s }, clear), audit: { outcome: 'error', reason: 'entra_no_code', oauthError: 'server_error', ...audited } };
  }
  const code = ring.seal('code', { e: entraCode, v: state.v, c: state.c, r: state.r, cc: state.cc, sc: state.sc, ...(state.n && { n: state.n }) } satisfies FacadeCode, { ttlSeconds: CODE_SECONDS });
  return { response: toClient(state.r, ctx.issuer, { code, state: state.s }, clear), audit: { outcome: 'success', ...audited } };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FacadeCode } from './authorize.ts';
import { relayTokenRequest, type OAuthError } from './entra-relay.ts';
import { clientIdDigest, type FacadeContext, type FacadeResult } from './facade.ts';
import { redirectHost } from './redirect-uri.ts';
import { qualifyScopes, resourceIsThisServer } from './scopes.ts';

/**
 * `/token`: the authorization-code grant (the client's PKCE checked here,
 * Entra's code redeemed with the facade's verifier and the managed identity
 * as client assertion) and the refresh-token grant (relayed with the scopes
 * qualified, whatever the client sends or drops on refresh). Answers carry
 * Entra's access and refresh tokens unchanged; the ID token is not passed
 * on (it was issued to the facade, not to the client).
 */

const MAX_FORM_BYTES = 16 * 1024;
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function oauthErrorResponse(failure: OAuthError): Response {
  return Response.json({ error: failure.error, error_description: failure.description }, { status: failure.status, headers: NO_STORE });
}

function refused(error: string, reason: string, description: string, facts: FacadeResult['audit'] = { outcome: 'denied' }): FacadeResult {
  return { response: oauthErrorResponse({ error, description, status: 400 }), audit: { ...facts, outcome: 'denied', reason, oauthError: error } };
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** What goes back to the client: the OAuth fields of Entra's answer, nothing else. */
function tokensForClient(body: Record<string, unknown>): Response {
  const answer: Record<string, unknown> = { access_token: body.access_token, token_type: 'Bearer' };
  for (const field of ['expires_in', 'scope', 'refresh_token'] as const) if (body[field] !== undefined) answer[field] = body[field];
  return Response.json(answer, { headers: NO_STORE });
}

export async function tokenEndpoint(request: Request, ctx: FacadeContext): Promise<FacadeResult> {
  if (!request.headers.get('content-type')?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return refused('invalid_request', 'not_form_encoded', 'The token request must be application/x-www-form-urlencoded.');
  }
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_FORM_BYTES) return refused('invalid_request', 'body_too_large', 'The token request is too large.');
  const form = new URLSearchParams(text);
  const grantType = form.get('grant_type') ?? undefined;
  const base = { outcome: 'denied' as const, ...(grantType && { grantType }) };
  if (!resourceIsThisServer(form.get('resource'), ctx.resource, ctx.api)) {
    return refused('invalid_target', 'resource_not_this_server', `resource must name this server (${ctx.resource}).`, base);
  }
  if (grantType === 'authorization_code') return redeemCode(form, ctx, base);
  if (grantType === 'refresh_token') return refresh(form, ctx, base);
  return refused('unsupported_grant_type', 'unsupported_grant_type', 'Supported grants: authorization_code, refresh_token.', base);
}

async function redeemCode(form: URLSearchParams, ctx: FacadeContext, base: FacadeResult['audit']): Promise<FacadeResult> {
  const opened = (await ctx.keyRing()).open<FacadeCode>('code', form.get('code') ?? '');
  if (!opened.ok) return refused('invalid_grant', `code_${opened.reason}`, opened.reason === 'expired' ? 'The code expired; sign in again.' : 'The code is not valid.', base);
  const code = opened.payload;
  const facts = { ...base, clientId: clientIdDigest(code.c), ...(code.n && { clientName: code.n }), ...(redirectHost(code.r) && { redirectHost: redirectHost(code.r) as string }) };
  const clientId = form.get('client_id');
  // A code is bound to the client that asked for it and to its redirect URI (RFC 6749 §4.1.3).
  if (clientId !== null && clientId !== code.c) return refused('invalid_grant', 'code_client_mismatch', 'The code was issued to another client.', facts);
  if (form.get('redirect_uri') !== code.r) return refused('invalid_grant', 'code_redirect_mismatch', 'redirect_uri must be the one the code was requested with.', facts);
  const verifier = form.get('code_verifier');
  if (!verifier) return refused('invalid_request', 'pkce_verifier_missing', 'code_verifier is required (PKCE).', facts);
  if (!sameText(createHash('sha256').update(verifier).digest('base64url'), code.cc)) return refused('invalid_grant', 'pkce_mismatch', 'code_verifier does not match the code_challenge.', facts);
  const relayed = await relayTokenRequest(
    { endpoints: ctx.entra, clientId: ctx.entraClientId, clientAssertion: ctx.clientAssertion, fetch: ctx.fetch },
    { grant_type: 'authorization_code', code: code.e, redirect_uri: ctx.callbackUrl, code_verifier: code.v, scope: code.sc.join(' ') },
  );
  if (!relayed.ok) return relayFailure(relayed.failure, facts);
  return { response: tokensForClient(relayed.body), audit: { ...facts, outcome: 'success' } };
}

async function refresh(form: URLSearchParams, ctx: FacadeContext, base: FacadeResult['audit']): Promise<FacadeResult> {
  const refreshToken = form.get('refresh_token');
  if (!refreshToken) return refused('invalid_request', 'refresh_token_missing', 'refresh_token is required.', base);
  const clientId = form.get('client_id');
  const facts = { ...base, ...(clientId && { clientId: clientIdDigest(clientId) }) };
  // Clients drop or shorten the scope on refresh (claude-code #89438): qualify what they send, or ask for the API's scopes.
  const scopes = qualifyScopes(form.get('scope'), ctx.api);
  if (!scopes.ok) return refused('invalid_scope', 'scope_not_this_api', scopes.description, facts);
  const relayed = await relayTokenRequest(
    { endpoints: ctx.entra, clientId: ctx.entraClientId, clientAssertion: ctx.clientAssertion, fetch: ctx.fetch },
    { grant_type: 'refresh_token', refresh_token: refreshToken, scope: scopes.scopes.join(' ') },
  );
  if (!relayed.ok) return relayFailure(relayed.failure, facts);
  return { response: tokensForClient(relayed.body), audit: { ...facts, outcome: 'success' } };
}

function relayFailure(failure: OAuthError, facts: FacadeResult['audit']): FacadeResult {
  return {
    response: oauthErrorResponse(failure),
    audit: { ...facts, outcome: failure.status >= 500 ? 'error' : 'denied', reason: 'entra_refused', oauthError: failure.error, ...(failure.aadsts !== undefined && { aadsts: failure.aadsts }) },
  };
}

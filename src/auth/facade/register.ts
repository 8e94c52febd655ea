import { z } from 'zod';
import type { Registration } from './clients.ts';
import { clientIdDigest, type FacadeContext, type FacadeResult } from './facade.ts';
import { checkRedirectUri, redirectHost } from './redirect-uri.ts';

/**
 * `/register`: dynamic client registration (RFC 7591), which Claude's
 * connectors and others need and Entra does not offer. It invents no trust:
 * only redirect URIs the server already allows are registered (loopback, or
 * one of `MCP_OAUTH_REDIRECT_URIS`), the client is public (`none`), and the client
 * id is the sealed registration (src/auth/facade/clients.ts), so nothing is
 * stored and no registration can be widened later.
 */

const MAX_BODY_BYTES = 16 * 1024;
const GRANTS = ['authorization_code', 'refresh_token'] as const;

const registrationRequest = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(10),
  client_name: z.string().max(200).optional(),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  token_endpoint_auth_method: z.string().optional(),
});

function registrationError(error: string, description: string, reason: string, extra: FacadeResult['audit'] = { outcome: 'denied' }): FacadeResult {
  return {
    response: Response.json({ error, error_description: description }, { status: 400, headers: { 'cache-control': 'no-store' } }),
    audit: { ...extra, outcome: 'denied', reason, oauthError: error },
  };
}

export async function registerEndpoint(request: Request, ctx: FacadeContext): Promise<FacadeResult> {
  if (!request.headers.get('content-type')?.toLowerCase().startsWith('application/json')) {
    return registrationError('invalid_client_metadata', 'The registration must be a JSON document (application/json).', 'not_json');
  }
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) return registrationError('invalid_client_metadata', 'The registration is too large.', 'body_too_large');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return registrationError('invalid_client_metadata', 'The registration is not valid JSON.', 'not_json');
  }
  const parsed = registrationRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return registrationError('invalid_client_metadata', `${issue?.path.join('.') || 'registration'}: ${issue?.message ?? 'invalid'}`, 'invalid_metadata');
  }
  const metadata = parsed.data;
  // Control characters never reach audit or a consent screen.
  const name = metadata.client_name?.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim() || undefined;
  const named = { outcome: 'denied' as const, ...(name && { clientName: name }) };
  // RFC 7591 §3.2.1 lets the server replace requested values: URIs it does not allow are left out
  // (VS Code registers a loopback URI next to https://vscode.dev/redirect), and none allowed is an error.
  const checked = metadata.redirect_uris.map((uri) => ({ uri, check: checkRedirectUri(uri, ctx.redirectUris) }));
  const redirectUris = checked.filter((entry) => entry.check.ok).map((entry) => entry.uri);
  if (redirectUris.length === 0) {
    const [first] = checked;
    const reason = first && !first.check.ok ? first.check.reason : 'redirect_uri is not allowed';
    return registrationError('invalid_redirect_uri', `${reason}: ${first?.uri.slice(0, 200) ?? ''}`, 'redirect_uri_not_allowed', { ...named, ...(redirectHost(first?.uri) && { redirectHost: redirectHost(first?.uri) as string }) });
  }
  const unsupportedGrant = metadata.grant_types?.find((grant) => !(GRANTS as readonly string[]).includes(grant));
  if (unsupportedGrant) return registrationError('invalid_client_metadata', `grant_types: ${unsupportedGrant.slice(0, 100)} is not supported (${GRANTS.join(', ')}).`, 'unsupported_grant_type', named);
  if (metadata.response_types?.some((type) => type !== 'code')) return registrationError('invalid_client_metadata', 'response_types: only code is supported.', 'unsupported_response_type', named);
  const registration: Registration = { u: redirectUris, ...(name && { n: name }) };
  const clientId = (await ctx.keyRing()).seal('client', registration);
  // RFC 7591 §3.2.1: the server may replace requested values; every client here is public.
  const answer = {
    client_id: clientId,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    redirect_uris: redirectUris,
    grant_types: [...GRANTS],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(name && { client_name: name }),
  };
  return {
    response: Response.json(answer, { status: 201, headers: { 'cache-control': 'no-store' } }),
    audit: { outcome: 'success', clientId: clientIdDigest(clientId), ...(name && { clientName: name }), ...(redirectHost(redirectUris[0]) && { redirectHost: redirectHost(redirectUris[0]) as string }), ...(redirectUris.length < metadata.redirect_uris.length && { reason: 'redirect_uris_dropped' }) },
  };
}

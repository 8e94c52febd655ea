import {
  protectedResourceMetadataResponse,
  protectedResourceMetadataUrl,
  wwwAuthenticate,
  type ProtectedResourceSettings,
} from '../auth/protected-resource.ts';
import { withHeaders } from './http.ts';

/** 401 `insufficient_claims` with Entra's claims request (base64), so the client signs in again asking for them. */
export function claimsChallengeResponse(encodedClaims: string, settings: ProtectedResourceSettings): Response {
  const challenge = wwwAuthenticate({
    resourceMetadataUrl: protectedResourceMetadataUrl(settings),
    scope: settings.scopes.join(' '),
    error: 'insufficient_claims',
    errorDescription: 'Conditional Access requires a new sign-in with additional claims',
    claims: encodedClaims,
  });
  return new Response('Conditional Access requires a new sign-in with the claims in the WWW-Authenticate challenge.\n', {
    status: 401,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'www-authenticate': challenge },
  });
}

/** The RFC 9728 document: public, cacheable, readable from any origin (browser-based clients fetch it). */
export function protectedResourceMetadataAnswer(request: Request, settings: ProtectedResourceSettings): Response {
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-allow-headers': '*', 'access-control-max-age': '600' };
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD, OPTIONS' } });
  const document = withHeaders(protectedResourceMetadataResponse(settings), cors);
  return request.method === 'HEAD' ? new Response(null, { status: 200, headers: document.headers }) : document;
}


import { FACADE_PATHS, type FacadeContext } from './facade.ts';

/**
 * RFC 8414 authorization server metadata for the facade (served at the
 * RFC 8414 path and the OpenID one, where clients also look). It promises
 * only what the facade does: the code flow with PKCE S256 for public
 * clients, refresh tokens, dynamic registration, and `iss` on every
 * authorization response (RFC 9207, which the 2026-07-28 MCP revision asks
 * of an authorization server).
 */
export function authorizationServerMetadata(ctx: Pick<FacadeContext, 'issuer' | 'api'>): Record<string, unknown> {
  return {
    issuer: ctx.issuer,
    authorization_endpoint: `${ctx.issuer}${FACADE_PATHS.authorize}`,
    token_endpoint: `${ctx.issuer}${FACADE_PATHS.token}`,
    registration_endpoint: `${ctx.issuer}${FACADE_PATHS.register}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...ctx.api.known.map((name) => `${ctx.api.identifierUri}/${name}`), 'offline_access'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: false,
  };
}

/**
 * The App Service / Functions managed identity endpoint on `identity.localhost`.
 *
 * Matches what msal-node's `AppService` source sends when `IDENTITY_ENDPOINT`
 * and `IDENTITY_HEADER` are set: `GET <endpoint>?api-version=2019-08-01&resource=<resource>`
 * plus `client_id`, `object_id` or `mi_res_id` for a user-assigned identity, with
 * the secret in `X-IDENTITY-HEADER`. msal reads `access_token`, `expires_on`
 * (epoch seconds, a string here as on App Service), `resource` and `token_type`,
 * and turns an error body's `message` into the error description.
 */
import { randomUUID } from 'node:crypto';
import { appTokenClaims, TOKEN_EXCHANGE_AUDIENCE, uti, v2Issuer, type TokenIssuer } from './entra.ts';
import type { EmulatorContext, EmulatorService, TokenClaims } from './types.ts';

export const IDENTITY_HOST = 'identity.localhost';
export const IDENTITY_PATH = '/msi/token';
const API_VERSION = '2019-08-01';
/** App Service hands out managed identity tokens valid for about a day. */
const MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** The one user-assigned identity attached to the emulated Functions app. */
export interface ManagedIdentity {
  tenantId: string;
  /** Value the platform puts in `IDENTITY_HEADER`. */
  secret: string;
  clientId: string;
  principalId: string;
  /** ARM resource id, accepted as `mi_res_id` and stamped as `xms_mirid`. */
  resourceId: string;
  /**
   * The app roles assigned to this identity on a resource (Entra's app role assignments, e.g. Graph
   * application permissions granted by an admin), for the token's `roles`; none by default.
   */
  rolesFor?: (audience: string) => string[];
}

/** App Service's error body: `statusCode`, `message`, `correlationId`. */
function platformError(statusCode: number, message: string): Response {
  return Response.json({ statusCode, message, correlationId: randomUUID() }, { status: statusCode });
}

export function createIdentityService(identity: ManagedIdentity, issuer: TokenIssuer): EmulatorService {
  return {
    name: 'identity',
    hostPattern: IDENTITY_HOST,
    matches: (hostname) => hostname === IDENTITY_HOST,
    async handle(req, ctx) {
      const url = new URL(req.url);
      if (url.pathname !== IDENTITY_PATH) return platformError(404, `No managed identity endpoint at ${url.pathname}.`);
      if (req.method !== 'GET') return platformError(405, `Method ${req.method} is not allowed.`);
      if (req.headers.get('x-identity-header') !== identity.secret) {
        return platformError(401, 'The X-IDENTITY-HEADER header is missing or does not match the expected value.');
      }
      const query = url.searchParams;
      if (query.get('api-version') !== API_VERSION) {
        return platformError(400, `The api-version '${query.get('api-version') ?? ''}' is not supported; use ${API_VERSION}.`);
      }
      const resource = query.get('resource');
      if (!resource) return platformError(400, "The 'resource' query parameter is required.");
      const selectionError = checkIdentitySelection(query, identity);
      if (selectionError) return platformError(400, selectionError);
      return issueToken(identity, issuer, resource, ctx);
    },
  };
}

/**
 * The app has only the user-assigned identity, so a request must name it
 * (as the product must in Azure) by client id, object id or resource id.
 */
function checkIdentitySelection(query: URLSearchParams, identity: ManagedIdentity): string | null {
  const selectors: Array<[string, string]> = [
    ['client_id', identity.clientId],
    ['object_id', identity.principalId],
    ['mi_res_id', identity.resourceId],
  ];
  const given = selectors.filter(([parameter]) => query.has(parameter));
  if (given.length === 0) {
    return 'No system-assigned managed identity is enabled for this app; pass client_id of a user-assigned identity.';
  }
  const unknown = given.find(([parameter, expected]) => query.get(parameter)?.toLowerCase() !== expected.toLowerCase());
  return unknown ? `No user-assigned managed identity with ${unknown[0]} '${query.get(unknown[0])}' is assigned to this app.` : null;
}

async function issueToken(identity: ManagedIdentity, issuer: TokenIssuer, resource: string, ctx: EmulatorContext): Promise<Response> {
  // msal strips `/.default` before calling; a caller passing a scope still gets the bare resource.
  const audience = resource.replace(/\/\.default$/, '');
  const claims =
    audience === TOKEN_EXCHANGE_AUDIENCE
      ? federatedCredentialClaims(identity, ctx)
      : appTokenClaims(identity, audience, { appidacr: '2', xms_mirid: identity.resourceId, ...rolesClaim(identity.rolesFor?.(audience) ?? []) });
  const expiresOn = Math.floor(Date.now() / 1000) + MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS;
  const accessToken = await issuer.sign(claims, { expiresInSeconds: MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS });
  return Response.json({
    access_token: accessToken,
    expires_on: String(expiresOn),
    resource: audience,
    token_type: 'Bearer',
    client_id: identity.clientId,
  });
}

/** Entra leaves `roles` out of a token when the identity has no role on the resource. */
const rolesClaim = (roles: string[]) => (roles.length > 0 ? { roles } : {});

/**
 * A token for `api://AzureADTokenExchange`, the client assertion of an app
 * registration that trusts this identity as a federated credential: v2
 * shape, issuer `<login host>/<tenant>/v2.0`, subject the identity's
 * principal id (what the credential's issuer and subject must name).
 */
function federatedCredentialClaims(identity: ManagedIdentity, ctx: EmulatorContext): TokenClaims {
  return {
    aud: TOKEN_EXCHANGE_AUDIENCE,
    iss: v2Issuer(ctx, identity.tenantId),
    sub: identity.principalId,
    oid: identity.principalId,
    tid: identity.tenantId,
    azp: identity.clientId,
    azpacr: '2',
    idtyp: 'app',
    uti: uti(),
    ver: '2.0',
    xms_mirid: identity.resourceId,
  };
}

import { anonymousPrincipal, createPrincipal, type Principal } from '../auth/principal.ts';

/** Who is calling: one type for every auth mode (src/auth/principal.ts). */
export type CallerIdentity = Principal;

interface EasyAuthPrincipal {
  claims?: Array<{ typ?: unknown; val?: unknown }>;
}

type ClaimField = 'objectId' | 'tenantId' | 'upn' | 'name' | 'appId';
const CLAIM_ALIASES: Record<string, ClaimField> = {
  oid: 'objectId',
  'http://schemas.microsoft.com/identity/claims/objectidentifier': 'objectId',
  tid: 'tenantId',
  'http://schemas.microsoft.com/identity/claims/tenantid': 'tenantId',
  preferred_username: 'upn',
  upn: 'upn',
  name: 'name',
  appid: 'appId',
  azp: 'appId',
};

/**
 * The headers App Service authentication (Easy Auth) injects after it has
 * stripped any the client sent. Only trustworthy behind Easy Auth: in any
 * other mode they come from the client and are ignored (and audited).
 */
export const PRINCIPAL_HEADERS = [
  'x-ms-client-principal',
  'x-ms-client-principal-id',
  'x-ms-client-principal-name',
  'x-ms-client-principal-idp',
  'x-ms-token-aad-access-token',
  'x-ms-token-aad-id-token',
] as const;

/** Which principal headers a request carries (names only, never values). */
export function principalHeadersIn(request: Request): string[] {
  return PRINCIPAL_HEADERS.filter((name) => request.headers.has(name));
}

function decodePrincipal(header: string | null): EasyAuthPrincipal | undefined {
  if (!header || header.length > 16_384) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as EasyAuthPrincipal) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The caller App Service authentication admitted, from its headers; undefined
 * when they are missing (the request did not pass Easy Auth: the handler
 * answers 401). Call only in `easyAuth` mode, which config.ts allows only on
 * App Service with authentication enabled. The token store's access token,
 * when App Service forwards it, is kept as the on-behalf-of assertion.
 */
export function easyAuthPrincipal(request: Request): Principal | undefined {
  const principalId = request.headers.get('x-ms-client-principal-id');
  if (!principalId) return undefined;
  const fields: Partial<Record<ClaimField, string>> = {
    objectId: principalId,
    upn: request.headers.get('x-ms-client-principal-name') ?? undefined,
  };
  const roles: string[] = [];
  const scopes: string[] = [];
  const groups: string[] = [];
  for (const claim of decodePrincipal(request.headers.get('x-ms-client-principal'))?.claims ?? []) {
    if (typeof claim.typ !== 'string' || typeof claim.val !== 'string') continue;
    if (claim.typ === 'roles' || claim.typ === 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role') roles.push(claim.val);
    else if (claim.typ === 'scp' || claim.typ === 'http://schemas.microsoft.com/identity/claims/scope') scopes.push(...claim.val.split(/\s+/).filter(Boolean));
    else if (claim.typ === 'groups' || claim.typ === 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups') groups.push(claim.val);
    const field = CLAIM_ALIASES[claim.typ];
    if (field && fields[field] === undefined) fields[field] = claim.val;
  }
  return createPrincipal(
    { authMode: 'easyAuth', idtyp: 'user', ...fields, roles, scopes, groups },
    request.headers.get('x-ms-token-aad-access-token') ?? undefined,
  );
}

export { anonymousPrincipal };

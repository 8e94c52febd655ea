import type { AuthMode } from '../config.ts';

/** Who is calling, as far as this server can tell. Feeds tools and the audit log. */
export interface CallerIdentity {
  /** How the caller was admitted: a Functions key (anonymous to the app) or an Easy Auth principal. */
  authMode: AuthMode;
  objectId?: string;
  tenantId?: string;
  name?: string;
  appId?: string;
  identityProvider?: string;
}

interface EasyAuthPrincipal {
  claims?: Array<{ typ?: unknown; val?: unknown }>;
}

const CLAIM_ALIASES: Record<string, keyof CallerIdentity> = {
  oid: 'objectId',
  'http://schemas.microsoft.com/identity/claims/objectidentifier': 'objectId',
  tid: 'tenantId',
  'http://schemas.microsoft.com/identity/claims/tenantid': 'tenantId',
  preferred_username: 'name',
  upn: 'name',
  appid: 'appId',
  azp: 'appId',
};

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
 * Reads the caller from the request. In `easyAuth` mode App Service has
 * authenticated the caller, stripped any client-sent `X-MS-CLIENT-PRINCIPAL*`
 * headers and injected its own; a request without them did not pass Easy Auth
 * and gets `undefined` (the handler answers 401). These headers are only
 * trusted in that mode: anywhere else anyone could send them.
 */
export function callerFromRequest(request: Request, authMode: AuthMode): CallerIdentity | undefined {
  if (authMode !== 'easyAuth') return { authMode };
  const principalId = request.headers.get('x-ms-client-principal-id');
  if (!principalId) return undefined;
  const caller: CallerIdentity = {
    authMode,
    objectId: principalId,
    name: request.headers.get('x-ms-client-principal-name') ?? undefined,
    identityProvider: request.headers.get('x-ms-client-principal-idp') ?? undefined,
  };
  for (const claim of decodePrincipal(request.headers.get('x-ms-client-principal'))?.claims ?? []) {
    const field = typeof claim.typ === 'string' ? CLAIM_ALIASES[claim.typ] : undefined;
    if (field && typeof claim.val === 'string' && caller[field] === undefined) {
      (caller as unknown as Record<string, string>)[field] = claim.val;
    }
  }
  return caller;
}

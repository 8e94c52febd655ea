import type { McpAuthMode } from './settings.ts';

/**
 * Who is calling, once admitted: the one identity type tools, authorization
 * and the audit log see, whatever the auth mode.
 *
 * The caller's raw access token is kept for exactly one use, as the user
 * assertion of an on-behalf-of exchange, and is never a property of the
 * object: it lives in a module-private WeakMap, read through
 * `onBehalfOfAssertion()`. So `JSON.stringify`, `util.inspect` (even with
 * `showHidden`), spreading, `structuredClone` and audit serializers cannot
 * print or copy it.
 */
export interface Principal {
  readonly authMode: McpAuthMode;
  /** `user`: delegated (a signed-in user); `app`: app-only (client credentials); undefined: no identity (`functionKey`, `none`). */
  readonly idtyp: 'user' | 'app' | undefined;
  /** Entra object id (`oid`) of the user or of the calling app's service principal. */
  readonly objectId: string | undefined;
  readonly tenantId: string | undefined;
  /** Client id of the calling application (`azp` in v2 tokens, `appid` in v1). */
  readonly appId: string | undefined;
  /** Display name (`name`), where present. */
  readonly name: string | undefined;
  /** Sign-in name (`preferred_username`, `upn`, `unique_name`), where present. */
  readonly upn: string | undefined;
  /** App roles (`roles`). */
  readonly roles: readonly string[];
  /** Delegated scopes (`scp`, space-separated in the token), bare names. */
  readonly scopes: readonly string[];
  /** Group object ids (`groups`), where the app registration emits them. */
  readonly groups: readonly string[];
  /** `1.0` or `2.0` for Entra tokens. */
  readonly tokenVersion: string | undefined;
  /** When the token that admitted the caller expires (epoch ms). */
  readonly expiresAt: number | undefined;
}

export type PrincipalFields = Partial<Omit<Principal, 'authMode' | 'roles' | 'scopes' | 'groups'>> & {
  authMode: McpAuthMode;
  roles?: readonly string[];
  scopes?: readonly string[];
  groups?: readonly string[];
};

const assertions = new WeakMap<Principal, string>();

/**
 * A frozen Principal. `token` (the caller's access token for this API) is
 * kept aside for `onBehalfOfAssertion()`; pass it only when it may be
 * exchanged (validated Entra tokens, Easy Auth's `X-MS-TOKEN-AAD-ACCESS-TOKEN`).
 */
export function createPrincipal(fields: PrincipalFields, token?: string): Principal {
  const principal: Principal = Object.freeze({
    authMode: fields.authMode,
    idtyp: fields.idtyp,
    objectId: fields.objectId,
    tenantId: fields.tenantId,
    appId: fields.appId,
    name: fields.name,
    upn: fields.upn,
    roles: Object.freeze([...(fields.roles ?? [])]),
    scopes: Object.freeze([...(fields.scopes ?? [])]),
    groups: Object.freeze([...(fields.groups ?? [])]),
    tokenVersion: fields.tokenVersion,
    expiresAt: fields.expiresAt,
  });
  if (token) assertions.set(principal, token);
  return principal;
}

/** The caller in a mode that identifies nobody (`functionKey`, `none`). */
export function anonymousPrincipal(authMode: McpAuthMode): Principal {
  return createPrincipal({ authMode });
}

/**
 * The token that admitted this principal, for use as the user assertion of
 * an on-behalf-of exchange and nothing else (never forward it downstream,
 * never log it). Undefined for principals created without one, and for
 * copies: only the object `createPrincipal` returned carries it.
 */
export function onBehalfOfAssertion(principal: Principal): string | undefined {
  return assertions.get(principal);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/**
 * Whether an Entra access token is app-only. `idtyp` (an optional claim)
 * says so when present; without it, Entra's documented fallback: no `scp`,
 * and `sub` equal to `oid` (an app's token names its own service principal;
 * a user's `sub` is pairwise). A user's ID token (no `scp`, `sub` ≠ `oid`)
 * is therefore a user token without scope, never an app.
 */
export function tokenIdentityType(claims: Record<string, unknown>): 'user' | 'app' {
  if (claims.idtyp === 'app') return 'app';
  if (claims.idtyp === 'user') return 'user';
  const hasScope = typeof claims.scp === 'string' && claims.scp.trim() !== '';
  return !hasScope && text(claims.oid) !== undefined && claims.oid === claims.sub ? 'app' : 'user';
}

/** A Principal from the claims of a validated Entra access token (v1 or v2). */
export function principalFromClaims(claims: Record<string, unknown>, authMode: McpAuthMode, token?: string): Principal {
  const scp = text(claims.scp);
  return createPrincipal(
    {
      authMode,
      idtyp: tokenIdentityType(claims),
      objectId: text(claims.oid),
      tenantId: text(claims.tid),
      appId: text(claims.azp) ?? text(claims.appid),
      name: text(claims.name),
      upn: text(claims.preferred_username) ?? text(claims.upn) ?? text(claims.unique_name),
      roles: texts(claims.roles),
      scopes: scp ? scp.split(/\s+/).filter(Boolean) : [],
      groups: texts(claims.groups),
      tokenVersion: text(claims.ver),
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
    },
    token,
  );
}

/**
 * The directory behind the emulated Entra ID (`entra.ts`): tenants, app
 * registrations (identifier URIs, federated credentials, secrets,
 * certificates), downstream resources with their delegated permissions,
 * users, consent grants, user assignment and Conditional Access claims
 * challenges, plus the helpers tests use to mint tokens for the product's
 * API with chosen claims (and deliberately bad ones).
 *
 * It starts with what the emulated Functions app needs for on-behalf-of
 * without any secret: the API's app registration (`DEFAULT_API_CLIENT_ID`,
 * `api://<client-id>`, scope `user_impersonation`) whose one federated
 * credential is the emulated user-assigned managed identity (issuer: this
 * emulator's v2 issuer for the home tenant; subject: the identity's
 * principal id; audience `api://AzureADTokenExchange`), admin consent for
 * Kusto `user_impersonation` and Graph `User.Read`, and the test user. VS
 * Code's public client is registered (loopback redirect URIs, no consent
 * prompt) and pre-authorized on the API, for the authorization code flow.
 *
 * @example
 * const token = await emulator.entra.mintApiToken({ scp: 'user_impersonation' });
 * const appToken = await emulator.entra.mintApiToken({ kind: 'app', roles: ['mcp.invoke'] });
 * const forged = await emulator.entra.mintApiToken({ alg: 'HS256' }); // signed with the public key
 * await emulator.entra.rotateSigningKey();
 */
import { createHash, X509Certificate } from 'node:crypto';
import { base64url } from 'jose';
import { craftHs256Jwt, craftUnsecuredJwt, guidFrom, TOKEN_EXCHANGE_AUDIENCE, uti, v1Issuer, v2Issuer, type TokenIssuer } from './entra.ts';
import type { EmulatorContext, TokenClaims } from './types.ts';

/** The product API's app registration in the emulated tenant (obviously fake, fixed). */
export const DEFAULT_API_CLIENT_ID = '00000000-0000-4000-8000-00000000a9a1';
/** VS Code's public client id: the usual `azp` of a user token for an MCP server. */
export const VS_CODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';
/** Azure Data Explorer's first-party application id. */
export const KUSTO_APP_ID = '2746ea77-4702-4b45-80ca-3c97e680e8b7';
/** Microsoft Graph's first-party application id. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const DEFAULT_USER_UPN = 'test.user@emulator.localhost';
export const DEFAULT_USER_NAME = 'Test User';

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface AppCertificate {
  pem: string;
  /** base64url SHA-1 and SHA-256 thumbprints, as in `x5t` / `x5t#S256` headers. */
  x5t: string;
  x5tS256: string;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  identifierUris: string[];
  /** Delegated scopes the app exposes (bare names). */
  scopes: string[];
  appRoles: string[];
  federatedCredentials: FederatedCredential[];
  secrets: string[];
  certificates: AppCertificate[];
  /** "Allow public client flows" / a mobile-and-desktop platform: no client authentication at the token endpoint. */
  publicClient: boolean;
  /**
   * Redirect URIs of the web or mobile-and-desktop platform, matched exactly; for a public client a
   * loopback URI registered without a port (`http://localhost`, `http://127.0.0.1`, with or without
   * a path) accepts any port.
   */
  redirectUris: string[];
  /** Redirect URIs of the single-page-application platform: PKCE required (AADSTS9002325). */
  spaRedirectUris: string[];
  /** Clients pre-authorized on this API (`api.preAuthorizedApplications`): no consent needed for these scopes. */
  preAuthorizedApplications: Array<{ appId: string; scopes: string[] }>;
  /**
   * Whether a user signing in to this client can be shown a consent prompt (the emulator then
   * records user consent, as if accepted). False for first-party clients such as VS Code, which
   * show none: without pre-authorization or admin consent they get AADSTS65001.
   */
  consentPrompt: boolean;
}

/** A downstream resource (its service principal) that tokens can be obtained for. */
export interface ResourceApp {
  appId: string;
  displayName: string;
  /** Resource identifiers a scope may name: exact (compared without trailing slash, case-insensitively) or patterns. */
  identifiers: Array<string | RegExp>;
  delegatedPermissions: string[];
  /** `appRoleAssignmentRequired`: only `assignedUsers` get tokens (else AADSTS50105). */
  assignmentRequired: boolean;
  assignedUsers: Set<string>;
}

/** Input of `registerPublicClient`. */
export interface PublicClientInput {
  clientId?: string;
  displayName?: string;
  redirectUris?: string[];
  spaRedirectUris?: string[];
  consentPrompt?: boolean;
}

export interface DirectoryUser {
  oid: string;
  tenantId: string;
  upn: string;
  name: string;
}

export interface ClaimsChallenge {
  /** Resource (app id or identifier) it applies to; every resource when omitted. */
  resource?: string;
  /** User object id it applies to; every user when omitted. */
  userId?: string;
  /** The `claims` value returned (a JSON string), e.g. `{"access_token":{"capolids":{"essential":true,"values":["…"]}}}`. */
  claims: string;
  /** AADSTS50079 (MFA registration, the default) or AADSTS50076 (MFA required). */
  code?: 50076 | 50079;
  /** Whether the user's token already satisfies it; default: its `amr` includes `mfa`. */
  satisfiedBy?: (assertion: TokenClaims) => boolean;
}

export interface ApiTokenOptions {
  /** `user` (delegated, the default) or `app` (client credentials). */
  kind?: 'user' | 'app';
  /** Token version: `2.0` (default; `aud` = client id) or `1.0` (`aud` = identifier URI, `sts.windows.net` issuer). */
  version?: '1.0' | '2.0';
  tid?: string;
  oid?: string;
  sub?: string;
  aud?: string;
  iss?: string;
  /** Delegated scopes, space-separated; default `user_impersonation` for users; null removes the claim. */
  scp?: string | null;
  roles?: string[] | null;
  /** The calling client's id (`azp` in v2, `appid` in v1); default VS Code for users, an app of its own for apps. */
  clientAppId?: string;
  name?: string | null;
  upn?: string | null;
  /** Default `user` / `app` by kind; null removes the claim (validators then fall back on `scp` and `sub` = `oid`). */
  idtyp?: 'user' | 'app' | null;
  /** Absolute times (epoch seconds); default nbf/iat five minutes back, exp an hour ahead. */
  exp?: number;
  nbf?: number;
  iat?: number;
  expiresInSeconds?: number;
  /** `RS256` (default) signs properly; `none` leaves it unsigned; `HS256` signs with the public key as HMAC secret; others (RS384, PS256…) sign with the current key. */
  alg?: string;
  /** Claim this `kid` in the header (signature still by the current key). */
  kid?: string;
  /** Sign with a key never published in the JWKS. */
  unpublishedKey?: boolean;
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}

export interface EntraDirectory {
  readonly homeTenantId: string;
  /** The product API's app registration (`DEFAULT_API_CLIENT_ID`). */
  readonly api: AppRegistration;
  tenantIds(): string[];
  hasTenant(tenantId: string): boolean;
  /** Adds a tenant with its own OpenID documents and issuer (shared signing keys, as Entra's). */
  addTenant(tenantId: string): void;
  /** `https://login.localhost:<port>/<tenant>/v2.0` (default: home tenant). */
  issuerV2(tenantId?: string): string;
  /** `https://sts.windows.net/<tenant>/`. */
  issuerV1(tenantId?: string): string;
  registerApp(input?: Partial<AppRegistration>): AppRegistration;
  /** A public client (no secret, exposes no API): `publicClient: true`, the given redirect URIs. */
  registerPublicClient(input?: PublicClientInput): AppRegistration;
  /** Adds `clientId` to `preAuthorizedApplications` of the API (default: the product API) for `scopes` (default: all it exposes). */
  preAuthorize(clientId: string, options?: { apiClientId?: string; scopes?: string[] }): void;
  /** Removes a pre-authorization (from the product API unless named). */
  revokePreAuthorization(clientId: string, apiClientId?: string): void;
  /** The app whose identifier URI (or client id) names this resource, e.g. `api://<id>`. */
  appByIdentifier(identifier: string): AppRegistration | undefined;
  userByUpn(upn: string): DirectoryUser | undefined;
  /** The user signed in at `/authorize` when no `login_hint` is given (default: the test user). */
  defaultSignInUserId: string;
  /** Lifetime of authorization codes (Entra: about ten minutes). */
  authorizationCodeLifetimeSeconds: number;
  app(clientId: string): AppRegistration | undefined;
  /** Registers a certificate (PEM) as a credential of the app. */
  addCertificate(clientId: string, certificatePem: string): void;
  registerResource(input: Partial<ResourceApp> & { appId: string; identifiers: ResourceApp['identifiers'] }): ResourceApp;
  /** The resource a scope's prefix or an app id names. */
  resource(identifierOrAppId: string): ResourceApp | undefined;
  addUser(user: Partial<DirectoryUser> & { oid: string }): DirectoryUser;
  user(oid: string): DirectoryUser | undefined;
  /** Consent for `clientId` to call `resource` with `scopes`: admin consent (all users) or for one user. */
  grantConsent(clientId: string, resource: string, scopes: string[], options?: { userId?: string }): void;
  /** An admin assigns application permissions (app roles) of a resource to a service principal, e.g. the managed identity on Graph. */
  assignAppRoles(principalId: string, resource: string, roles: string[]): void;
  /** The app roles a principal holds on the resource a token audience names (for app-only tokens' `roles`). */
  appRolesFor(principalId: string, audience: string): string[];
  /** Removes consent for one resource, or all of the app's. */
  revokeConsent(clientId: string, resource?: string): void;
  consentedScopes(clientId: string, resourceAppId: string, userId: string): string[];
  /** Only the listed users get tokens for `resource` (appRoleAssignmentRequired). */
  requireAssignment(resource: string, assignedUserIds: string[]): void;
  requireClaimsChallenge(challenge: ClaimsChallenge): void;
  clearClaimsChallenges(): void;
  claimsChallengeFor(resource: ResourceApp, assertion: TokenClaims): ClaimsChallenge | undefined;
  /** Publishes a new signing key and signs with it; previous keys stay published for `graceSeconds` (default 3600). Returns the new kid. */
  rotateSigningKey(options?: { graceSeconds?: number }): Promise<string>;
  /** A token for the product's API (see ApiTokenOptions). */
  mintApiToken(options?: ApiTokenOptions): Promise<string>;
  /** Settings that put the product in `entra` mode against this directory. */
  settingsEnv(publicUrl: string): Record<string, string>;
}

export interface DirectoryOptions {
  homeTenantId: string;
  issuer: TokenIssuer;
  ctx: Pick<EmulatorContext, 'origin'>;
  managedIdentity: { clientId: string; principalId: string };
  defaultUserId: string;
}

const sameIdentifier = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export function createEntraDirectory(options: DirectoryOptions): EntraDirectory {
  const { homeTenantId, issuer, ctx } = options;
  const tenants = new Set([homeTenantId.toLowerCase()]);
  const apps = new Map<string, AppRegistration>();
  const resources: ResourceApp[] = [];
  const users = new Map<string, DirectoryUser>();
  /** `${clientId}|${resourceAppId}` → admin-consented scopes and per-user ones. */
  const consents = new Map<string, { admin: Set<string>; users: Map<string, Set<string>> }>();
  let challenges: ClaimsChallenge[] = [];

  const registerApp = (input: Partial<AppRegistration> = {}): AppRegistration => {
    const clientId = (input.clientId ?? guidFrom(`app/${apps.size}/${Date.now()}`)).toLowerCase();
    const app: AppRegistration = {
      clientId,
      displayName: input.displayName ?? `app-${clientId.slice(0, 8)}`,
      identifierUris: input.identifierUris ?? [`api://${clientId}`],
      scopes: input.scopes ?? ['user_impersonation'],
      appRoles: input.appRoles ?? [],
      federatedCredentials: input.federatedCredentials ?? [],
      secrets: input.secrets ?? [],
      certificates: input.certificates ?? [],
      publicClient: input.publicClient ?? false,
      redirectUris: input.redirectUris ?? [],
      spaRedirectUris: input.spaRedirectUris ?? [],
      preAuthorizedApplications: input.preAuthorizedApplications ?? [],
      consentPrompt: input.consentPrompt ?? true,
    };
    apps.set(clientId, app);
    return app;
  };

  const registerResource: EntraDirectory['registerResource'] = (input) => {
    const resource: ResourceApp = {
      displayName: input.displayName ?? input.appId,
      delegatedPermissions: input.delegatedPermissions ?? ['user_impersonation'],
      assignmentRequired: input.assignmentRequired ?? false,
      assignedUsers: input.assignedUsers ?? new Set(),
      ...input,
    };
    resources.push(resource);
    return resource;
  };

  const findResource = (identifier: string): ResourceApp | undefined =>
    resources.find(
      (resource) =>
        resource.appId === identifier.toLowerCase() ||
        resource.identifiers.some((candidate) => (typeof candidate === 'string' ? sameIdentifier(candidate, identifier) : candidate.test(identifier.replace(/\/+$/, '')))),
    );
  const mustFindResource = (identifier: string): ResourceApp => {
    const resource = findResource(identifier);
    if (!resource) throw new Error(`The emulated Entra knows no resource '${identifier}'; registerResource() it first.`);
    return resource;
  };

  const api = registerApp({
    clientId: DEFAULT_API_CLIENT_ID,
    displayName: 'azure-mcp-functions (emulated)',
    appRoles: ['mcp.invoke', 'kusto.read', 'graph.read'],
    federatedCredentials: [
      {
        name: 'functions-app-managed-identity',
        // The port is known only once the emulator listens: read the issuer on use.
        get issuer() {
          return v2Issuer(ctx, homeTenantId);
        },
        subject: options.managedIdentity.principalId,
        audiences: [TOKEN_EXCHANGE_AUDIENCE],
      },
    ],
  });
  registerResource({
    appId: KUSTO_APP_ID,
    displayName: 'Azure Data Explorer',
    identifiers: [
      'https://kusto.localhost',
      /^https:\/\/[a-z0-9-]+\.kusto\.localhost(:\d+)?$/i,
      /^https:\/\/([a-z0-9-]+\.)+kusto\.windows\.net$/i,
      /^https:\/\/[a-z0-9-]+\.kusto\.fabric\.microsoft\.com$/i,
    ],
    delegatedPermissions: ['user_impersonation'],
  });
  registerResource({
    appId: GRAPH_APP_ID,
    displayName: 'Microsoft Graph',
    identifiers: ['https://graph.microsoft.com', /^https:\/\/graph\.localhost(:\d+)?$/i],
    delegatedPermissions: [
      'User.Read', 'User.ReadBasic.All', 'People.Read', 'Presence.Read.All', 'Chat.Read', 'ChatMessage.Read', 'ChatMessage.Send',
      'ChannelMessage.Read.All', 'ChannelMessage.Send', 'Channel.ReadBasic.All', 'Team.ReadBasic.All', 'Mail.Read', 'Calendars.Read', 'Files.Read.All', 'Sites.Read.All',
      'Mail.Send', 'Mail.ReadBasic', 'Calendars.ReadWrite', 'Chat.ReadWrite', 'Chat.ReadBasic', 'Team.Create', 'Channel.Create', 'TeamMember.ReadWrite.All', 'TeamMember.Read.All',
      'ChannelMember.Read.All', 'User.Read.All', 'Files.Read', 'Group.Read.All',
    ],
  });

  const appByIdentifier = (identifier: string): AppRegistration | undefined => {
    const byId = apps.get(identifier.replace(/\/+$/, '').toLowerCase());
    if (byId && byId.scopes.length > 0) return byId;
    return [...apps.values()].find((candidate) => candidate.identifierUris.some((uri) => sameIdentifier(uri, identifier)));
  };

  const grantConsent: EntraDirectory['grantConsent'] = (clientId, resource, scopes, { userId } = {}) => {
    // A downstream resource, or one of this directory's own APIs (consent to its exposed scopes).
    const ownApi = findResource(resource) ? undefined : appByIdentifier(resource);
    const key = `${clientId.toLowerCase()}|${ownApi?.clientId ?? mustFindResource(resource).appId}`;
    const entry = consents.get(key) ?? { admin: new Set<string>(), users: new Map<string, Set<string>>() };
    consents.set(key, entry);
    const target = userId === undefined ? entry.admin : (entry.users.get(userId) ?? new Set<string>());
    if (userId !== undefined) entry.users.set(userId, target);
    for (const scope of scopes) target.add(scope);
  };
  grantConsent(api.clientId, KUSTO_APP_ID, ['user_impersonation']);
  grantConsent(api.clientId, GRAPH_APP_ID, ['User.Read']);
  /** `${principalId}|${resourceAppId}` → assigned app roles. */
  const appRoleAssignments = new Map<string, Set<string>>();

  const addUser: EntraDirectory['addUser'] = (user) => {
    const entry: DirectoryUser = {
      tenantId: homeTenantId,
      upn: `user-${user.oid.slice(-6)}@emulator.localhost`,
      name: `User ${user.oid.slice(-6)}`,
      ...user,
    };
    users.set(entry.oid, entry);
    return entry;
  };
  addUser({ oid: options.defaultUserId, upn: DEFAULT_USER_UPN, name: DEFAULT_USER_NAME });

  const registerPublicClient = (input: PublicClientInput = {}): AppRegistration =>
    registerApp({ ...input, publicClient: true, identifierUris: [], scopes: [] });
  // VS Code's first-party client (Microsoft's tenant, present everywhere): loopback and vscode.dev
  // redirects, no consent prompt; the product's API pre-authorizes it, as the Bicep does.
  registerPublicClient({
    clientId: VS_CODE_CLIENT_ID,
    displayName: 'Visual Studio Code',
    redirectUris: ['http://localhost', 'http://127.0.0.1', 'https://vscode.dev/redirect'],
    consentPrompt: false,
  });
  api.preAuthorizedApplications.push({ appId: VS_CODE_CLIENT_ID, scopes: [...api.scopes] });

  const directory: EntraDirectory = {
    homeTenantId,
    api,
    tenantIds: () => [...tenants],
    hasTenant: (tenantId) => tenants.has(tenantId.toLowerCase()),
    addTenant: (tenantId) => void tenants.add(tenantId.toLowerCase()),
    issuerV2: (tenantId = homeTenantId) => v2Issuer(ctx, tenantId),
    issuerV1: (tenantId = homeTenantId) => v1Issuer(tenantId),
    registerApp,
    registerPublicClient,
    preAuthorize(clientId, { apiClientId = api.clientId, scopes } = {}) {
      const target = apps.get(apiClientId.toLowerCase());
      if (!target) throw new Error(`No app registration '${apiClientId}'.`);
      target.preAuthorizedApplications = target.preAuthorizedApplications.filter((entry) => entry.appId !== clientId.toLowerCase());
      target.preAuthorizedApplications.push({ appId: clientId.toLowerCase(), scopes: scopes ?? [...target.scopes] });
    },
    revokePreAuthorization(clientId, apiClientId = api.clientId) {
      const target = apps.get(apiClientId.toLowerCase());
      if (target) target.preAuthorizedApplications = target.preAuthorizedApplications.filter((entry) => entry.appId !== clientId.toLowerCase());
    },
    appByIdentifier,
    userByUpn: (upn) => [...users.values()].find((user) => user.upn.toLowerCase() === upn.toLowerCase()),
    defaultSignInUserId: options.defaultUserId,
    authorizationCodeLifetimeSeconds: 600,
    app: (clientId) => apps.get(clientId.toLowerCase()),
    addCertificate(clientId, certificatePem) {
      const app = apps.get(clientId.toLowerCase());
      if (!app) throw new Error(`No app registration '${clientId}'.`);
      const der = new X509Certificate(certificatePem).raw;
      const digest = (algorithm: string) => base64url.encode(createHash(algorithm).update(der).digest());
      app.certificates.push({ pem: new X509Certificate(certificatePem).toString(), x5t: digest('sha1'), x5tS256: digest('sha256') });
    },
    registerResource,
    resource: findResource,
    assignAppRoles(principalId, resourceName, roles) {
      const resource = findResource(resourceName);
      if (!resource) throw new Error(`no resource ${resourceName} in the emulated directory`);
      const key = `${principalId.toLowerCase()}|${resource.appId}`;
      const assigned = appRoleAssignments.get(key) ?? new Set<string>();
      for (const role of roles) assigned.add(role);
      appRoleAssignments.set(key, assigned);
    },
    appRolesFor(principalId, audience) {
      const resource = findResource(audience);
      return resource ? [...(appRoleAssignments.get(`${principalId.toLowerCase()}|${resource.appId}`) ?? [])] : [];
    },
    addUser,
    user: (oid) => users.get(oid),
    grantConsent,
    revokeConsent(clientId, resource) {
      const prefix = `${clientId.toLowerCase()}|`;
      if (resource === undefined) {
        for (const key of [...consents.keys()]) if (key.startsWith(prefix)) consents.delete(key);
      } else {
        consents.delete(`${prefix}${findResource(resource)?.appId ?? appByIdentifier(resource)?.clientId ?? mustFindResource(resource).appId}`);
      }
    },
    consentedScopes(clientId, resourceAppId, userId) {
      const entry = consents.get(`${clientId.toLowerCase()}|${resourceAppId}`);
      return entry ? [...new Set([...entry.admin, ...(entry.users.get(userId) ?? [])])] : [];
    },
    requireAssignment(resource, assignedUserIds) {
      const target = mustFindResource(resource);
      target.assignmentRequired = true;
      target.assignedUsers = new Set(assignedUserIds);
    },
    requireClaimsChallenge: (challenge) => void challenges.push(challenge),
    clearClaimsChallenges: () => {
      challenges = [];
    },
    claimsChallengeFor(resource, assertion) {
      return challenges.find((challenge) => {
        if (challenge.resource !== undefined && findResource(challenge.resource) !== resource) return false;
        if (challenge.userId !== undefined && challenge.userId !== assertion.oid) return false;
        const satisfied = challenge.satisfiedBy ?? ((claims: TokenClaims) => Array.isArray(claims.amr) && claims.amr.includes('mfa'));
        return !satisfied(assertion);
      });
    },
    rotateSigningKey: (rotation) => issuer.rotate(rotation),
    mintApiToken: (tokenOptions = {}) => mintApiToken(tokenOptions),
    settingsEnv: (publicUrl) => ({
      MCP_AUTH_MODE: 'entra',
      ENTRA_TENANT_ID: homeTenantId,
      ENTRA_API_CLIENT_ID: api.clientId,
      AZURE_AUTHORITY_HOST: ctx.origin('login.localhost'),
      MCP_PUBLIC_URL: publicUrl,
    }),
  };

  function apiTokenClaims(tokenOptions: ApiTokenOptions): TokenClaims {
    const kind = tokenOptions.kind ?? 'user';
    const v1 = tokenOptions.version === '1.0';
    const tid = tokenOptions.tid ?? homeTenantId;
    const clientAppId = tokenOptions.clientAppId ?? (kind === 'user' ? VS_CODE_CLIENT_ID : guidFrom(`client-app/${tid}`));
    const oid = tokenOptions.oid ?? (kind === 'user' ? options.defaultUserId : guidFrom(`${tid}/${clientAppId}`));
    const user = kind === 'user' ? users.get(oid) : undefined;
    const now = Math.floor(Date.now() / 1000);
    const upn = tokenOptions.upn === undefined ? user?.upn : (tokenOptions.upn ?? undefined);
    const name = tokenOptions.name === undefined ? user?.name : (tokenOptions.name ?? undefined);
    const scp = tokenOptions.scp === undefined ? (kind === 'user' ? 'user_impersonation' : undefined) : (tokenOptions.scp ?? undefined);
    const idtyp = tokenOptions.idtyp === undefined ? kind : (tokenOptions.idtyp ?? undefined);
    const claims: Record<string, unknown> = {
      aud: tokenOptions.aud ?? (v1 ? api.identifierUris[0] : api.clientId),
      iss: tokenOptions.iss ?? (v1 ? v1Issuer(tid) : v2Issuer(ctx, tid)),
      iat: tokenOptions.iat ?? now - 300,
      nbf: tokenOptions.nbf ?? now - 300,
      exp: tokenOptions.exp ?? now + (tokenOptions.expiresInSeconds ?? 3600),
      oid,
      // A user's sub is pairwise (per app); an app's is its own object id.
      sub: tokenOptions.sub ?? (kind === 'user' ? guidFrom(`${oid}/${api.clientId}`) : oid),
      tid,
      uti: uti(),
      ver: v1 ? '1.0' : '2.0',
      ...(v1 ? { appid: clientAppId, appidacr: kind === 'user' ? '0' : '1' } : { azp: clientAppId, azpacr: kind === 'user' ? '0' : '1' }),
      ...(scp === undefined ? {} : { scp }),
      ...(tokenOptions.roles ? { roles: tokenOptions.roles } : {}),
      ...(idtyp === undefined ? {} : { idtyp }),
      ...(name === undefined ? {} : { name }),
      ...(upn === undefined ? {} : v1 ? { upn, unique_name: upn } : { preferred_username: upn }),
      ...tokenOptions.claims,
    };
    return claims as TokenClaims;
  }

  async function mintApiToken(tokenOptions: ApiTokenOptions): Promise<string> {
    const claims = apiTokenClaims(tokenOptions);
    const alg = tokenOptions.alg ?? 'RS256';
    const kid = tokenOptions.kid ?? issuer.currentKid();
    // Absolute times are in the claims already; the issuer's defaults would only be overridden.
    const signOptions = { kid };
    if (alg === 'none') return craftUnsecuredJwt(claims, { kid });
    if (alg === 'HS256') return craftHs256Jwt(claims, issuer.publicKeyPem(), kid);
    if (tokenOptions.unpublishedKey) return issuer.signWithUnpublishedKey(claims, tokenOptions.kid ? signOptions : {});
    if (alg !== 'RS256') return issuer.signWithAlgorithm(alg, claims, signOptions);
    return issuer.sign(claims, signOptions);
  }

  return directory;
}

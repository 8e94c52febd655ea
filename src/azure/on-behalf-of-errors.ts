/**
 * What Entra's refusals of an on-behalf-of exchange mean, as typed errors a
 * tool can turn into an actionable result (src/azure/on-behalf-of.ts raises them).
 */

export type OnBehalfOfErrorCode =
  /** The caller is no user with a token to exchange. */
  | 'no_user'
  /** AADSTS65001: nobody consented to the API acting for users at this resource. */
  | 'consent_required'
  /** AADSTS50105: the resource requires user assignment and this user is not assigned. */
  | 'user_not_assigned'
  /** Conditional Access wants more from the user (MFA, a compliant device): ClaimsChallengeError when Entra sent claims. */
  | 'interaction_required'
  /** AADSTS50013, AADSTS500133: the caller's token cannot be exchanged (expired, wrong audience). */
  | 'invalid_assertion'
  /** The app registration could not authenticate (federated credential, certificate, secret): an operator's fix. */
  | 'client_authentication_failed'
  /** Anything else the token endpoint or the network said. */
  | 'exchange_failed';

/**
 * A token for the caller could not be obtained. `message` says why in terms
 * a user can act on, `nextStep` what to do; neither carries a token. Kept
 * apart from @azure/identity's errors so callers can tell "the user must act"
 * from "the server's identity is broken".
 */
export class OnBehalfOfError extends Error {
  /** Marks these errors across module copies (bundled chunks). */
  readonly onBehalfOf = true;
  constructor(
    readonly code: OnBehalfOfErrorCode,
    message: string,
    readonly nextStep: string,
    /** The AADSTS code Entra answered with, when it did. */
    readonly aadsts?: string,
  ) {
    super(message);
    this.name = 'OnBehalfOfError';
  }
}

/**
 * Conditional Access asks for more than the user's current sign-in (MFA, a
 * compliant device, a fresh sign-in). The client must sign the user in again
 * asking for these claims; the HTTP layer returns them in a 401:
 * `WWW-Authenticate: Bearer error="insufficient_claims", claims="<encodedClaims>"`.
 */
export class ClaimsChallengeError extends OnBehalfOfError {
  /** The claims request as Entra returned it (a JSON text). */
  readonly claims: string;
  constructor(claims: string, aadsts?: string) {
    super(
      'interaction_required',
      `Conditional Access requires more from your sign-in (for example multi-factor authentication) before this server may act for you${aadsts ? ` (${aadsts})` : ''}.`,
      'Sign in again in your MCP client; it must request a new token with the claims in the authentication challenge.',
      aadsts,
    );
    this.name = 'ClaimsChallengeError';
    this.claims = claims;
  }

  /** The claims base64-encoded, as the `claims` parameter of a `WWW-Authenticate: Bearer` challenge carries them. */
  get encodedClaims(): string {
    return Buffer.from(this.claims, 'utf8').toString('base64');
  }
}

/** The OnBehalfOfError in `error` or what it wraps (`inner`, `cause`: the Kusto SDK wraps credential errors), if any. */
export function onBehalfOfErrorIn(error: unknown): OnBehalfOfError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    if ((current as { onBehalfOf?: unknown }).onBehalfOf === true && current instanceof Error) return current as OnBehalfOfError;
    const candidate = current as { inner?: unknown; cause?: unknown };
    current = candidate.inner ?? candidate.cause;
  }
  return undefined;
}

/** What the token endpoint answered, when it refused. */
export interface TokenErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
  suberror?: string;
  claims?: string;
}

const CLIENT_AUTH_CODES = new Set(['AADSTS70021', 'AADSTS700211', 'AADSTS700212', 'AADSTS700213', 'AADSTS700016', 'AADSTS700024', 'AADSTS700027', 'AADSTS7000215', 'AADSTS7000222', 'AADSTS7000218', 'AADSTS700021', 'AADSTS50027']);
/** A client secret Entra no longer accepts: invalid (rotated away) or expired. */
export const SECRET_REJECTED = new Set(['AADSTS7000215', 'AADSTS7000222']);
/** A certificate Entra does not know (rotated) or an assertion it cannot verify. */
export const CERTIFICATE_REJECTED = new Set(['AADSTS700027']);

export function aadstsOf(body: TokenErrorBody | undefined, message: string): string | undefined {
  const code = body?.error_codes?.[0];
  if (typeof code === 'number') return `AADSTS${code}`;
  return /\bAADSTS\d+\b/.exec(message)?.[0];
}

/** The first sentence of Entra's description, without its trace/correlation ids and timestamp. */
function entraSays(body: TokenErrorBody | undefined, message: string): string {
  const text = (body?.error_description ?? message).split(/\s+Trace ID:/)[0] ?? '';
  return text.replace(/\s+/g, ' ').trim().slice(0, 400);
}

/** Maps a failed exchange to an OnBehalfOfError; `body` is the token endpoint's answer when captured. */
export function mapExchangeError(error: unknown, body: TokenErrorBody | undefined, resource: string): OnBehalfOfError {
  if (onBehalfOfErrorIn(error)) return onBehalfOfErrorIn(error) as OnBehalfOfError;
  const message = error instanceof Error ? error.message : String(error);
  const aadsts = aadstsOf(body, message);
  const oauthError = body?.error ?? /^([a-z_]+):/.exec(message)?.[1];
  const says = entraSays(body, message);
  if (aadsts === 'AADSTS65001' || oauthError === 'consent_required') {
    return new OnBehalfOfError(
      'consent_required',
      `This server may not act for you at ${resource} yet: the delegated permission has not been consented to (${aadsts ?? 'consent_required'}).`,
      `An administrator grants admin consent to this server's app registration for ${resource} (API permissions: the delegated permission, e.g. user_impersonation), or you consent when signing in again.`,
      aadsts,
    );
  }
  if (aadsts === 'AADSTS50105') {
    return new OnBehalfOfError(
      'user_not_assigned',
      `Your account is not assigned to the application behind ${resource}, which requires assignment (${aadsts}).`,
      'Ask an administrator to assign you (or a group you are in) to that application in Entra ID (Enterprise applications → Users and groups).',
      aadsts,
    );
  }
  if (oauthError === 'interaction_required' || body?.suberror !== undefined) {
    if (body?.claims) return new ClaimsChallengeError(body.claims, aadsts);
    return new OnBehalfOfError(
      'interaction_required',
      `Your sign-in does not satisfy a policy for ${resource} (${aadsts ?? 'interaction_required'}): ${says}`,
      'Sign in again in your MCP client (with multi-factor authentication if asked), then retry.',
      aadsts,
    );
  }
  if (aadsts === 'AADSTS50013' || aadsts === 'AADSTS500133') {
    return new OnBehalfOfError(
      'invalid_assertion',
      `Your access token could not be exchanged for ${resource} (${aadsts}): ${says}`,
      'Sign in again in your MCP client to get a fresh token, then retry.',
      aadsts,
    );
  }
  if ((aadsts && CLIENT_AUTH_CODES.has(aadsts)) || oauthError === 'invalid_client' || oauthError === 'unauthorized_client' || isCredentialUnavailable(error)) {
    return new OnBehalfOfError(
      'client_authentication_failed',
      `The server could not authenticate its app registration to act for you${aadsts ? ` (${aadsts})` : ''}: ${says}`,
      'Not something you can fix: an operator checks the on-behalf-of setup (the managed identity as a federated credential of the API app registration: issuer https://login.microsoftonline.com/<tenant>/v2.0, subject the identity\'s principal id, audience api://AzureADTokenExchange; or the certificate or secret in Key Vault).',
      aadsts,
    );
  }
  return new OnBehalfOfError(
    'exchange_failed',
    `A token to act for you at ${resource} could not be obtained${aadsts ? ` (${aadsts})` : ''}: ${says}`,
    'Retry in a minute; if it keeps failing, report the time of the call to the operators.',
    aadsts,
  );
}

/** The app's own credential failed: no managed identity token, or the fallback secret could not be read from Key Vault. */
function isCredentialUnavailable(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'CredentialUnavailableError' || name === 'SecretUnavailableError';
}


/**
 * The facade's leg to Entra: the v2 endpoints of the home tenant, with the
 * API's own app registration as the client, authenticated by the managed
 * identity's token as a federated credential (no secret anywhere), and
 * Entra's refusals turned into OAuth errors a client can show, with the
 * AADSTS code and what an administrator must do.
 */

export interface EntraEndpoints {
  authorize: string;
  token: string;
}

export function entraEndpoints(authorityHost: string, tenantId: string): EntraEndpoints {
  const base = `${authorityHost}/${tenantId}/oauth2/v2.0`;
  return { authorize: `${base}/authorize`, token: `${base}/token` };
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An OAuth error as the facade answers it (token endpoint JSON, or authorization-response parameters). */
export interface OAuthError {
  error: string;
  description: string;
  /** The AADSTS code when Entra refused. */
  aadsts?: number;
  /** HTTP status at the token endpoint. */
  status: number;
}

/** What an administrator (or the user) does about the AADSTS codes a facade sign-in meets. */
const NEXT_STEPS: Record<number, string> = {
  65001: 'An administrator grants admin consent to the API app registration for the tenant, or the user consents when asked.',
  65004: 'The user declined consent; sign in again and accept, or ask an administrator to grant admin consent.',
  50011: 'An administrator adds the facade callback (<public origin>/oauth/callback) as a Web redirect URI of the API app registration (infra does this).',
  700016: 'ENTRA_API_CLIENT_ID or ENTRA_TENANT_ID names no app registration in this tenant: an administrator checks the settings.',
  70021: "An administrator adds the app's managed identity as a federated identity credential of the API app registration (infra does this).",
  700211: "An administrator checks the federated identity credential of the API app registration: its issuer must be the managed identity's tenant.",
  700213: "An administrator checks the federated identity credential's subject: it must be the managed identity's principal id.",
  7000215: 'The app registration refused its credential: an administrator checks the federated identity credential.',
  50020: 'The user is not a member (or guest) of the tenant: an administrator invites the user, or the user signs in with a work account of the tenant.',
  50034: 'The account does not exist in the tenant: sign in with an account of the tenant.',
  50076: 'Multi-factor authentication is required: sign in again in the browser.',
  53003: 'Conditional Access blocked the sign-in: an administrator checks the policies that apply to this app.',
  54005: 'The code was already used: sign in again from the MCP client.',
  70008: 'The code or refresh token expired: sign in again from the MCP client.',
  700082: 'The refresh token expired after inactivity: sign in again from the MCP client.',
  50173: 'The grant was revoked (password change or sign-out everywhere): sign in again.',
  9010010: "Entra refused a resource parameter next to the scopes; the facade never sends one, so report this with the time of the sign-in.",
};

/** `AADSTS65001` → 65001, from `error_codes` or the description. */
export function aadstsOf(body: { error_codes?: unknown; error_description?: unknown }): number | undefined {
  if (Array.isArray(body.error_codes) && typeof body.error_codes[0] === 'number') return body.error_codes[0];
  const match = /AADSTS(\d+)/.exec(typeof body.error_description === 'string' ? body.error_description : '');
  return match ? Number(match[1]) : undefined;
}

/** Entra's first sentence (no trace or correlation ids, which only help Microsoft support), plus the next step. */
export function describeEntraError(description: unknown, aadsts: number | undefined): string {
  const text = typeof description === 'string' ? description.replace(/\s*Trace ID:[\s\S]*$/, '').replace(/[\r\n]+/g, ' ').trim() : '';
  const step = aadsts === undefined ? undefined : NEXT_STEPS[aadsts];
  const said = text || (aadsts === undefined ? 'Entra refused the request.' : `AADSTS${aadsts}`);
  return step ? `${said} What to do: ${step}` : said;
}

/** Entra's error answer at its token endpoint, as the facade's own. */
export function tokenErrorFrom(status: number, body: Record<string, unknown>): OAuthError {
  const aadsts = aadstsOf(body);
  const description = describeEntraError(body.error_description, aadsts);
  const error = typeof body.error === 'string' ? body.error : 'invalid_grant';
  // invalid_client here is about the facade's own credential, which the MCP client cannot fix.
  if (error === 'invalid_client' || error === 'unauthorized_client' || status >= 500) {
    return { error: 'server_error', description: `The server could not redeem the sign-in with Entra: ${description}`, status: 500, ...(aadsts !== undefined && { aadsts }) };
  }
  return { error, description, status: 400, ...(aadsts !== undefined && { aadsts }) };
}

export interface TokenRelayOptions {
  endpoints: EntraEndpoints;
  clientId: string;
  /** The managed identity's token for `api://AzureADTokenExchange`. */
  clientAssertion: () => Promise<string>;
  fetch: typeof fetch;
}

export type RelayedTokens = { ok: true; body: Record<string, unknown> } | { ok: false; failure: OAuthError };

/** One token request to Entra as the API app (form fields without the client authentication, which is added here). */
export async function relayTokenRequest(options: TokenRelayOptions, fields: Record<string, string>): Promise<RelayedTokens> {
  let assertion: string;
  try {
    assertion = await options.clientAssertion();
  } catch {
    return {
      ok: false,
      failure: { error: 'server_error', status: 500, description: "The server's managed identity could not get its token for Entra: an operator checks that the managed identity is enabled on the app (and AZURE_CLIENT_ID names it)." },
    };
  }
  const form = new URLSearchParams({ ...fields, client_id: options.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
  let response: Response;
  try {
    response = await options.fetch(options.endpoints.token, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form, signal: AbortSignal.timeout(15_000) });
  } catch {
    return { ok: false, failure: { error: 'temporarily_unavailable', status: 503, description: 'Entra could not be reached; try again in a moment.' } };
  }
  let body: Record<string, unknown>;
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    return { ok: false, failure: { error: 'temporarily_unavailable', status: 503, description: `Entra answered HTTP ${response.status} without a JSON body; try again in a moment.` } };
  }
  if (!response.ok || typeof body.access_token !== 'string') return { ok: false, failure: tokenErrorFrom(response.status, body) };
  return { ok: true, body };
}

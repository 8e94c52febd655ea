import type { AuthSettings } from '../auth/settings.ts';
import { createEntraTokenValidator, type AuthFailure, type EntraTokenValidator } from '../auth/entra-token.ts';
import { anonymousPrincipal, type Principal } from '../auth/principal.ts';
import { timingSafeEqual } from 'node:crypto';
import { easyAuthPrincipal } from './caller.ts';

export type Admission = { ok: true; principal: Principal } | { ok: false; failure: AuthFailure };
export type Authenticator = (request: Request) => Promise<Admission>;

/**
 * Who the caller is, per `MCP_AUTH_MODE`:
 * - `entra`: the bearer token, validated in-app (src/auth/entra-token.ts);
 * - `easyAuth`: App Service's principal headers (only trusted in that mode);
 * - `functionKey`: nobody in particular: the Functions host (or, locally, the
 *   Node host) checked the key before the request got here;
 * - `none`: nobody; allowed on loopback only (src/server.ts, config.ts).
 */
export interface AuthenticatorOptions {
  validator?: EntraTokenValidator;
  /**
   * `functionKey` on the Node host: the key callers must send (`x-functions-key`
   * or `?code=`), checked here as the Functions host checks it on Azure. Unset
   * on Azure, where the host has refused keyless requests before they arrive.
   */
  functionKey?: string;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function createAuthenticator(auth: AuthSettings, { validator, functionKey }: AuthenticatorOptions = {}): Authenticator {
  if (auth.mode === 'entra') {
    if (!auth.entra) throw new Error('entra mode needs the Entra API settings (config.ts checks them)');
    const entra = validator ?? createEntraTokenValidator(auth.entra);
    return (request) => entra.validateRequest(request);
  }
  if (auth.mode === 'easyAuth') {
    return async (request) => {
      const principal = easyAuthPrincipal(request);
      if (principal) return { ok: true, principal };
      return {
        ok: false,
        failure: { status: 401, error: undefined, reason: 'unauthenticated', description: "Unauthorized: sign in through the app's Microsoft Entra authentication (Easy Auth)." },
      };
    };
  }
  const nobody = anonymousPrincipal(auth.mode);
  if (auth.mode === 'functionKey' && functionKey) {
    return async (request) => {
      const sent = request.headers.get('x-functions-key') ?? new URL(request.url).searchParams.get('code');
      if (sent && sameSecret(sent, functionKey)) return { ok: true, principal: nobody };
      return {
        ok: false,
        failure: { status: 401, error: undefined, reason: sent ? 'invalid_function_key' : 'no_function_key', description: 'Unauthorized: send the Functions key in the x-functions-key header (or the code query parameter).' },
      };
    };
  }
  return async () => ({ ok: true, principal: nobody });
}

import { checkRedirectUri } from './redirect-uri.ts';
import type { KeyRing } from './sealed.ts';

/**
 * Registered clients, without a registry: a client id from `/register` is
 * the sealed registration itself (its redirect URIs and name), so every
 * instance can read it and nobody can forge or widen one. A registration
 * grants nothing but the right to receive codes at URIs the server already
 * allows (src/auth/facade/redirect-uri.ts).
 */
export interface Registration {
  /** Redirect URIs as registered. */
  u: string[];
  /** Client name, for audit only. */
  n?: string;
}

export type ClientLookup = { ok: true; registration: Registration } | { ok: false; reason: 'unknown_client' };

export function lookUpClient(ring: KeyRing, clientId: string | null): ClientLookup {
  if (!clientId) return { ok: false, reason: 'unknown_client' };
  const opened = ring.open<Registration>('client', clientId);
  return opened.ok && Array.isArray(opened.payload.u) ? { ok: true, registration: opened.payload } : { ok: false, reason: 'unknown_client' };
}

/**
 * Whether a redirect URI is one the client registered and the server still
 * allows. For loopback URIs the port is not compared (RFC 8252 §7.3: a
 * native client gets a free port at run time); everything else is exact.
 */
export function registeredRedirect(registration: Registration, redirectUri: string | null, allowedHttps: readonly string[]): { ok: true; uri: string } | { ok: false; reason: string } {
  const checked = checkRedirectUri(redirectUri, allowedHttps);
  if (!checked.ok) return checked;
  const withoutPort = (uri: string) => {
    const url = new URL(uri);
    url.port = '';
    return url.href;
  };
  const matches = registration.u.some((registered) => registered === checked.uri || (checked.loopback && URL.canParse(registered) && withoutPort(registered) === withoutPort(checked.uri)));
  return matches ? { ok: true, uri: checked.uri } : { ok: false, reason: 'redirect_uri is not one this client registered' };
}

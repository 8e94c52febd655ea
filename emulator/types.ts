/**
 * Contract between the emulator's HTTPS server and the per-service modules.
 *
 * One HTTPS server answers for every emulated Azure service. It routes by the
 * request's host name (all names end in `.localhost`, which the process under
 * test resolves to 127.0.0.1 through `localhost-dns.mjs`), applies injected
 * faults, records every exchange, and hands the web-standard `Request` to the
 * matching service module.
 */

/** Claims of a token minted by the emulator's identity endpoint or Entra module. */
export interface TokenClaims {
  aud: string;
  iss: string;
  sub: string;
  oid: string;
  tid: string;
  appid?: string;
  azp?: string;
  idtyp?: string;
  scp?: string;
  roles?: string[];
  name?: string;
  upn?: string;
  [claim: string]: unknown;
}

export interface EmulatorContext {
  /**
   * Checks `Authorization: Bearer <jwt>`: signature by this emulator's key,
   * not expired, and `aud` equal to one of `audiences` (compared without a
   * trailing slash). Returns the claims, or null when missing or invalid.
   */
  verifyBearer(req: Request, audiences: string | string[]): Promise<TokenClaims | null>;
  /** `https://<host>:<port>` of this emulator for a host name such as `login.localhost`. */
  origin(host: string): string;
}

export interface EmulatorService {
  /** Short name used in recordings and fault rules, e.g. `keyvault`, `kusto`. */
  readonly name: string;
  /** Whether this service answers for the host name (lower case, no port). */
  matches(hostname: string): boolean;
  /** Host names it answers for, for error messages, e.g. `<vault>.vault.localhost`. */
  readonly hostPattern?: string;
  handle(req: Request, ctx: EmulatorContext): Promise<Response>;
}

/** One recorded exchange. Bodies are kept as text (they are all JSON or form data). */
export interface RecordedRequest {
  service: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  responseBody: string;
  at: number;
}

/** A fault injected in front of a service; matched in insertion order. */
export interface FaultRule {
  service?: string;
  method?: string;
  /** Matches when the request path starts with this. */
  pathPrefix?: string;
  /** Respond with this status instead of calling the service. Omit to only delay. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (or before calling the service when no status). */
  delayMs?: number;
  /** How many requests this rule applies to; unlimited when omitted. */
  times?: number;
}

import type { OAuthClientProvider } from '@modelcontextprotocol/client';

/**
 * The browser step of an OAuth sign-in, scripted: follows the redirects of
 * an authorization URL (the facade, the emulated Entra, which signs its
 * default user in at once, the facade's callback) with a cookie jar, as a
 * browser would, and stops at the client's redirect URI without calling it.
 */
export class ScriptedBrowser {
  /** origin → cookie name → value */
  readonly cookies = new Map<string, Map<string, string>>();
  /** Every URL visited, in order. */
  readonly visited: URL[] = [];

  async follow(start: string | URL, stopAt: (url: URL) => boolean, maxHops = 10): Promise<URL> {
    let url = new URL(start);
    for (let hop = 0; hop < maxHops; hop++) {
      if (stopAt(url)) return url;
      this.visited.push(url);
      const response = await this.get(url);
      if (response.status !== 302 && response.status !== 303) {
        throw new Error(`${url.origin}${url.pathname} answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
      }
      url = new URL(response.headers.get('location') ?? '', url);
    }
    throw new Error(`more than ${maxHops} redirects from ${String(start)}`);
  }

  /** One GET with this browser's cookies for the origin; records the cookies it sets. */
  async get(url: URL): Promise<Response> {
    const jar = this.cookies.get(url.origin) ?? new Map<string, string>();
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const [name = '', ...value] = pair.trim().split('=');
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute))) jar.delete(name);
      else jar.set(name, value.join('='));
    }
    this.cookies.set(url.origin, jar);
    return response;
  }
}

/** An in-memory OAuth client for one server, as an MCP client application keeps it; the authorization URL is kept for the scripted browser. */
export class InMemoryOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  clientInfo: Awaited<ReturnType<OAuthClientProvider['clientInformation']>>;
  saved: Awaited<ReturnType<OAuthClientProvider['tokens']>>;
  private verifier = '';
  readonly expectedState = crypto.randomUUID();

  constructor(
    readonly redirectUrl: string,
    private readonly options: { clientId?: string; scope?: string } = {},
  ) {
    if (options.clientId) this.clientInfo = { client_id: options.clientId };
  }

  get clientMetadata() {
    return { client_name: 'e2e OAuth client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...(this.options.scope && { scope: this.options.scope }) };
  }
  state() {
    return this.expectedState;
  }
  clientInformation() {
    return this.clientInfo;
  }
  saveClientInformation(info: NonNullable<InMemoryOAuthClient['clientInfo']>) {
    this.clientInfo = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: NonNullable<InMemoryOAuthClient['saved']>) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

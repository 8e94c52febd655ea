import type { app as functionsApp, HttpMethod } from '@azure/functions';
import type { App } from './app.ts';
import type { AuthMode } from './config.ts';
import { functionsHandler } from './adapters/azure-functions.ts';

export type FunctionsRegistrar = Pick<typeof functionsApp, 'http'> & { hook: Pick<typeof functionsApp.hook, 'appTerminate'> };

/**
 * With `functionKey` the platform checks a Functions key before the app sees
 * the request; with `entra` the app validates the bearer token itself and
 * with `easyAuth` App Service authentication admits callers, so a key on top
 * would make clients send two credentials.
 */
export function authLevelFor(mode: AuthMode): 'function' | 'anonymous' {
  return mode === 'functionKey' ? 'function' : 'anonymous';
}

const MCP_METHODS: HttpMethod[] = ['GET', 'POST', 'DELETE', 'OPTIONS'];

/**
 * Registers the HTTP functions. host.json sets `routePrefix: ""`, so the
 * routes are `/mcp`, `/health` and, in `entra` mode, the protected resource
 * metadata at `/.well-known/oauth-protected-resource` and its path-suffixed
 * form (RFC 9728 §3.1), which clients fetch without credentials.
 */
export function registerFunctions(registrar: FunctionsRegistrar, mcp: App, authMode: AuthMode, options: { oauthFacade?: boolean } = {}): void {
  const handler = functionsHandler(mcp.fetch);
  registrar.http('mcp', { route: 'mcp', methods: MCP_METHODS, authLevel: authLevelFor(authMode), handler });
  registrar.http('health', { route: 'health', methods: ['GET', 'HEAD'], authLevel: 'anonymous', handler });
  if (authMode === 'entra') {
    const methods: HttpMethod[] = ['GET', 'HEAD', 'OPTIONS'];
    registrar.http('protectedResourceMetadata', { route: '.well-known/oauth-protected-resource', methods, authLevel: 'anonymous', handler });
    registrar.http('protectedResourceMetadataForPath', { route: '.well-known/oauth-protected-resource/{*resourcePath}', methods, authLevel: 'anonymous', handler });
  }
  if (authMode === 'entra' && options.oauthFacade) {
    // The facade's endpoints (src/auth/facade/facade.ts FACADE_PATHS): anonymous, as an authorization server's are.
    const facadeRoutes: Array<[string, string, HttpMethod[]]> = [
      ['oauthAuthorizationServerMetadata', '.well-known/oauth-authorization-server', ['GET', 'HEAD', 'OPTIONS']],
      ['oauthOpenIdConfiguration', '.well-known/openid-configuration', ['GET', 'HEAD', 'OPTIONS']],
      ['oauthAuthorize', 'authorize', ['GET']],
      ['oauthCallback', 'oauth/callback', ['GET']],
      ['oauthToken', 'token', ['POST', 'OPTIONS']],
      ['oauthRegister', 'register', ['POST', 'OPTIONS']],
    ];
    for (const [name, route, methods] of facadeRoutes) registrar.http(name, { route, methods, authLevel: 'anonymous', handler });
  }
  // The host signals shutdown here (the worker has a limited time for the hook): the same drain as SIGTERM on the
  // Node host, so new requests get 503, running calls a bounded grace, and audit events are delivered by the deadline.
  registrar.hook.appTerminate(() => mcp.shutdown());
}

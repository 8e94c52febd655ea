import { randomUUID } from 'node:crypto';
import { createMcpHandler as createSdkHandler, isJsonContentType, isLegacyRequest } from '@modelcontextprotocol/server';
import type { AuthMode } from '../config.ts';
import type { Auditor, RejectionFacts } from '../audit/auditor.ts';
import { jsonNestingDepth, readBodyWithLimit } from './body.ts';
import type { CallContext } from './call-context.ts';
import type { AuthFailure } from '../auth/entra-token.ts';
import { anonymousPrincipal } from '../auth/principal.ts';
import { authChallengeResponse, protectedResourceMetadataPaths, type ProtectedResourceSettings } from '../auth/protected-resource.ts';
import type { OAuthFacade } from '../auth/facade/facade.ts';
import { claimsChallengeResponse, protectedResourceMetadataAnswer } from './auth-answers.ts';
import { cancelledIds, isAnonymousListing, toolCallCount } from './messages.ts';
import type { Authenticator } from './authenticate.ts';
import { easyAuthPrincipal, principalHeadersIn, type CallerIdentity } from './caller.ts';
import type { Drain } from './drain.ts';
import { JSON_HEADERS, jsonRpcErrorResponse, withHeaders } from './http.ts';
import type { InflightRegistry, JsonRpcId } from './inflight.ts';
import { serveLegacyRequest } from './legacy.ts';
import { rateLimitKey, type RateLimiter } from './rate-limit.ts';
import type { ServerFactory } from './mcp-server.ts';
import { corsHeaders, isOriginAllowed, preflightHeaders } from './origin.ts';
import { DEFAULT_NEGOTIATED_PROTOCOL_VERSION, ErrorCode, MODERN_PROTOCOL_VERSION, rejectionReason } from './protocol.ts';

export const MCP_PATH = '/mcp';
export const HEALTH_PATH = '/health';

export interface McpHandlerOptions {
  authMode: AuthMode;
  authenticate: Authenticator;
  /** Entra mode: the protected resource metadata served at its well-known paths and named in challenges. */
  protectedResource?: ProtectedResourceSettings;
  /** Entra mode with MCP_OAUTH_FACADE: the authorization-server facade answers its own paths. */
  oauthFacade?: OAuthFacade;
  /** Entra mode: let `tools/list` (and the handshake before it) through without a token. */
  allowAnonymousToolsList?: boolean;
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  /** SSE comment frames this often keep idle proxies from cutting a long call. */
  keepAliveMs: number;
  createServer: ServerFactory;
  inflight: InflightRegistry;
  auditor: Auditor;
  server: { name: string; version: string };
  /** The instance's shutdown: once it begins, new requests get 503 and every answer `Connection: close`. */
  drain?: Drain;
  /** Per-caller token bucket for `tools/call` (MCP_RATE_LIMIT_PER_MINUTE); absent: no limit. */
  rateLimit?: RateLimiter;
}

export type FetchHandler = (request: Request) => Promise<Response>;

/** Far beyond any MCP message (a tool call with nested arguments is under 20), far below a stack overflow. */
export const MAX_JSON_DEPTH = 64;

/** How soon a client refused by a shutting-down instance should retry (the platform routes it to another). */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 1;
const CLOSE = { connection: 'close' } as const;

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/**
 * The caller's W3C trace id, when it sent a valid `traceparent` (lower-case
 * hex, version not ff, trace and parent ids not all zeros): a correlation
 * field only. It never keys anything: every request gets our own `requestId`.
 */
function traceIdFor(request: Request): string | undefined {
  const match = TRACEPARENT.exec(request.headers.get('traceparent') ?? '');
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2] ?? '') || /^0+$/.test(match[3] ?? '')) return undefined;
  return match[2];
}

const MISSING_TOKEN: AuthFailure = { status: 401, error: undefined, reason: 'no_token', description: 'Unauthorized: send an access token for this API (Authorization: Bearer).' };

/**
 * The one core handler, a web-standard `(Request) => Promise<Response>`:
 * small guards of ours (health, Origin and CORS, method, caller, body limit,
 * audit of refusals) in front of the official MCP SDK, which speaks the
 * protocol: 2026-07-28 through its `createMcpHandler`, the 2025 revisions
 * through its streamable HTTP transport, both stateless. Adapters (Azure
 * Functions, the Node host) only convert to and from it.
 */
export function createMcpHandler(options: McpHandlerOptions): FetchHandler {
  const { auditor, inflight, drain } = options;
  const health = JSON.stringify({ status: 'ok', name: options.server.name, version: options.server.version });
  const draining = JSON.stringify({ status: 'shutting_down', name: options.server.name, version: options.server.version });
  // The SDK hands its factory the request it was given; this is how the factory finds our context for it.
  const contexts = new WeakMap<Request, CallContext>();
  const modern = createSdkHandler(
    ({ requestInfo }) => {
      const call = requestInfo && contexts.get(requestInfo);
      if (!call) throw new Error('no call context for this request');
      return options.createServer(call);
    },
    {
      legacy: 'reject',
      responseMode: 'auto',
      keepAliveMs: options.keepAliveMs,
      maxRequestBodySize: options.maxBodyBytes,
      // Reporting only (refusals are audited by us); messages may quote client input, so one line, no control characters.
      onerror: (error) => process.stderr.write(`mcp: ${error.message.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 500)}\n`),
    },
  );

  const prmPaths = new Set(options.protectedResource ? protectedResourceMetadataPaths(options.protectedResource) : []);

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (options.protectedResource && prmPaths.has(url.pathname)) return protectedResourceMetadataAnswer(request, options.protectedResource);
    // The facade's endpoints audit themselves (mcp.oauth.request) and keep their own CORS rules.
    if (options.oauthFacade?.handles(url.pathname)) return options.oauthFacade.handle(request);
    if (url.pathname === HEALTH_PATH && (request.method === 'GET' || request.method === 'HEAD')) {
      // A shutting-down instance reports itself unhealthy, so probes and load balancers stop sending to it.
      if (drain?.draining) {
        return new Response(request.method === 'HEAD' ? null : draining, {
          status: 503,
          headers: { ...JSON_HEADERS, 'cache-control': 'no-store', 'retry-after': String(SHUTDOWN_RETRY_AFTER_SECONDS), ...CLOSE },
        });
      }
      return new Response(request.method === 'HEAD' ? null : health, { headers: { ...JSON_HEADERS, 'cache-control': 'no-store' } });
    }
    if (url.pathname !== MCP_PATH) {
      return jsonRpcErrorResponse(404, ErrorCode.ServerError, `Not found. The MCP endpoint is ${MCP_PATH}.`, drain?.draining ? CLOSE : {});
    }

    // Always ours and fresh: a client-chosen id could collide with or impersonate other records.
    const requestId = randomUUID().replaceAll('-', '');
    const traceId = traceIdFor(request);
    const origin = request.headers.get('origin');
    const originAllowed = isOriginAllowed(origin, options.allowedOrigins);
    const answerHeaders = { ...(originAllowed ? corsHeaders(origin) : {}), 'x-request-id': requestId };
    const headerVersion = request.headers.get('mcp-protocol-version');
    const userAgent = request.headers.get('user-agent') ?? undefined;
    let caller: CallerIdentity | undefined;
    const audit = (status: number, facts: Pick<RejectionFacts, 'reason' | 'outcome'>) =>
      auditor.rejected({
        requestId,
        traceId,
        userAgent,
        protocolVersion: headerVersion ?? undefined,
        status,
        httpMethod: request.method,
        path: url.pathname,
        ...(origin && { origin }),
        ...(caller && { caller }),
        ...facts,
      });
    const reject = (status: number, code: number, message: string, facts: Pick<RejectionFacts, 'reason' | 'outcome'>, headers: Record<string, string> = {}) => {
      audit(status, facts);
      return jsonRpcErrorResponse(status, code, message, { ...answerHeaders, ...headers });
    };
    const auditFacts = () => ({ requestId, traceId, userAgent, protocolVersion: headerVersion ?? undefined, httpMethod: request.method, path: url.pathname, ...(origin && { origin }) });
    /** 401/403 with the challenge (Entra mode), or the plain refusal of the other modes; audited with the reason. */
    const refuseAuth = (failure: AuthFailure = MISSING_TOKEN) => {
      audit(failure.status, { reason: failure.reason, outcome: failure.status === 503 ? 'error' : 'denied' });
      if (!options.protectedResource) return jsonRpcErrorResponse(failure.status, ErrorCode.ServerError, failure.description, answerHeaders);
      return withHeaders(authChallengeResponse(failure, options.protectedResource), answerHeaders);
    };

    if (!originAllowed) {
      return reject(403, ErrorCode.ServerError, 'Forbidden: this Origin is not allowed. Add it to MCP_ALLOWED_ORIGINS if it is a trusted web client.', {
        reason: 'origin_not_allowed',
        outcome: 'denied',
      });
    }
    if (drain?.draining) {
      // Nothing new starts on an instance that is shutting down; a refused call is audited like any refusal.
      if (request.method === 'POST' && options.authMode === 'easyAuth') caller = easyAuthPrincipal(request);
      const status = 503;
      const message = 'Service Unavailable: this server instance is shutting down. Retry the request; another instance will serve it.';
      const headers = { 'retry-after': String(SHUTDOWN_RETRY_AFTER_SECONDS), ...CLOSE };
      if (request.method !== 'POST') return jsonRpcErrorResponse(status, ErrorCode.ServerError, message, { ...answerHeaders, ...headers });
      return reject(status, ErrorCode.ServerError, message, { reason: 'shutting_down', outcome: 'error' }, headers);
    }
    if (request.method === 'OPTIONS' && origin) {
      return new Response(null, { status: 204, headers: preflightHeaders(origin, request.headers.get('access-control-request-headers')) });
    }
    if (request.method !== 'POST') {
      return jsonRpcErrorResponse(405, ErrorCode.ServerError, 'Method not allowed: this stateless server answers POST only (no sessions, no standalone event stream).', {
        ...answerHeaders,
        allow: 'POST',
      });
    }
    const spoofed = options.authMode === 'easyAuth' ? [] : principalHeadersIn(request);
    const admission = await options.authenticate(request);
    if (admission.ok) caller = admission.principal;
    // Principal headers outside Easy Auth come from the client: never read, always reported.
    if (spoofed.length > 0) auditor.suspicious({ ...auditFacts(), reason: 'spoofed_principal_headers', headers: spoofed });
    // An anonymous tools/list, when allowed, is decided once the body is read.
    const anonymousListAllowed = !admission.ok && admission.failure.reason === 'no_token' && options.allowAnonymousToolsList === true;
    if (!admission.ok && !anonymousListAllowed) return refuseAuth(admission.failure);
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return reject(415, ErrorCode.ServerError, 'Unsupported Media Type: Content-Type must be application/json', { reason: 'unsupported_media_type', outcome: 'error' });
    }
    const body = await readBodyWithLimit(request, options.maxBodyBytes);
    if (!body.ok) {
      return body.reason === 'too_large'
        ? reject(413, ErrorCode.ServerError, `Payload Too Large: the request body exceeds ${options.maxBodyBytes} bytes`, { reason: 'body_too_large', outcome: 'error' })
        : reject(400, ErrorCode.ParseError, 'Parse error: the request body could not be read', { reason: 'unreadable_body', outcome: 'error' });
    }
    if (jsonNestingDepth(body.text) > MAX_JSON_DEPTH) {
      return reject(400, ErrorCode.InvalidRequest, `Invalid Request: the JSON nests deeper than ${MAX_JSON_DEPTH} levels; send flatter arguments`, { reason: 'too_deep', outcome: 'error' });
    }
    let message: unknown;
    try {
      message = JSON.parse(body.text);
    } catch {
      return reject(400, ErrorCode.ParseError, 'Parse error: Invalid JSON', { reason: 'parse_error', outcome: 'error' });
    }

    if (!caller) {
      if (admission.ok || !isAnonymousListing(message)) return refuseAuth(admission.ok ? undefined : admission.failure);
      caller = anonymousPrincipal(options.authMode);
    }
    // Before the SDK runs anything: a caller past its rate gets 429 with the wait, audited.
    const calls = options.rateLimit ? toolCallCount(message) : 0;
    if (calls > 0) {
      const verdict = options.rateLimit!.take(rateLimitKey(caller), calls);
      if (!verdict.ok) {
        const wait = String(verdict.retryAfterSeconds);
        return reject(429, ErrorCode.ServerError, `Too Many Requests: your tool-call rate on this server (MCP_RATE_LIMIT_PER_MINUTE) is used up. Retry after ${wait} s.`, { reason: 'rate_limited', outcome: 'denied' }, { 'retry-after': wait });
      }
    }
    for (const id of cancelledIds(message)) inflight.cancel(caller, id);
    const admitted = caller;
    const call: CallContext = {
      caller: admitted,
      requestId,
      traceId,
      userAgent,
      protocolVersion: headerVersion ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
      // Lazy: creating a request's AbortSignal costs more than the rest of a no-I/O call.
      get signal() {
        return request.signal;
      },
      cancellation: (id) => inflight.register(admitted, id),
    };
    let response: Response;
    // A 2026-07-28 header is never legacy (the SDK's modern path answers even a missing envelope), so
    // only other requests need the SDK's classification; skipping it spares a second pass over the body.
    const legacy = headerVersion !== MODERN_PROTOCOL_VERSION && (await isLegacyRequest(request, message, { maxRequestBodySize: options.maxBodyBytes }));
    if (legacy) {
      response = await serveLegacyRequest(options.createServer(call), request, message, options.keepAliveMs);
    } else {
      contexts.set(request, call);
      response = await modern.fetch(request, { parsedBody: message });
    }
    if (response.status >= 400) audit(response.status, { reason: await rejectionReason(response), outcome: response.status === 401 || response.status === 403 ? 'denied' : 'error' });
    // A claims challenge met while acting for the caller goes back as the spec's 401 step-up, when
    // the answer is still ours to replace (a JSON answer; an event stream keeps the tool's error result).
    if (call.claimsChallenge && options.protectedResource && !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      void response.body?.cancel();
      return withHeaders(claimsChallengeResponse(call.claimsChallenge, options.protectedResource), answerHeaders);
    }
    // Answers that end during a shutdown close their connection, so keep-alive clients reconnect elsewhere.
    return withHeaders(response, drain?.draining ? { ...answerHeaders, ...CLOSE } : answerHeaders);
  };
}

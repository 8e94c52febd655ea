import { randomUUID } from 'node:crypto';
import type { AuthMode } from '../config.ts';
import type { Auditor, RejectionFacts } from '../audit/auditor.ts';
import { readBodyWithLimit } from './body.ts';
import { callerFromRequest } from './caller.ts';
import { classifyMessage, type CallContext, type Dispatcher } from './dispatch.ts';
import { JSON_HEADERS, jsonResponse, jsonRpcErrorResponse, methodNotAllowed } from './http.ts';
import { corsHeaders, isOriginAllowed, preflightHeaders } from './origin.ts';
import { allowsBatches, DEFAULT_NEGOTIATED_PROTOCOL_VERSION, ErrorCode, SUPPORTED_PROTOCOL_VERSIONS } from './protocol.ts';

export const MCP_PATH = '/mcp';
export const HEALTH_PATH = '/health';
/** Same cap as the SDK transport. */
export const MAX_BATCH_SIZE = 100;

export interface McpHandlerOptions {
  authMode: AuthMode;
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  dispatcher: Dispatcher;
  auditor: Auditor;
  server: { name: string; version: string };
}

export type FetchHandler = (request: Request) => Promise<Response>;

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The W3C trace id when the caller sent one (so our audit joins its trace), else a fresh one. */
function requestIdFor(request: Request): string {
  const match = TRACEPARENT.exec(request.headers.get('traceparent') ?? '');
  return match?.[1] && !/^0+$/.test(match[1]) ? match[1] : randomUUID().replaceAll('-', '');
}

/** Parsed media type, never a substring match (`application/jsonx` is not JSON). */
function isJsonContentType(value: string | null): boolean {
  return value?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * The one core handler: a web-standard `(Request) => Promise<Response>`
 * serving MCP streamable HTTP in stateless JSON mode. Adapters (Azure
 * Functions, the Node host) only convert to and from it.
 */
export function createMcpHandler(options: McpHandlerOptions): FetchHandler {
  const { auditor, dispatcher } = options;
  const health = JSON.stringify({ status: 'ok', name: options.server.name, version: options.server.version });

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === HEALTH_PATH && (request.method === 'GET' || request.method === 'HEAD')) {
      return new Response(request.method === 'HEAD' ? null : health, { headers: { ...JSON_HEADERS, 'cache-control': 'no-store' } });
    }
    if (url.pathname !== MCP_PATH) return jsonResponse({ error: `Not found. The MCP endpoint is ${MCP_PATH}.` }, 404);

    const requestId = requestIdFor(request);
    const origin = request.headers.get('origin');
    const headerVersion = request.headers.get('mcp-protocol-version');
    const base = { requestId, userAgent: request.headers.get('user-agent') ?? undefined, protocolVersion: headerVersion ?? undefined };
    const cors = corsHeaders(origin);
    const reject = (
      status: number,
      code: number,
      message: string,
      facts: Pick<RejectionFacts, 'reason' | 'outcome'> & Partial<RejectionFacts>,
      headers: Record<string, string> = {},
    ) => {
      auditor.rejected({ ...base, status, httpMethod: request.method, path: url.pathname, ...(origin && { origin }), ...facts });
      return jsonRpcErrorResponse(status, code, message, { ...cors, ...headers, 'x-request-id': requestId });
    };

    if (!isOriginAllowed(origin, options.allowedOrigins)) {
      return reject(403, ErrorCode.ServerError, 'Forbidden: this Origin is not allowed. Add it to MCP_ALLOWED_ORIGINS if it is a trusted web client.', {
        reason: 'origin_not_allowed',
        outcome: 'denied',
      });
    }
    if (request.method === 'OPTIONS' && origin) return new Response(null, { status: 204, headers: preflightHeaders(origin) });
    if (request.method !== 'POST') return methodNotAllowed(origin ? 'POST, OPTIONS' : 'POST');

    const caller = callerFromRequest(request, options.authMode);
    if (!caller) {
      return reject(401, ErrorCode.ServerError, 'Unauthorized: sign in through the app\'s Microsoft Entra authentication (Easy Auth).', {
        reason: 'unauthenticated',
        outcome: 'denied',
      });
    }
    const accept = request.headers.get('accept') ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return reject(406, ErrorCode.ServerError, 'Not Acceptable: Client must accept both application/json and text/event-stream', {
        reason: 'not_acceptable',
        outcome: 'error',
        caller,
      });
    }
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return reject(415, ErrorCode.ServerError, 'Unsupported Media Type: Content-Type must be application/json', {
        reason: 'unsupported_media_type',
        outcome: 'error',
        caller,
      });
    }
    if (headerVersion !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(headerVersion)) {
      return reject(
        400,
        ErrorCode.ServerError,
        `Bad Request: Unsupported protocol version: ${headerVersion.slice(0, 40)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
        { reason: 'unsupported_protocol_version', outcome: 'error', caller },
      );
    }

    const body = await readBodyWithLimit(request, options.maxBodyBytes);
    if (!body.ok) {
      return body.reason === 'too_large'
        ? reject(413, ErrorCode.ServerError, `Payload Too Large: the request body exceeds ${options.maxBodyBytes} bytes`, {
            reason: 'body_too_large',
            outcome: 'error',
            caller,
          })
        : reject(400, ErrorCode.ParseError, 'Parse error: the request body could not be read', { reason: 'unreadable_body', outcome: 'error', caller });
    }
    let message: unknown;
    try {
      message = JSON.parse(body.text);
    } catch {
      return reject(400, ErrorCode.ParseError, 'Parse error: Invalid JSON', { reason: 'parse_error', outcome: 'error', caller });
    }

    const protocolVersion = headerVersion ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
    const context: CallContext = {
      caller,
      requestId,
      protocolVersion,
      userAgent: base.userAgent,
      // Lazy: creating a request's AbortSignal costs more than the rest of a no-I/O call.
      get signal() {
        return request.signal;
      },
    };
    const headers = { ...JSON_HEADERS, ...cors, 'x-request-id': requestId };

    if (Array.isArray(message)) {
      const refusal = batchRefusal(message, protocolVersion);
      if (refusal) return reject(400, ErrorCode.InvalidRequest, refusal, { reason: 'invalid_batch', outcome: 'error', caller });
      const responses = (await Promise.all(message.map((item) => dispatcher.dispatch(item, context)))).filter(
        (item): item is string => item !== undefined,
      );
      return responses.length === 0 ? new Response(null, { status: 202, headers: cors }) : new Response(`[${responses.join(',')}]`, { headers });
    }
    if (classifyMessage(message).kind === 'invalid') {
      return reject(400, ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC 2.0 message', { reason: 'invalid_request', outcome: 'error', caller });
    }
    const response = await dispatcher.dispatch(message, context);
    return response === undefined ? new Response(null, { status: 202, headers: cors }) : new Response(response, { headers });
  };
}

function batchRefusal(batch: unknown[], protocolVersion: string): string | undefined {
  if (!allowsBatches(protocolVersion)) {
    return `Invalid Request: JSON-RPC batches are not supported in MCP protocol version ${protocolVersion}; send one message per request`;
  }
  if (batch.length === 0) return 'Invalid Request: empty batch';
  if (batch.length > MAX_BATCH_SIZE) return `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`;
  if (batch.some((item) => classifyMessage(item).method === 'initialize')) {
    return 'Invalid Request: initialize must not be part of a batch';
  }
  return undefined;
}

import type { Auditor } from '../audit/auditor.ts';
import type { ServerFacts, ToolContext, ToolDefinition, ToolResult } from '../tools/define-tool.ts';
import type { ToolCatalog } from '../tools/catalog.ts';
import type { ToolServices } from '../tools/services.ts';
import type { CallerIdentity } from './caller.ts';
import { ErrorCode, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './protocol.ts';

/**
 * Stateless JSON-RPC dispatch for MCP: initialize, ping, tools/list,
 * tools/call. Responses are returned as serialized JSON so the tools/list
 * payload, built once at start-up, is spliced in without re-serializing.
 */

export interface CallContext {
  caller: CallerIdentity;
  requestId: string;
  protocolVersion: string;
  userAgent: string | undefined;
  signal: AbortSignal;
}

export interface DispatcherOptions {
  catalog: ToolCatalog;
  services: ToolServices;
  auditor: Auditor;
  server: ServerFacts;
  instructions?: string;
}

type JsonRpcId = string | number;

interface ParsedMessage {
  kind: 'request' | 'notification' | 'response' | 'invalid';
  id?: JsonRpcId;
  method?: string;
  params?: Record<string, unknown>;
}

const isId = (value: unknown): value is JsonRpcId =>
  typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

export function classifyMessage(message: unknown): ParsedMessage {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return { kind: 'invalid' };
  const m = message as Record<string, unknown>;
  const id = isId(m.id) ? m.id : undefined;
  if (m.jsonrpc !== '2.0') return { kind: 'invalid', id };
  const params = m.params;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    return { kind: 'invalid', id };
  }
  if (typeof m.method === 'string') {
    if ('id' in m) return id === undefined ? { kind: 'invalid' } : { kind: 'request', id, method: m.method, params: params as Record<string, unknown> };
    return { kind: 'notification', method: m.method };
  }
  if (id !== undefined && ('result' in m || 'error' in m)) return { kind: 'response', id };
  return { kind: 'invalid', id };
}

export const errorJson = (id: JsonRpcId | undefined, code: number, message: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });

const resultJson = (id: JsonRpcId, result: unknown) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${typeof result === 'string' ? result : JSON.stringify(result)}}`;

function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
}

export function createDispatcher(options: DispatcherOptions) {
  const { catalog, auditor, server } = options;
  const capabilities = { tools: { listChanged: false } };

  function initialize(id: JsonRpcId, params: Record<string, unknown> | undefined): string {
    const requested = params?.protocolVersion;
    if (typeof requested !== 'string' || typeof params?.capabilities !== 'object' || typeof params?.clientInfo !== 'object') {
      return errorJson(id, ErrorCode.InvalidParams, 'initialize needs params.protocolVersion, params.capabilities and params.clientInfo');
    }
    return resultJson(id, {
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
      capabilities,
      serverInfo: { name: server.name, title: 'Azure MCP Functions', version: server.version },
      ...(options.instructions && { instructions: options.instructions }),
    });
  }

  async function runTool(tool: ToolDefinition, rawArgs: unknown, context: CallContext): Promise<ToolResult> {
    const parsed = tool.input.safeParse(rawArgs ?? {});
    if (!parsed.success) {
      return {
        isError: true,
        content: [{ type: 'text', text: `Invalid arguments for ${tool.name}: ${describeIssues(parsed.error.issues)}. Fix the arguments to match the tool's input schema and call it again.` }],
        audit: { errorClass: 'invalid_arguments' },
      };
    }
    try {
      const toolContext: ToolContext = {
        caller: context.caller,
        requestId: context.requestId,
        protocolVersion: context.protocolVersion,
        get signal() {
          return context.signal;
        },
        services: options.services,
        server,
      };
      const result = await tool.handler(parsed.data, toolContext);
      if (tool.output && !result.isError) {
        const checked = tool.output.safeParse(result.structuredContent);
        if (!checked.success) throw new Error(`structuredContent does not match the output schema: ${describeIssues(checked.error.issues)}`);
      }
      return result;
    } catch (error) {
      process.stderr.write(`tool ${tool.name} failed (request ${context.requestId}): ${(error as Error).stack ?? String(error)}\n`);
      return {
        isError: true,
        content: [{ type: 'text', text: `${tool.name} failed inside the server (request id ${context.requestId}). Next step: retry once; if it fails again, report the request id to the server's operators.` }],
        audit: { errorClass: 'internal_error' },
      };
    }
  }

  async function callTool(id: JsonRpcId, params: Record<string, unknown> | undefined, context: CallContext): Promise<string> {
    const name = params?.name;
    if (typeof name !== 'string') return errorJson(id, ErrorCode.InvalidParams, 'tools/call needs params.name (string)');
    const started = performance.now();
    const tool = catalog.enabled.get(name);
    const disabledReason = catalog.disabled.get(name);
    // A disabled tool is still described by its definition: its sensitive arguments stay redacted.
    const definition = tool ?? catalog.known.get(name);
    let result: ToolResult;
    if (tool) {
      result = await runTool(tool, params?.arguments, context);
    } else if (disabledReason) {
      result = { isError: true, content: [{ type: 'text', text: `Tool ${name} is not available: ${disabledReason}.` }], audit: { errorClass: 'tool_disabled' } };
    } else {
      result = {
        isError: true,
        content: [{ type: 'text', text: `Unknown tool ${JSON.stringify(name.slice(0, 100))}. Available tools: ${[...catalog.enabled.keys()].join(', ')}.` }],
        audit: { errorClass: 'unknown_tool' },
      };
    }
    const audit = result.audit;
    result.audit = undefined; // JSON.stringify drops it: audit details never reach the client
    const json = resultJson(id, result);
    auditor.toolCall({
      requestId: context.requestId,
      caller: context.caller,
      userAgent: context.userAgent,
      protocolVersion: context.protocolVersion,
      tool: name.slice(0, 100),
      toolset: definition?.toolset,
      readOnly: definition?.annotations.readOnlyHint,
      outcome: !result.isError ? 'success' : disabledReason ? 'denied' : 'error',
      durationMs: performance.now() - started,
      jsonRpcId: id,
      arguments: params?.arguments,
      sensitiveArguments: definition?.sensitiveArguments ?? [],
      resultBytes: Buffer.byteLength(json),
      details: audit,
    });
    return json;
  }

  /** Handles one message; returns the serialized response, or undefined when none is due. */
  async function dispatch(message: unknown, context: CallContext): Promise<string | undefined> {
    const parsed = classifyMessage(message);
    switch (parsed.kind) {
      case 'notification':
      case 'response':
        return undefined;
      case 'invalid':
        return errorJson(parsed.id, ErrorCode.InvalidRequest, 'Invalid Request: expected a JSON-RPC 2.0 message');
    }
    const id = parsed.id as JsonRpcId;
    switch (parsed.method) {
      case 'initialize':
        return initialize(id, parsed.params);
      case 'ping':
        return resultJson(id, {});
      case 'tools/list':
        return resultJson(id, catalog.listResultJson);
      case 'tools/call':
        return callTool(id, parsed.params, context);
      default:
        return errorJson(id, ErrorCode.MethodNotFound, `Method not found: ${String(parsed.method).slice(0, 100)}`);
    }
  }

  return { dispatch };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

import { Server, type CacheHint, type jsonSchemaValidator, type ListToolsResult, type ServerContext } from '@modelcontextprotocol/server';
import type { CallContext } from './call-context.ts';
import { capabilitiesFromEnvelope } from './client-capabilities.ts';
import type { GrantedTools } from './granted-tools.ts';
import type { ProgressSink } from './progress.ts';
import type { ToolCallRunner } from './tool-call.ts';

export interface ServerFactoryOptions {
  info: { name: string; title: string; version: string };
  instructions: string;
  /** `tools/list` result, built once at start (JSON Schemas included): everything enabled, when `granted` is not given. */
  tools: ListToolsResult['tools'];
  /** The tools each caller may call (src/auth/grants.ts): `tools/list` shows only those. */
  granted?: GrantedTools;
  /** 2026-07-28 cache hint for `tools/list`; its `cacheScope` becomes `private` for a caller whose list depends on who they are. */
  toolsListCache: CacheHint;
  runTool: ToolCallRunner;
  /**
   * One validator for every per-request instance: the SDK's default builds a
   * new Ajv per server, which is most of what constructing one costs.
   */
  jsonSchemaValidator: jsonSchemaValidator;
}

export type ServerFactory = (call: CallContext) => Server;

function progressSink(ctx: ServerContext): ProgressSink | undefined {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return (message, progress) => {
    // A client that has gone away cannot be told; the call's own signal handles that.
    ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => undefined);
  };
}

/**
 * Builds the SDK's low-level `Server` for one HTTP request, as the SDK's
 * stateless serving requires. Everything costly (tool list, JSON Schemas,
 * validator, options) is made once here; per request only the instance and
 * its two handlers are created.
 */
export function createServerFactory(options: ServerFactoryOptions): ServerFactory {
  const serverOptions = {
    capabilities: { tools: { listChanged: false } },
    instructions: options.instructions,
    jsonSchemaValidator: options.jsonSchemaValidator,
    cacheHints: { 'tools/list': options.toolsListCache },
  };
  // A list that depends on the caller must not be shared by caches between callers.
  const personalOptions = { ...serverOptions, cacheHints: { 'tools/list': { ...options.toolsListCache, cacheScope: 'private' as const } } };
  const { tools, granted, runTool } = options;

  return function createServer(call: CallContext): Server {
    const server = new Server(options.info, granted?.personal(call.caller) ? personalOptions : serverOptions);
    // A fresh wrapper each time: the SDK decorates results on their way out.
    server.setRequestHandler('tools/list', async () => ({ tools: granted ? granted.descriptors(call.caller) : tools }));
    server.setRequestHandler('tools/call', (request, ctx) =>
      runTool(
        {
          name: request.params.name,
          arguments: request.params.arguments,
          jsonRpcId: ctx.mcpReq.id,
          protocolVersion: call.protocolVersion,
          progress: progressSink(ctx),
          sdkSignal: ctx.mcpReq.signal,
          inputResponses: ctx.mcpReq.inputResponses,
          clientCapabilities: capabilitiesFromEnvelope(ctx.mcpReq.envelope),
        },
        call,
      ) as never,
    );
    return server;
  };
}

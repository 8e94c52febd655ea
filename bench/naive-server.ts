import { anonymousPrincipal } from '../src/auth/principal.ts';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport as TransportV1 } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createMcpHandler, McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import type { ToolContext, ToolDefinition } from '../src/tools/define-tool.ts';

type RunTool = (tool: ToolDefinition, args: unknown, protocolVersion: string) => Promise<unknown>;

/**
 * SDK v1 (`@modelcontextprotocol/sdk`): the pattern its stateless examples
 * (and most Functions samples) use: a new McpServer and transport per request,
 * registering every tool with its zod schema each time. 2025 era only: v1
 * speaks no 2026-07-28.
 */
export function naiveV1Handler(tools: readonly ToolDefinition[], runTool: RunTool) {
  return async (request: Request): Promise<Response> => {
    const server = new McpServerV1({ name: 'naive', version: '1.0.0' });
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.input, ...(tool.output && { outputSchema: tool.output }), annotations: tool.annotations },
        async (args: unknown) => (await runTool(tool, args, '2025-11-25')) as never,
      );
    }
    const transport = new TransportV1({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      await server.close();
    }
  };
}

/**
 * SDK v2 (`@modelcontextprotocol/server`): its documented stateless serving,
 * `createMcpHandler(factory)`, with a factory that builds a v2 `McpServer` and
 * registers every tool (zod input and output schemas) per request. Serves
 * both eras: 2026-07-28 natively, 2025 through the SDK's stateless fallback.
 */
export function naiveV2Handler(tools: readonly ToolDefinition[], runTool: RunTool) {
  const handler = createMcpHandler(({ era }) => {
    const server = new McpServerV2({ name: 'naive-v2', version: '1.0.0' });
    const protocolVersion = era === 'modern' ? '2026-07-28' : '2025-11-25';
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.input, ...(tool.output && { outputSchema: tool.output }), annotations: tool.annotations },
        async (args: unknown) => (await runTool(tool, args, protocolVersion)) as never,
      );
    }
    return server;
  });
  return (request: Request): Promise<Response> => handler.fetch(request);
}

/** A fixed context for running each tool's real handler with no backend services. */
function runWithFixedContext(tools: readonly ToolDefinition[]): RunTool {
  const base: Omit<ToolContext, 'protocolVersion'> = {
    caller: anonymousPrincipal('functionKey'),
    signal: new AbortController().signal,
    progress: () => undefined,
    inputResponses: undefined,
    requestId: 'naive',
    services: {},
    server: { name: 'naive', version: '1.0.0', authMode: 'functionKey', readOnly: true, toolsets: [...new Set(tools.map((t) => t.toolset))], toolNames: tools.map((t) => t.name) },
  };
  return (tool, args, protocolVersion) => tool.handler(args as never, { ...base, protocolVersion });
}

export const naiveV1HandlerFor = (tools: readonly ToolDefinition[]) => naiveV1Handler(tools, runWithFixedContext(tools));
export const naiveV2HandlerFor = (tools: readonly ToolDefinition[]) => naiveV2Handler(tools, runWithFixedContext(tools));

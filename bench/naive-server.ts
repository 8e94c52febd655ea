import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { ToolContext, ToolDefinition } from '../src/tools/define-tool.ts';

/**
 * The pattern the SDK's stateless examples (and most Functions samples) use:
 * a new McpServer and transport per request, registering every tool with its
 * zod schema each time. The baseline our handler is measured against.
 */
export function naiveHandler(tools: readonly ToolDefinition[], runTool: (tool: ToolDefinition, args: unknown) => Promise<unknown>) {
  return async (request: Request): Promise<Response> => {
    const server = new McpServer({ name: 'naive', version: '1.0.0' });
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.input, ...(tool.output && { outputSchema: tool.output }), annotations: tool.annotations },
        async (args: unknown) => (await runTool(tool, args)) as never,
      );
    }
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      await server.close();
    }
  };
}

/** The same, running each tool's real handler with a fixed context and no backend services. */
export function naiveHandlerFor(tools: readonly ToolDefinition[]) {
  const context: ToolContext = {
    caller: { authMode: 'functionKey' },
    signal: new AbortController().signal,
    progress: () => undefined,
    inputResponses: undefined,
    requestId: 'naive',
    protocolVersion: '2025-06-18',
    services: {},
    server: { name: 'naive', version: '1.0.0', authMode: 'functionKey', readOnly: true, toolsets: [...new Set(tools.map((t) => t.toolset))], toolNames: tools.map((t) => t.name) },
  };
  return naiveHandler(tools, (tool, args) => tool.handler(args as never, context));
}

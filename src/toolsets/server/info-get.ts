import { z } from 'zod';
import { toolDefiner } from '../../tools/define-tool.ts';

/** `defineTool` for the server toolset: its tools need no services. */
export const defineServerTool = toolDefiner<undefined, 'server'>();

const output = z.object({
  server: z.object({ name: z.string(), version: z.string() }),
  protocolVersion: z.string(),
  authMode: z.string(),
  readOnly: z.boolean(),
  toolsets: z.array(z.string()),
  tools: z.array(z.string()),
  caller: z.object({
    objectId: z.string().optional(),
    tenantId: z.string().optional(),
    name: z.string().optional(),
    upn: z.string().optional(),
    appId: z.string().optional(),
    roles: z.array(z.string()).optional(),
    scopes: z.array(z.string()).optional(),
  }),
  requestId: z.string(),
});

/** Answers from memory only: no backend call, so it also proves the server is reachable and who it thinks you are. */
export const serverInfoGet = defineServerTool({
  name: 'server_info_get',
  title: 'Server info',
  description:
    'Describe this MCP server: version, negotiated protocol version, auth mode, whether it is read-only, ' +
    'the enabled toolsets and tools, and the caller identity as the server sees it. ' +
    'Use it to check connectivity or to explain why a tool is missing. Makes no backend call.',
  summary: 'Version, auth mode, enabled tools, and who the server thinks you are',
  toolset: 'server',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  output,
  async handler(_args, ctx) {
    const { caller } = ctx;
    const facts: z.infer<typeof output> = {
      server: { name: ctx.server.name, version: ctx.server.version },
      protocolVersion: ctx.protocolVersion,
      authMode: ctx.server.authMode,
      readOnly: ctx.server.readOnly,
      toolsets: [...ctx.server.toolsets],
      // The tools this caller may call: what its tools/list shows.
      tools: [...(ctx.server.toolNamesFor?.(caller) ?? ctx.server.toolNames)],
      caller: {
        ...(caller.objectId && { objectId: caller.objectId }),
        ...(caller.tenantId && { tenantId: caller.tenantId }),
        ...(caller.name && { name: caller.name }),
        ...(caller.upn && { upn: caller.upn }),
        ...(caller.appId && { appId: caller.appId }),
        ...(caller.roles.length > 0 && { roles: [...caller.roles] }),
        ...(caller.scopes.length > 0 && { scopes: [...caller.scopes] }),
      },
      requestId: ctx.requestId,
    };
    return { content: [{ type: 'text', text: JSON.stringify(facts) }], structuredContent: facts };
  },
});

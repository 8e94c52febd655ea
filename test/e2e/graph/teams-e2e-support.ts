import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Emulator } from '../../../emulator/server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/** Helpers the Teams read tools' e2e tests share (not a test file itself). */

export interface CallResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

export async function callAs(server: ServerProcess, token: string, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  const client = new Client({ name: 'graph-teams-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return (await client.callTool({ name, arguments: args })) as CallResult;
  } finally {
    await client.close();
  }
}

export const textOf = (result: CallResult) => result.content.map((part) => part.text ?? '').join('\n');

/** The last tool-call audit record. */
export const lastAudit = (server: ServerProcess) => server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);

/** Top-level Graph requests (not $batch items) whose path starts with `prefix`. */
export const requestsTo = (emulator: Emulator, prefix = '/') => emulator.graph.calls.filter((call) => call.batchItemId === undefined && call.path.startsWith(prefix));

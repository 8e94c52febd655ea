import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Emulator } from '../../emulator/server.ts';
import type { ServerProcess } from './server-process.ts';

/** What the e2e tests of the Graph workload tools (test/e2e/graph/workloads-*.test.ts) share. */

export interface CallResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

export async function callAs(server: ServerProcess, token: string, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  const client = new Client({ name: 'graph-workloads-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return (await client.callTool({ name, arguments: args })) as CallResult;
  } finally {
    await client.close();
  }
}

export const textOf = (result: CallResult) => result.content.map((part) => part.text ?? '').join('\n');

/** The last audit event of a tool call (for `tool`, when given). */
export function lastToolAudit(server: ServerProcess, tool?: string): Record<string, string> | undefined {
  return server
    .auditLines()
    .filter((line) => line.event === 'mcp.tool.call' && (tool === undefined || line.tool === tool))
    .at(-1);
}

/** Graph calls (not downloads) whose path starts with `prefix`. */
export const callsTo = (emulator: Emulator, prefix: string) => emulator.graph.calls.filter((call) => call.path.startsWith(prefix));

/** Megan Bowen of the sample tenant, signed in as herself (another user than the default test user). */
export function addMegan(emulator: Emulator, oid: string): { oid: string; upn: string } {
  const upn = 'megan.bowen@emulator.localhost';
  if (!emulator.entra.user(oid)) emulator.entra.addUser({ oid, upn, name: 'Megan Bowen' });
  return { oid, upn };
}

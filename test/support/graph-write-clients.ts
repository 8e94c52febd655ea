import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { connectClient } from './server-process.ts';

/**
 * MCP clients for the Graph write tests: the official SDK v2 client pinned
 * to 2026-07-28, declaring form elicitation and answering it with `answer`
 * (recording what it was asked), and the SDK v1 client (2025 era), which
 * cannot be asked and gets the server's confirmation policy.
 */

export interface ElicitationSeen {
  message: string;
  requestedSchema: unknown;
}

export type Answer = { action: 'accept'; content: Record<string, string | number | boolean> } | { action: 'decline' } | { action: 'cancel' };

export async function elicitingClient(mcpUrl: string, token: string, answer: () => Answer, seen: ElicitationSeen[] = []) {
  const client = new ClientV2({ name: 'graph-writes-elicit', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message: string; requestedSchema?: unknown };
    seen.push({ message: params.message, requestedSchema: params.requestedSchema });
    return answer();
  });
  await client.connect(new TransportV2(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** A 2026-07-28 client that declares no elicitation. */
export async function modernClient(mcpUrl: string, token: string) {
  const client = new ClientV2({ name: 'graph-writes-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new TransportV2(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

export const legacyClient = (mcpUrl: string, token: string) => connectClient(mcpUrl, 'graph-writes-2025', { authorization: `Bearer ${token}` });

export interface ToolAnswer {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, any>;
}

export async function callOnce(connect: () => Promise<{ callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>; close(): Promise<void> }>, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const client = await connect();
  try {
    return (await client.callTool({ name, arguments: args })) as ToolAnswer;
  } finally {
    await client.close();
  }
}

export const textOf = (answer: ToolAnswer) => answer.content.map((block) => block.text ?? '').join('\n');

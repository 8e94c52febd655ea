import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Emulator } from '../../emulator/server.ts';
import { startEntraServerProcess, type ServerProcess } from './server-process.ts';

/** Every delegated Graph permission the Graph tools use: what an admin consents to for on-behalf-of. */
export const GRAPH_DELEGATED = [
  'User.Read', 'User.ReadBasic.All', 'Team.ReadBasic.All', 'Channel.ReadBasic.All', 'ChannelMessage.Read.All', 'ChannelMessage.Send', 'TeamMember.ReadWrite.All',
  'Team.Create', 'Channel.Create', 'Presence.Read.All', 'Chat.Read', 'ChatMessage.Send', 'Mail.Read', 'Mail.Send', 'Calendars.ReadWrite', 'Files.Read.All', 'Sites.Read.All',
];

/** The application permissions (app roles) an admin may assign the managed identity for app-only Graph. */
export const GRAPH_APPLICATION = ['User.Read.All', 'Team.ReadBasic.All', 'Channel.ReadBasic.All', 'ChannelMessage.Read.All', 'Presence.Read.All', 'Chat.Read.All', 'Mail.Read', 'Calendars.Read', 'Files.Read.All', 'TeamMember.ReadWrite.All', 'Team.Create', 'Channel.Create'];

/**
 * The server in entra mode with the Graph toolsets on, set up as an admin
 * would: for `onBehalfOf`, admin consent for the delegated permissions on
 * the API app; for `managedIdentity`, the application permissions assigned
 * to the app's managed identity.
 */
export async function startGraphServerProcess(
  emulator: Emulator,
  identity: 'onBehalfOf' | 'managedIdentity',
  options: { permissions?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess & { publicUrl: string }> {
  if (identity === 'onBehalfOf') emulator.entra.grantConsent(emulator.entra.api.clientId, 'https://graph.microsoft.com', options.permissions ?? GRAPH_DELEGATED);
  else emulator.entra.assignAppRoles(emulator.identity.principalId, 'https://graph.microsoft.com', options.permissions ?? GRAPH_APPLICATION);
  return startEntraServerProcess(emulator, { GRAPH_IDENTITY: identity, ...options.env });
}

/** A tool result as the Graph e2e tests read it. */
export interface CallResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

/** One tool call with the official SDK v2 client, as the holder of `token`. */
export async function callAs(server: ServerProcess, token: string, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  const client = new Client({ name: 'graph-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return (await client.callTool({ name, arguments: args })) as CallResult;
  } finally {
    await client.close();
  }
}

export const textOf = (result: CallResult) => result.content.map((part) => part.text ?? '').join('\n');

/** The last audit event of a tool call (of `tool`, when given). */
export function lastToolAudit(server: ServerProcess, tool?: string): Record<string, string> | undefined {
  return server
    .auditLines()
    .filter((line) => line.event === 'mcp.tool.call' && (tool === undefined || line.tool === tool))
    .at(-1);
}

/** Graph calls ($batch items included, downloads not) whose path starts with `prefix`. */
export const callsTo = (emulator: Emulator, prefix: string) => emulator.graph.calls.filter((call) => call.path.startsWith(prefix));

/** Top-level Graph requests (not $batch items) whose path starts with `prefix`. */
export const requestsTo = (emulator: Emulator, prefix = '/') => emulator.graph.calls.filter((call) => call.batchItemId === undefined && call.path.startsWith(prefix));

/** Megan Bowen of the sample tenant, signed in as herself (another user than the default test user). */
export function addMegan(emulator: Emulator, oid: string): { oid: string; upn: string } {
  const upn = 'megan.bowen@emulator.localhost';
  if (!emulator.entra.user(oid)) emulator.entra.addUser({ oid, upn, name: 'Megan Bowen' });
  return { oid, upn };
}

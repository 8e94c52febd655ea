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

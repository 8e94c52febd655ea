/**
 * Which Graph permissions each emulated operation accepts, and Graph's 403 when the token has
 * none of them.
 *
 * Names and "least to most privileged" lists come from each API page's permissions table on
 * learn.microsoft.com (the same data as microsoftgraph/msgraph-metadata's permission tables) and
 * graph-protocol.md §9–§10. `application: null` means Graph offers no application permission for
 * the operation (delegated only). Resource-specific consent (`*.Group`, `*.Chat`) permissions are
 * listed where the docs list them although RSC grants do not travel in `roles`.
 *
 * The 403 wording differs per workload, as Graph's does: Teams answers `Forbidden` "Missing scope
 * permissions on the request. API requires one of '…'. Scopes on the request '…'" (or "role" /
 * "Roles" for app-only; seen in microsoft-graph-docs issues #3379 and MSTeamsChatExporter #9),
 * the directory `Authorization_RequestDenied` "Insufficient privileges to complete the operation.",
 * Outlook `ErrorAccessDenied` "Access is denied. Check credentials and try again.", files
 * `accessDenied` (wording `unconfirmed`).
 */
import { GraphError } from './errors.ts';
import type { Caller } from './context.ts';

export type Workload = 'teams' | 'directory' | 'outlook' | 'files' | 'search' | 'presence';

export interface PermissionRule {
  workload: Workload;
  delegated: string[];
  application: string[] | null;
}

const USER_READ_ANY = ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const FILES_DELEGATED = ['Files.Read', 'Files.ReadWrite', 'Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];

export const PERMISSIONS = {
  'me.get': { workload: 'directory', delegated: ['User.Read', 'User.ReadWrite', ...USER_READ_ANY], application: null },
  'users.list': { workload: 'directory', delegated: USER_READ_ANY, application: USER_READ_ANY },
  'users.get': { workload: 'directory', delegated: USER_READ_ANY, application: USER_READ_ANY },
  'teams.list': { workload: 'teams', delegated: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'Directory.Read.All'], application: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'Directory.Read.All'] },
  'teams.get': { workload: 'teams', delegated: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'Group.Read.All', 'Directory.Read.All'], application: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'Group.Read.All', 'Directory.Read.All'] },
  'joinedTeams.list': { workload: 'teams', delegated: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'], application: ['Team.ReadBasic.All', 'TeamSettings.Read.All', 'TeamSettings.ReadWrite.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'] },
  'teams.create': { workload: 'teams', delegated: ['Team.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'], application: ['Team.Create', 'Teamwork.Migrate.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'] },
  // unconfirmed: the permissions table of "Get teamsAsyncOperation".
  'teams.operation.get': { workload: 'teams', delegated: ['Team.Create', 'Team.ReadBasic.All', 'Group.Read.All', 'Group.ReadWrite.All'], application: ['Team.Create', 'Team.ReadBasic.All', 'Group.Read.All', 'Group.ReadWrite.All'] },
  'channels.list': { workload: 'teams', delegated: ['Channel.ReadBasic.All', 'ChannelSettings.Read.All', 'ChannelSettings.ReadWrite.All'], application: ['ChannelSettings.Read.Group', 'Channel.ReadBasic.All', 'ChannelSettings.Read.All', 'ChannelSettings.ReadWrite.All'] },
  'channels.create': { workload: 'teams', delegated: ['Channel.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'], application: ['Channel.Create.Group', 'Channel.Create', 'Teamwork.Migrate.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'] },
  'channelMessages.list': { workload: 'teams', delegated: ['ChannelMessage.Read.All'], application: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All'] },
  // App-only posting exists only for migration (Teamwork.Migrate.All on a team in migration mode).
  'channelMessages.send': { workload: 'teams', delegated: ['ChannelMessage.Send', 'Group.ReadWrite.All'], application: ['Teamwork.Migrate.All'] },
  'members.list': { workload: 'teams', delegated: ['TeamMember.Read.All', 'TeamMember.ReadWrite.All'], application: ['TeamMember.Read.Group', 'TeamMember.Read.All', 'TeamMember.ReadWrite.All'] },
  'members.add': { workload: 'teams', delegated: ['TeamMember.ReadWriteNonOwnerRole.All', 'TeamMember.ReadWrite.All'], application: ['TeamMember.ReadWrite.Group', 'TeamMember.ReadWriteNonOwnerRole.All', 'TeamMember.ReadWrite.All'] },
  'chats.list': { workload: 'teams', delegated: ['Chat.ReadBasic', 'Chat.Read', 'Chat.ReadWrite'], application: ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'] },
  'chatMessages.list': { workload: 'teams', delegated: ['Chat.Read', 'Chat.ReadWrite'], application: ['ChatMessage.Read.Chat', 'Chat.Read.All', 'Chat.ReadWrite.All'] },
  'chatMessages.send': { workload: 'teams', delegated: ['ChatMessage.Send', 'Chat.ReadWrite'], application: ['Teamwork.Migrate.All'] },
  'presence.get': { workload: 'presence', delegated: ['Presence.Read', 'Presence.Read.All'], application: ['Presence.Read.All', 'Presence.ReadWrite.All'] },
  'presence.byIds': { workload: 'presence', delegated: ['Presence.Read.All'], application: ['Presence.Read.All', 'Presence.ReadWrite.All'] },
  // Mail.ReadBasic(.All) is left out: it would have to strip bodies, which the emulator does not model.
  'mail.read': { workload: 'outlook', delegated: ['Mail.Read', 'Mail.ReadWrite'], application: ['Mail.Read', 'Mail.ReadWrite'] },
  'mail.send': { workload: 'outlook', delegated: ['Mail.Send'], application: ['Mail.Send'] },
  'calendar.read': { workload: 'outlook', delegated: ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'], application: ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'] },
  'events.create': { workload: 'outlook', delegated: ['Calendars.ReadWrite'], application: ['Calendars.ReadWrite'] },
  'files.read': { workload: 'files', delegated: FILES_DELEGATED, application: ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'] },
} satisfies Record<string, PermissionRule>;

export type Operation = keyof typeof PERMISSIONS;

/** Microsoft Search: the permissions per entity type (graph-protocol.md §10); delegated only for these. */
export const SEARCH_PERMISSIONS: Record<string, string[]> = {
  chatMessage: ['Chat.Read', 'Chat.ReadWrite', 'ChannelMessage.Read.All'],
  message: ['Mail.Read', 'Mail.ReadWrite'],
  event: ['Calendars.Read', 'Calendars.ReadWrite'],
  driveItem: ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'],
};

/** The permissions the caller holds that `accepted` lists (empty: none). */
export function held(caller: Caller, accepted: string[]): string[] {
  const have = new Set(caller.permissions.map((permission) => permission.toLowerCase()));
  return accepted.filter((permission) => have.has(permission.toLowerCase()));
}

export function missingPermission(workload: Workload, caller: Caller, accepted: string[]): GraphError {
  const delegated = caller.kind === 'delegated';
  switch (workload) {
    case 'directory':
      return new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    case 'outlook':
      return new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    case 'files':
      // unconfirmed: SharePoint's exact wording.
      return new GraphError(403, 'accessDenied', 'Access denied');
    default:
      return new GraphError(
        403,
        'Forbidden',
        `Missing ${delegated ? 'scope' : 'role'} permissions on the request. API requires one of '${accepted.join(', ')}'. ${delegated ? 'Scopes' : 'Roles'} on the request '${caller.permissions.join(', ')}'`,
      );
  }
}

/**
 * Throws Graph's answer when the caller may not call `operation`: 403 without any accepted
 * permission; for a delegated-only operation called app-only, the same 403 with the delegated
 * names (Graph answers app-only tokens on delegated-only Teams APIs with a 403; the exact text is
 * `unconfirmed`).
 */
export function requirePermission(caller: Caller, operation: Operation): void {
  const rule: PermissionRule = PERMISSIONS[operation];
  const accepted = caller.kind === 'delegated' ? rule.delegated : rule.application;
  if (accepted === null) throw missingPermission(rule.workload, caller, rule.delegated);
  if (held(caller, accepted).length === 0) throw missingPermission(rule.workload, caller, accepted);
}

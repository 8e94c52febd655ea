import { channelIdSchema, chatIdSchema, guidSchema, teamIdSchema, teamsMessageIdSchema } from '../../../graph/ids.ts';

/**
 * Teams links as people paste them, turned into the ids the Graph tools
 * take. Pure parsing, no request. The forms (Teams "Copy link" and deep links,
 * https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/deep-links):
 *
 * - message: `/l/message/<channel or chat id>/<message id>?groupId=<team>&tenantId=…&parentMessageId=<thread root>`
 *   (a chat message names a chat id, or carries `context={"contextType":"chat"}`);
 * - channel: `/l/channel/<channel id>/<name>?groupId=<team>&tenantId=…`;
 * - team: `/l/team/<the team's thread id>/conversations?groupId=<team>&tenantId=…`;
 * - chat: `/l/chat/<chat id>/conversations`, or `/l/chat/0/0?users=a@x,b@y` (a new chat, no id yet);
 * - meeting: `/l/meetup-join/<meeting chat id>/<n>?context={"Tid":…,"Oid":<organizer>}`, also behind
 *   the `/dl/launcher/launcher.html?url=/_#/l/meetup-join/…` launcher; `/meet/<number>` links name
 *   no chat and are reported as such.
 *
 * Hosts: teams.microsoft.com, teams.cloud.microsoft and the US government clouds'; an Outlook Safe Links
 * wrapper is unwrapped once. Ids arrive percent-encoded once or twice (`19%3a…%40thread.tacv2`), so parts
 * are decoded until stable and then checked with the same schemas the tools check their arguments with.
 */

export const TEAMS_HOSTS = ['teams.microsoft.com', 'teams.cloud.microsoft', 'gov.teams.microsoft.us', 'dod.teams.microsoft.us'] as const;

export type TeamsLinkKind = 'channelMessage' | 'chatMessage' | 'channel' | 'team' | 'chat' | 'newChat' | 'meeting' | 'meetingById';

export interface ResolvedTeamsLink {
  kind: TeamsLinkKind;
  /** The ids found, each checked: teamId, channelId, chatId, messageId, threadMessageId, tenantId, organizerId, … */
  ids: Record<string, string>;
  /** Names the link carries (a channel's or team's), as written in it. */
  names?: Record<string, string>;
  /** Users of a new-chat link. */
  users?: string[];
  /** The tool to call next and its arguments, when the ids are enough for one. */
  next?: { tool: string; arguments: Record<string, string> };
  notes: string[];
}

export class TeamsLinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TeamsLinkError';
  }
}

const SAFE_LINKS = /(^|\.)safelinks\.protection\.(outlook\.com|office365\.us)$/i;

/** Decoded until it no longer changes (at most three rounds); undecodable text stays as it is. */
export function decodeFully(value: string): string {
  let current = value;
  for (let round = 0; round < 3; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

function parseUrl(text: string): URL {
  try {
    return new URL(text.trim());
  } catch {
    throw new TeamsLinkError('This is not a URL. Paste the whole Teams link (https://teams.microsoft.com/l/…).');
  }
}

function teamsUrl(text: string): URL {
  let url = parseUrl(text);
  if (SAFE_LINKS.test(url.hostname) && url.searchParams.get('url')) url = parseUrl(url.searchParams.get('url') as string);
  if (url.protocol !== 'https:') throw new TeamsLinkError(`Teams links are https; this one is ${url.protocol.replace(':', '')}.`);
  const host = url.hostname.toLowerCase();
  if (!(TEAMS_HOSTS as readonly string[]).includes(host)) {
    throw new TeamsLinkError(`${host} is not a Microsoft Teams host (${TEAMS_HOSTS.join(', ')}); only Teams links are resolved.`);
  }
  if (url.username || url.password) throw new TeamsLinkError('A Teams link carries no user name or password.');
  // The meeting launcher wraps the real deep link in `url` (`/_#/l/meetup-join/…`).
  if (/^\/dl\/launcher\/launcher\.html$/i.test(url.pathname) && url.searchParams.get('url')) {
    const inner = decodeFully(url.searchParams.get('url') as string).replace(/^\/?_#/, '');
    url = parseUrl(`https://${host}${inner.startsWith('/') ? '' : '/'}${inner}`);
  }
  return url;
}

const valid = (schema: { safeParse(value: unknown): { success: boolean } }, value: string | undefined): value is string => value !== undefined && schema.safeParse(value).success;

/** `context` of meeting and chat links: JSON, sometimes encoded once more. */
function contextOf(url: URL): Record<string, unknown> {
  const raw = url.searchParams.get('context');
  if (!raw) return {};
  for (const candidate of [raw, decodeFully(raw)]) {
    try {
      const parsed = JSON.parse(candidate) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // The next candidate, or no context.
    }
  }
  return {};
}

const param = (url: URL, name: string) => {
  const value = url.searchParams.get(name);
  return value === null || value.trim() === '' ? undefined : decodeFully(value).trim();
};

function tenantOf(url: URL, ids: Record<string, string>, notes: string[], value = param(url, 'tenantId')): void {
  if (value === undefined) return;
  if (valid(guidSchema, value)) ids.tenantId = value.toLowerCase();
  else notes.push('The tenantId in the link is not a GUID; it was ignored.');
}

/** The team, or a note on how to find it (`groupId` is often missing from links copied from a channel's header). */
function teamOf(url: URL, ids: Record<string, string>, notes: string[]): boolean {
  const groupId = param(url, 'groupId');
  if (valid(teamIdSchema, groupId)) {
    ids.teamId = groupId.toLowerCase();
    return true;
  }
  notes.push(
    groupId === undefined
      ? 'The link has no groupId, so it does not say which team the channel belongs to: call graph_teams_list, then graph_team_channels_list for each team until the channel id appears.'
      : 'The groupId in the link is not a team id (a GUID); find the team with graph_teams_list and graph_team_channels_list.',
  );
  return false;
}

export function parseTeamsLink(text: string): ResolvedTeamsLink {
  const url = teamsUrl(text);
  const segments = url.pathname.split('/').filter(Boolean).map(decodeFully);
  const notes: string[] = [];
  const ids: Record<string, string> = {};
  const [first, kind, id, second] = segments;
  if (first?.toLowerCase() === 'meet' && kind) {
    return { kind: 'meetingById', ids: {}, notes: ['This is a meeting join link by meeting number; it names no meeting chat. Ask for the meeting invitation\'s full join link (…/l/meetup-join/…), or find the meeting in the calendar with graph_events_list.'] };
  }
  if (first?.toLowerCase() !== 'l' || !kind) throw new TeamsLinkError('Not a Teams deep link: its path does not start with /l/ (message, channel, team, chat or meetup-join).');
  tenantOf(url, ids, notes);

  switch (kind.toLowerCase()) {
    case 'message': {
      const context = contextOf(url);
      const messageId = second;
      if (!valid(teamsMessageIdSchema, messageId)) throw new TeamsLinkError('The message link has no valid message id (digits) after the conversation id.');
      ids.messageId = messageId;
      const isChat = valid(chatIdSchema, id) && (!valid(channelIdSchema, id) || String(context.contextType ?? '').toLowerCase() === 'chat');
      if (isChat) {
        ids.chatId = id;
        return { kind: 'chatMessage', ids, next: { tool: 'graph_chat_messages_list', arguments: { chatId: id } }, notes };
      }
      if (!valid(channelIdSchema, id)) throw new TeamsLinkError('The message link names neither a channel (19:…@thread.tacv2) nor a chat (19:…@thread.v2, …@unq.gbl.spaces).');
      ids.channelId = id;
      const parent = param(url, 'parentMessageId');
      const thread = valid(teamsMessageIdSchema, parent) && parent !== '0' ? parent : messageId;
      ids.threadMessageId = thread;
      if (thread !== messageId) notes.push(`The message is a reply in the thread started by message ${thread}.`);
      const hasTeam = teamOf(url, ids, notes);
      return {
        kind: 'channelMessage',
        ids,
        ...(hasTeam && { next: { tool: 'graph_channel_message_replies_list', arguments: { teamId: ids.teamId as string, channelId: id, messageId: thread } } }),
        notes,
      };
    }
    case 'channel': {
      if (!valid(channelIdSchema, id)) throw new TeamsLinkError('The channel link has no valid channel id (19:…@thread.tacv2).');
      ids.channelId = id;
      const hasTeam = teamOf(url, ids, notes);
      return {
        kind: 'channel',
        ids,
        ...(second && { names: { channel: second } }),
        ...(hasTeam && { next: { tool: 'graph_channel_messages_list', arguments: { teamId: ids.teamId as string, channelId: id } } }),
        notes,
      };
    }
    case 'team': {
      if (valid(channelIdSchema, id)) ids.teamThreadId = id;
      const hasTeam = teamOf(url, ids, notes);
      const teamName = param(url, 'teamName') ?? param(url, 'name');
      return { kind: 'team', ids, ...(teamName && { names: { team: teamName } }), ...(hasTeam && { next: { tool: 'graph_team_channels_list', arguments: { teamId: ids.teamId as string } } }), notes };
    }
    case 'chat': {
      if ((id === '0' || id === undefined) && param(url, 'users')) {
        const users = (param(url, 'users') as string).split(',').map((user) => user.trim()).filter(Boolean).slice(0, 250);
        return { kind: 'newChat', ids, users, notes: ['This link starts a new chat with these users; it names no existing chat. Find an existing one with graph_chats_list.', ...notes] };
      }
      if (!valid(chatIdSchema, id)) throw new TeamsLinkError('The chat link has no valid chat id (19:…@thread.v2, 19:…@unq.gbl.spaces or 48:notes).');
      ids.chatId = id;
      return { kind: 'chat', ids, next: { tool: 'graph_chat_messages_list', arguments: { chatId: id } }, notes };
    }
    case 'meetup-join': {
      if (!valid(chatIdSchema, id)) throw new TeamsLinkError('The meeting link has no valid meeting chat id (19:meeting_…@thread.v2).');
      ids.chatId = id;
      const context = contextOf(url);
      const organizer = typeof context.Oid === 'string' ? context.Oid : undefined;
      if (valid(guidSchema, organizer)) ids.organizerId = organizer.toLowerCase();
      if (!ids.tenantId && typeof context.Tid === 'string') tenantOf(url, ids, notes, context.Tid);
      notes.push('A meeting\'s chat is read with graph_chat_messages_list once you are a participant of the meeting.');
      return { kind: 'meeting', ids, next: { tool: 'graph_chat_messages_list', arguments: { chatId: id } }, notes };
    }
    default:
      throw new TeamsLinkError(`A Teams link to "${kind.slice(0, 40)}" is not one this tool resolves (message, channel, team, chat and meetup-join links are).`);
  }
}

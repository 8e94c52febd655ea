/**
 * Teams endpoints: joined teams, teams, channels, channel messages and replies (list, get, delta,
 * send), members (list, add), team creation as an asynchronous operation and channel creation.
 *
 * Models the v1.0 pages user-list-joinedteams, team-get, channel-list, channel-post,
 * channel-list-messages, chatmessage-post(-replies), channel-list-messagereplies,
 * chatmessage-delta, team-list-members, team-post-members, team-post and teamsasyncoperation
 * (graph-protocol.md §2, §9):
 * - `joinedTeams` takes no OData options and fills only `id, displayName, description, isArchived,
 *   tenantId`; with delegated permissions it works only for the signed-in user (docs note).
 * - Channel messages: 20 per page by default, `$top` up to 50, `$expand=replies` (up to 1000),
 *   no other OData options (others are ignored: `unconfirmed` whether Graph ignores or refuses);
 *   root messages only, newest `lastModifiedDateTime` first (`unconfirmed` for channels; the
 *   documented order of chat messages); system events as `unknownFutureValue` unless
 *   `Prefer: include-unknown-enum-members`.
 * - Posting is delegated (ChannelMessage.Send); app-only needs Teamwork.Migrate.All and a team in
 *   migration mode, and otherwise answers 401 `Unauthorized` even with that role (as reported in
 *   microsoft-graph-docs issues #14676, #10876); without the role 403.
 * - App-only reads of channel messages are a protected API: 403 with Graph's "Invoked API requires
 *   Protected API access…" text until approved (`setProtectedApiApproval`).
 * - `POST /teams` answers 202 with `Location: /teams('{id}')/operations('{opId}')` and
 *   `Content-Location: /teams('{id}')`; the operation reports `notStarted`/`inProgress` on the
 *   first polls and then `succeeded` (or `failed`), and the team is visible only then. App-only
 *   creation must name an owner in `members`.
 * - `POST /teams/{id}/members` takes an `aadUserConversationMember` with `user@odata.bind` and
 *   `roles` (`[]` or `["owner"]`), answers 201; disabled or unknown users 404;
 *   TeamMember.ReadWriteNonOwnerRole.All cannot add owners.
 * - `POST /teams/{id}/channels`: `displayName` at most 50 characters; shared channels start with
 *   exactly one owner.
 */
import { GraphError, emptyResponse, jsonResponse } from './errors.ts';
import { evaluateFilter, parseFilter } from './filter.ts';
import { checkExpand, collection, contextUrl, decodeSkipToken, encodeSkipToken, pageSize, paginate, project, selectList, sortedBy } from './odata.ts';
import { held, requirePermission } from './permissions.ts';
import { chatMessageJson, newChatMessage, newId, type AsyncOperation, type Channel, type GraphTenant, type StoredChatMessage, type Team, type TeamMember } from './store.ts';
import { findUser } from './directory.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

export interface TeamsBehaviour {
  /** Statuses the first polls of a team-creation operation report before the outcome. */
  pendingPolls: string[];
  outcome: 'succeeded' | 'failed';
  /** Whether this app has Microsoft's approval for the protected Teams APIs (app-only message reads). */
  protectedApiApproved: boolean;
}

const MESSAGE_LIMITS = {
  defaultSize: 20,
  maxSize: 50,
  // unconfirmed: Graph's wording for a $top above 50.
  overMax: { error: (top: number) => new GraphError(400, 'BadRequest', `Invalid page size '${top}': $top must be between 1 and 50.`) },
};

const PROTECTED_API = 'Invoked API requires Protected API access in application-only context when not using Resource Specific Consent. Visit https://docs.microsoft.com/en-us/graph/teams-protected-apis for more details.';

export function includeUnknownEnums(call: GraphCall): boolean {
  return (call.headers.get('prefer') ?? '').toLowerCase().includes('include-unknown-enum-members');
}

function isMember(team: Team, userId: string | undefined): boolean {
  return userId !== undefined && team.members.some((member) => member.userId === userId);
}

function findTeam(call: GraphCall): Team {
  const team = call.tenant.team(call.params.team!);
  // unconfirmed: the wording of Graph's 404 for an unknown team.
  if (!team) throw new GraphError(404, 'NotFound', `No team found with Group Id ${call.params.team}`);
  return team;
}

/** A delegated caller reads and writes only teams (and private channels) they belong to. */
function accessibleTeam(call: GraphCall): Team {
  const team = findTeam(call);
  if (call.caller.kind === 'delegated' && !isMember(team, call.caller.userId)) {
    // unconfirmed: the wording of Graph's 403 for a non-member.
    throw new GraphError(403, 'Forbidden', 'The user is not a member of the team.');
  }
  return team;
}

function accessibleChannel(call: GraphCall, team: Team): Channel {
  const channel = team.channels.find((candidate) => candidate.id.toLowerCase() === call.params.channel!.toLowerCase());
  // unconfirmed: wording.
  if (!channel) throw new GraphError(404, 'NotFound', `Channel ${call.params.channel} was not found in the team.`);
  if (call.caller.kind === 'delegated' && channel.membershipType !== 'standard' && !channel.memberIds.includes(call.caller.userId ?? '')) {
    throw new GraphError(403, 'Forbidden', 'The user is not a member of the channel.');
  }
  return channel;
}

function protectedApiCheck(call: GraphCall, behaviour: TeamsBehaviour): void {
  if (call.caller.kind === 'application' && !behaviour.protectedApiApproved) throw new GraphError(403, 'Forbidden', PROTECTED_API);
}

export function teamJson(tenant: GraphTenant, team: Team): Record<string, unknown> {
  return {
    id: team.id,
    createdDateTime: team.createdDateTime,
    displayName: team.displayName,
    description: team.description,
    internalId: `19:${team.id.replace(/-/g, '')}@thread.tacv2`,
    classification: null,
    specialization: 'none',
    visibility: team.visibility,
    webUrl: `https://teams.microsoft.com/l/team/19%3a${team.id.replace(/-/g, '')}%40thread.tacv2/conversations?groupId=${team.id}&tenantId=${tenant.tenantId}`,
    isArchived: team.isArchived,
    tenantId: tenant.tenantId,
    isMembershipLimitedToOwners: false,
    summary: { ownersCount: team.members.filter((m) => m.roles.includes('owner')).length, membersCount: team.members.filter((m) => !m.roles.includes('owner')).length, guestsCount: 0 },
  };
}

/** What joinedTeams fills; everything else is null (graph-protocol.md §2). */
function joinedTeamJson(tenant: GraphTenant, team: Team): Record<string, unknown> {
  const full = teamJson(tenant, team);
  return Object.fromEntries(Object.keys(full).map((key) => [key, ['id', 'displayName', 'description', 'isArchived', 'tenantId'].includes(key) ? full[key] : null]));
}

function channelJson(tenant: GraphTenant, team: Team, channel: Channel): Record<string, unknown> {
  return {
    id: channel.id,
    createdDateTime: channel.createdDateTime,
    displayName: channel.displayName,
    description: channel.description,
    isFavoriteByDefault: null,
    email: '',
    tenantId: tenant.tenantId,
    webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(channel.id)}/${encodeURIComponent(channel.displayName)}?groupId=${team.id}&tenantId=${tenant.tenantId}`,
    membershipType: channel.membershipType,
    isArchived: team.isArchived,
  };
}

function memberJson(tenant: GraphTenant, member: TeamMember): Record<string, unknown> {
  const user = tenant.user(member.userId);
  return {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: member.id,
    roles: member.roles,
    displayName: user?.displayName ?? null,
    visibleHistoryStartDateTime: '0001-01-01T00:00:00Z',
    userId: member.userId,
    email: user?.mail ?? null,
    tenantId: tenant.tenantId,
  };
}

function joinedTeams(call: GraphCall): Response {
  requirePermission(call.caller, 'joinedTeams.list');
  const user = findUser(call.tenant, call.params.user!);
  if (call.caller.kind === 'delegated' && user.id !== call.caller.userId) {
    // The docs: with delegated permissions joinedTeams works only for the signed-in user (`unconfirmed`: the status Graph answers).
    throw new GraphError(403, 'Forbidden', 'With delegated permissions, joinedTeams can only be read for the signed-in user.');
  }
  const teams = sortedBy(call.tenant.teams.filter((team) => isMember(team, user.id)), (team) => team.displayName.toLowerCase(), false);
  return jsonResponse(200, collection(call, 'teams', { value: teams.map((team) => joinedTeamJson(call.tenant, team)) }, { '@odata.count': teams.length }), call.ids);
}

function listTeams(call: GraphCall): Response {
  requirePermission(call.caller, 'teams.list');
  // unconfirmed: the default page size of GET /teams.
  const size = pageSize(call, { defaultSize: 100, maxSize: 999, overMax: 'clamp' });
  let teams = sortedBy(call.tenant.teams, (team) => team.id, false);
  const filter = call.query.get('$filter');
  if (filter !== null) {
    const parsed = parseFilter(filter);
    teams = teams.filter((team) => evaluateFilter(parsed.root, teamJson(call.tenant, team)));
  }
  const page = paginate(call, teams, size);
  const select = selectList(call.query);
  const known = Object.keys(teamJson(call.tenant, call.tenant.teams[0]!));
  return jsonResponse(200, collection(call, 'teams', { ...page, value: page.value.map((team) => project(teamJson(call.tenant, team), select, { type: 'team', known, always: ['id'] })) }), call.ids);
}

function getTeam(call: GraphCall): Response {
  requirePermission(call.caller, 'teams.get');
  const team = accessibleTeam(call);
  return jsonResponse(200, { '@odata.context': contextUrl(call, 'teams/$entity'), ...teamJson(call.tenant, team) }, call.ids);
}

function listChannels(call: GraphCall): Response {
  requirePermission(call.caller, 'channels.list');
  const team = accessibleTeam(call);
  let channels = team.channels.filter((channel) => call.caller.kind === 'application' || channel.membershipType === 'standard' || channel.memberIds.includes(call.caller.userId ?? ''));
  const filter = call.query.get('$filter');
  if (filter !== null) {
    const parsed = parseFilter(filter);
    channels = channels.filter((channel) => evaluateFilter(parsed.root, channelJson(call.tenant, team, channel)));
  }
  const select = selectList(call.query);
  const known = ['id', 'createdDateTime', 'displayName', 'description', 'isFavoriteByDefault', 'email', 'tenantId', 'webUrl', 'membershipType', 'isArchived'];
  const value = channels.map((channel) => project(channelJson(call.tenant, team, channel), select, { type: 'channel', known }));
  return jsonResponse(200, collection(call, `teams('${team.id}')/channels`, { value }, { '@odata.count': value.length }), call.ids);
}

function getChannel(call: GraphCall): Response {
  requirePermission(call.caller, 'channels.list');
  const team = accessibleTeam(call);
  const channel = accessibleChannel(call, team);
  return jsonResponse(200, { '@odata.context': contextUrl(call, `teams('${team.id}')/channels/$entity`), ...channelJson(call.tenant, team, channel) }, call.ids);
}

function newestFirst(messages: StoredChatMessage[]): StoredChatMessage[] {
  return sortedBy(messages, (message) => message.lastModifiedDateTime, true);
}

function listChannelMessages(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'channelMessages.list');
    protectedApiCheck(call, behaviour);
    const team = accessibleTeam(call);
    const channel = accessibleChannel(call, team);
    const size = pageSize(call, MESSAGE_LIMITS);
    const expand = checkExpand(call.query, ['replies'], 'chatMessage');
    const page = paginate(call, newestFirst(channel.messages), size);
    const place = { teamId: team.id, channelId: channel.id };
    const options = { includeUnknownEnums: includeUnknownEnums(call) };
    const value = page.value.map((message) => {
      const json = chatMessageJson(call.tenant, message, place, options);
      if (!expand.includes('replies')) return json;
      const replies = newestFirst(message.replies).slice(0, 1000);
      return { ...json, 'replies@odata.context': contextUrl(call, `teams('${team.id}')/channels('${channel.id}')/messages('${message.id}')/replies`), replies: replies.map((r) => chatMessageJson(call.tenant, r, place, options)) };
    });
    return jsonResponse(200, collection(call, `teams('${team.id}')/channels('${encodeURIComponent(channel.id)}')/messages`, { ...page, value }, { '@odata.count': value.length }), call.ids);
  };
}

function findMessage(channel: Channel, id: string): StoredChatMessage {
  const message = channel.messages.find((candidate) => candidate.id === id);
  if (!message) throw new GraphError(404, 'NotFound', `Message ${id} was not found.`);
  return message;
}

function getChannelMessage(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'channelMessages.list');
    protectedApiCheck(call, behaviour);
    const team = accessibleTeam(call);
    const channel = accessibleChannel(call, team);
    const message = findMessage(channel, call.params.message!);
    const json = chatMessageJson(call.tenant, message, { teamId: team.id, channelId: channel.id }, { includeUnknownEnums: includeUnknownEnums(call) });
    return jsonResponse(200, { '@odata.context': contextUrl(call, `teams('${team.id}')/channels('${channel.id}')/messages/$entity`), ...json }, call.ids);
  };
}

function listReplies(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'channelMessages.list');
    protectedApiCheck(call, behaviour);
    const team = accessibleTeam(call);
    const channel = accessibleChannel(call, team);
    const parent = findMessage(channel, call.params.message!);
    const page = paginate(call, newestFirst(parent.replies), pageSize(call, MESSAGE_LIMITS));
    const place = { teamId: team.id, channelId: channel.id };
    const value = page.value.map((message) => chatMessageJson(call.tenant, message, place, { includeUnknownEnums: includeUnknownEnums(call) }));
    return jsonResponse(200, collection(call, `teams('${team.id}')/channels('${channel.id}')/messages('${parent.id}')/replies`, { ...page, value }, { '@odata.count': value.length }), call.ids);
  };
}

/**
 * `messages/delta`: root messages changed after the `$filter=lastModifiedDateTime gt …` or the
 * `$deltatoken`, oldest first, paged by `$skiptoken`, the last page with `@odata.deltaLink`.
 * `unconfirmed`: whether Graph's channel delta includes replies (not here) and its page size.
 */
function channelDelta(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'channelMessages.list');
    protectedApiCheck(call, behaviour);
    const team = accessibleTeam(call);
    const channel = accessibleChannel(call, team);
    let since = '';
    const deltaToken = call.query.get('$deltatoken');
    if (deltaToken !== null) {
      since = Buffer.from(deltaToken, 'base64url').toString('utf8');
      if (Number.isNaN(Date.parse(since))) throw new GraphError(400, 'BadRequest', 'The $deltatoken is not valid.');
    }
    const filter = call.query.get('$filter');
    if (filter !== null) {
      const match = /^\s*lastModifiedDateTime\s+gt\s+(\S+)\s*$/i.exec(filter);
      if (!match || Number.isNaN(Date.parse(match[1]!))) throw new GraphError(400, 'BadRequest', "messages/delta supports only $filter=lastModifiedDateTime gt {dateTime}.");
      since = new Date(Date.parse(match[1]!)).toISOString();
    }
    const changed = sortedBy(channel.messages.filter((message) => message.lastModifiedDateTime > since), (message) => message.lastModifiedDateTime, false);
    const size = pageSize(call, MESSAGE_LIMITS);
    const offset = decodeSkipToken(call);
    const value = changed.slice(offset, offset + size).map((message) => chatMessageJson(call.tenant, message, { teamId: team.id, channelId: channel.id }, { includeUnknownEnums: includeUnknownEnums(call) }));
    const base = `${call.root}${call.requestedPath}`;
    const links =
      offset + size < changed.length
        ? { '@odata.nextLink': `${base}?$skiptoken=${encodeSkipToken(offset + size, call)}${[...call.query.entries()].filter(([k]) => k !== '$skiptoken').map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('')}` }
        : { '@odata.deltaLink': `${base}?$deltatoken=${Buffer.from(changed.at(-1)?.lastModifiedDateTime ?? (since || new Date(call.now()).toISOString())).toString('base64url')}` };
    return jsonResponse(200, { '@odata.context': contextUrl(call, `Collection(chatMessage)`), ...links, value }, call.ids);
  };
}

export interface PostedMessageInput {
  body: { contentType: 'text' | 'html'; content: string };
  subject: string | null;
  importance: StoredChatMessage['importance'];
  mentions: StoredChatMessage['mentions'];
  attachments: StoredChatMessage['attachments'];
}

/** The fields of a posted chatMessage the emulator keeps; an empty body is refused (`unconfirmed` wording). */
export function postedMessage(body: unknown): PostedMessageInput {
  const input = (body ?? {}) as Record<string, unknown>;
  const content = (input.body as { content?: unknown; contentType?: unknown } | undefined) ?? {};
  if (typeof content.content !== 'string' || content.content.trim() === '') throw new GraphError(400, 'BadRequest', 'The message body must have content.');
  const contentType = String(content.contentType ?? 'text').toLowerCase();
  if (contentType !== 'text' && contentType !== 'html') throw new GraphError(400, 'BadRequest', `Invalid body contentType '${contentType}'.`);
  const mentions = Array.isArray(input.mentions)
    ? (input.mentions as Array<{ id?: unknown; mentionText?: unknown; mentioned?: { user?: { id?: unknown } } }>).map((mention) => ({ id: Number(mention.id), mentionText: String(mention.mentionText ?? ''), userId: String(mention.mentioned?.user?.id ?? '') }))
    : [];
  for (const mention of mentions) {
    if (contentType !== 'html' || !content.content.includes(`<at id="${mention.id}">`)) {
      // unconfirmed: Graph refuses mentions whose <at id> is not in the HTML body; the wording here is the emulator's.
      throw new GraphError(400, 'BadRequest', `Mention id ${mention.id} has no matching <at id="${mention.id}"> tag in the HTML body.`);
    }
  }
  const importance = String(input.importance ?? 'normal') as StoredChatMessage['importance'];
  return { body: { contentType, content: content.content }, subject: typeof input.subject === 'string' ? input.subject : null, importance, mentions, attachments: Array.isArray(input.attachments) ? (input.attachments as StoredChatMessage['attachments']) : [] };
}

/** App-only posting: migration only (see the module comment). */
export function appOnlyPostCheck(call: GraphCall, migrationMode: boolean): void {
  if (call.caller.kind !== 'application') return;
  if (!migrationMode) throw new GraphError(401, 'Unauthorized', 'Unauthorized');
}

function sendChannelMessage(call: GraphCall): Response {
  requirePermission(call.caller, 'channelMessages.send');
  const team = accessibleTeam(call);
  const channel = accessibleChannel(call, team);
  appOnlyPostCheck(call, team.migrationMode);
  if (team.isArchived) throw new GraphError(403, 'Forbidden', 'The team is archived and read-only.');
  const input = postedMessage(call.body);
  const parent = call.params.message ? findMessage(channel, call.params.message) : undefined;
  const at = new Date(call.now()).toISOString();
  const message = newChatMessage(call.tenant.newMessageId(call.now()), at, call.caller.userId ?? null, input.body, { ...input, replyToId: parent?.id ?? null });
  if (parent) parent.replies.push(message);
  else channel.messages.push(message);
  const json = chatMessageJson(call.tenant, message, { teamId: team.id, channelId: channel.id }, { includeUnknownEnums: false });
  return jsonResponse(201, { '@odata.context': contextUrl(call, `teams('${team.id}')/channels('${channel.id}')/messages/$entity`), ...json }, call.ids);
}

function listMembers(call: GraphCall): Response {
  requirePermission(call.caller, 'members.list');
  const team = accessibleTeam(call);
  const value = team.members.map((member) => memberJson(call.tenant, member));
  return jsonResponse(200, collection(call, `teams('${team.id}')/members`, { value }, { '@odata.count': value.length }), call.ids);
}

/** `https://graph.microsoft.com/v1.0/users('<id>')` (or the emulator's host): the id or UPN inside. */
export function boundUser(call: GraphCall, bind: unknown): string {
  const match = typeof bind === 'string' ? /users(?:\('([^']+)'\)|\/([^/?]+))\s*$/i.exec(bind) : null;
  if (!match) throw new GraphError(400, 'BadRequest', "'user@odata.bind' must reference a user as https://graph.microsoft.com/v1.0/users('{id}').");
  return decodeURIComponent(match[1] ?? match[2]!);
}

function addMember(call: GraphCall): Response {
  requirePermission(call.caller, 'members.add');
  const team = accessibleTeam(call);
  const input = (call.body ?? {}) as Record<string, unknown>;
  if (input['@odata.type'] !== '#microsoft.graph.aadUserConversationMember') throw new GraphError(400, 'BadRequest', "The member must be of type '#microsoft.graph.aadUserConversationMember'.");
  const roles = Array.isArray(input.roles) ? (input.roles as unknown[]).map((role) => String(role).toLowerCase()) : [];
  if (roles.some((role) => role !== 'owner' && role !== 'guest')) throw new GraphError(400, 'BadRequest', `Invalid roles: ${roles.join(', ')}.`);
  const accepted = call.caller.kind === 'delegated' ? ['TeamMember.ReadWrite.All'] : ['TeamMember.ReadWrite.All', 'TeamMember.ReadWrite.Group'];
  if (roles.includes('owner') && held(call.caller, accepted).length === 0) {
    throw new GraphError(403, 'Forbidden', `Missing ${call.caller.kind === 'delegated' ? 'scope' : 'role'} permissions on the request. Adding an owner requires one of '${accepted.join(', ')}'.`);
  }
  if (call.caller.kind === 'delegated' && !team.members.some((member) => member.userId === call.caller.userId && member.roles.includes('owner'))) {
    // unconfirmed: Teams lets only owners add members; the wording here is the emulator's.
    throw new GraphError(403, 'Forbidden', 'Only team owners can add members.');
  }
  const key = boundUser(call, input['user@odata.bind']);
  const user = call.tenant.user(key);
  if (!user || !user.accountEnabled) throw new GraphError(404, 'NotFound', `User '${key}' was not found or is disabled.`);
  // unconfirmed: what Graph answers for a user who is already a member.
  if (team.members.some((member) => member.userId === user.id)) throw new GraphError(409, 'Conflict', `User '${user.id}' is already a member of the team.`);
  const member: TeamMember = { id: `MCMj${newId().replace(/-/g, '').slice(0, 20)}`, userId: user.id, roles };
  team.members.push(member);
  return jsonResponse(201, { '@odata.context': contextUrl(call, `teams('${team.id}')/members/$entity`), ...memberJson(call.tenant, member) }, call.ids);
}

function createChannel(call: GraphCall): Response {
  requirePermission(call.caller, 'channels.create');
  const team = accessibleTeam(call);
  const input = (call.body ?? {}) as Record<string, unknown>;
  const displayName = typeof input.displayName === 'string' ? input.displayName.trim() : '';
  if (displayName === '') throw new GraphError(400, 'BadRequest', 'displayName is required.');
  if (displayName.length > 50) throw new GraphError(400, 'BadRequest', 'Channel displayName cannot be longer than 50 characters.');
  // unconfirmed: characters Teams refuses in channel names and the wording of the refusals.
  if (/[~#%&*{}+/\\:<>?|'"]/.test(displayName) || displayName.startsWith('_') || displayName.endsWith('.')) throw new GraphError(400, 'BadRequest', 'Channel displayName contains characters that are not allowed.');
  if (team.channels.some((channel) => channel.displayName.toLowerCase() === displayName.toLowerCase())) throw new GraphError(409, 'NameAlreadyExists', `Channel name already existed, please use other name.`);
  const membershipType = String(input.membershipType ?? 'standard') as Channel['membershipType'];
  if (!['standard', 'private', 'shared'].includes(membershipType)) throw new GraphError(400, 'BadRequest', `Invalid membershipType '${membershipType}'.`);
  const members = Array.isArray(input.members) ? (input.members as Array<Record<string, unknown>>) : [];
  const owners = members.filter((member) => Array.isArray(member.roles) && (member.roles as unknown[]).includes('owner'));
  if (membershipType === 'shared' && owners.length > 1) throw new GraphError(400, 'BadRequest', 'A shared channel can be created with exactly one owner.');
  if (membershipType !== 'standard' && call.caller.kind === 'application' && owners.length === 0) throw new GraphError(400, 'BadRequest', 'An owner must be specified in members when creating a private or shared channel with application permissions.');
  const memberIds = membershipType === 'standard' ? [] : [...new Set([...(call.caller.userId ? [call.caller.userId] : []), ...members.map((member) => findUser(call.tenant, boundUser(call, member['user@odata.bind'])).id)])];
  const channel: Channel = { id: `19:${newId().replace(/-/g, '')}@thread.tacv2`, displayName, description: typeof input.description === 'string' ? input.description : null, membershipType, createdDateTime: new Date(call.now()).toISOString(), memberIds, messages: [] };
  team.channels.push(channel);
  return jsonResponse(201, { '@odata.context': contextUrl(call, `teams('${team.id}')/channels/$entity`), ...channelJson(call.tenant, team, channel) }, call.ids);
}

function createTeam(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'teams.create');
    const input = (call.body ?? {}) as Record<string, unknown>;
    const template = input['template@odata.bind'];
    if (typeof template !== 'string' || !/teamsTemplates\('[^']+'\)$/.test(template)) throw new GraphError(400, 'BadRequest', "'template@odata.bind' is required, e.g. https://graph.microsoft.com/v1.0/teamsTemplates('standard').");
    const displayName = typeof input.displayName === 'string' ? input.displayName.trim() : '';
    if (displayName === '') throw new GraphError(400, 'BadRequest', 'displayName is required.');
    const requested = Array.isArray(input.members) ? (input.members as Array<Record<string, unknown>>) : [];
    const members: TeamMember[] = requested.map((member) => {
      const user = call.tenant.user(boundUser(call, member['user@odata.bind']));
      if (!user) throw new GraphError(400, 'BadRequest', `User ${String(member['user@odata.bind'])} was not found.`);
      const roles = Array.isArray(member.roles) ? (member.roles as unknown[]).map(String) : [];
      return { id: `MCMj${newId().replace(/-/g, '').slice(0, 20)}`, userId: user.id, roles };
    });
    if (call.caller.kind === 'application' && !members.some((member) => member.roles.includes('owner'))) {
      // Documented rule; the wording is `unconfirmed`.
      throw new GraphError(400, 'BadRequest', 'A team created with application permissions must specify an owner in members.');
    }
    if (call.caller.userId && !members.some((member) => member.userId === call.caller.userId)) members.unshift({ id: `MCMj${newId().replace(/-/g, '').slice(0, 20)}`, userId: call.caller.userId, roles: ['owner'] });
    const now = new Date(call.now()).toISOString();
    const team: Team = {
      id: newId(), displayName, description: typeof input.description === 'string' ? input.description : null,
      visibility: input.visibility === 'public' ? 'public' : 'private', isArchived: false, createdDateTime: now, members, migrationMode: false,
      channels: [{ id: `19:${newId().replace(/-/g, '')}@thread.tacv2`, displayName: 'General', description: null, membershipType: 'standard', createdDateTime: now, memberIds: [], messages: [] }],
    };
    const operation: AsyncOperation = { id: newId(), teamId: team.id, operationType: 'createTeam', createdDateTime: now, lastActionDateTime: now, pending: [...behaviour.pendingPolls], final: behaviour.outcome, status: behaviour.pendingPolls[0] ?? behaviour.outcome, attemptsCount: 1, error: null, team };
    call.tenant.operations.push(operation);
    return emptyResponse(202, call.ids, { Location: `/teams('${team.id}')/operations('${operation.id}')`, 'Content-Location': `/teams('${team.id}')`, 'Content-Length': '0' });
  };
}

function getOperation(call: GraphCall): Response {
  requirePermission(call.caller, 'teams.operation.get');
  const operation = call.tenant.operations.find((candidate) => candidate.id === call.params.operation && candidate.teamId.toLowerCase() === call.params.team!.toLowerCase());
  if (!operation) throw new GraphError(404, 'NotFound', `Operation ${call.params.operation} was not found.`);
  const next = operation.pending.shift();
  if (next !== undefined) {
    operation.status = next;
  } else if (operation.status !== operation.final) {
    operation.status = operation.final;
    if (operation.final === 'succeeded') call.tenant.teams.push(operation.team);
    else operation.error = { code: 'CreateTeamFailed', message: 'The team could not be provisioned.' };
  }
  operation.lastActionDateTime = new Date(call.now()).toISOString();
  return jsonResponse(200, {
    '@odata.context': contextUrl(call, `teams('${operation.teamId}')/operations/$entity`),
    id: operation.id,
    operationType: operation.operationType,
    createdDateTime: operation.createdDateTime,
    status: operation.status,
    lastActionDateTime: operation.lastActionDateTime,
    attemptsCount: operation.attemptsCount,
    targetResourceId: operation.teamId,
    targetResourceLocation: `/teams('${operation.teamId}')`,
    error: operation.error,
  }, call.ids);
}

export function addTeamsRoutes(router: Router, behaviour: TeamsBehaviour): void {
  router
    .add('GET', '/users/{user}/joinedTeams', joinedTeams)
    .add('GET', '/teams', listTeams)
    .add('POST', '/teams', createTeam(behaviour))
    .add('GET', '/teams/{team}', getTeam)
    .add('GET', '/teams/{team}/operations/{operation}', getOperation)
    .add('GET', '/teams/{team}/members', listMembers)
    .add('POST', '/teams/{team}/members', addMember)
    .add('GET', '/teams/{team}/channels', listChannels)
    .add('POST', '/teams/{team}/channels', createChannel)
    .add('GET', '/teams/{team}/channels/{channel}', getChannel)
    .add('GET', '/teams/{team}/channels/{channel}/messages', listChannelMessages(behaviour))
    .add('POST', '/teams/{team}/channels/{channel}/messages', sendChannelMessage)
    .add('GET', '/teams/{team}/channels/{channel}/messages/delta', channelDelta(behaviour))
    .add('GET', '/teams/{team}/channels/{channel}/messages/{message}', getChannelMessage(behaviour))
    .add('GET', '/teams/{team}/channels/{channel}/messages/{message}/replies', listReplies(behaviour))
    .add('POST', '/teams/{team}/channels/{channel}/messages/{message}/replies', sendChannelMessage);
}

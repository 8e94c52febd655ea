/**
 * Chat endpoints: `/users/{id}/chats` (and `/me/chats`) with `$expand=lastMessagePreview` and
 * `members`, one chat, chat messages (list, get, send) under `/chats/{id}` and
 * `/users/{id}/chats/{id}`.
 *
 * Models the v1.0 pages chat-list, chat-get, chat-list-messages and chat-post-messages
 * (graph-protocol.md §2, §9): chats carry `viewpoint.lastMessageReadDateTime` (the caller's read
 * marker; populated only in delegated context per the chat resource page); list chats pages 20
 * by default and at most 50 per page (`unconfirmed`: the limits of list chats), newest
 * `lastUpdatedDateTime` first (`unconfirmed`). Chat messages: `$top` at most 50; `$orderby` only
 * `lastModifiedDateTime` (default) or `createdDateTime`, descending only; `$filter` on
 * `lastModifiedDateTime` (gt/lt) or `createdDateTime` (lt) honoured only when `$orderby` uses the
 * same property, otherwise silently ignored. Reads need Chat.Read (delegated, member of the chat)
 * or Chat.Read.All (app-only, a protected API); posting is delegated (ChatMessage.Send), app-only
 * only for migration.
 */
import { GraphError, jsonResponse } from './errors.ts';
import { parseFilter, topLevelComparisons } from './filter.ts';
import { checkExpand, collection, contextUrl, orderByList, pageSize, paginate, sortedBy } from './odata.ts';
import { requirePermission } from './permissions.ts';
import { chatMessageJson, newChatMessage, type Chat, type GraphTenant, type StoredChatMessage } from './store.ts';
import { findUser } from './directory.ts';
import { appOnlyPostCheck, includeUnknownEnums, postedMessage, type TeamsBehaviour } from './teams.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

const PROTECTED_API = 'Invoked API requires Protected API access in application-only context when not using Resource Specific Consent. Visit https://docs.microsoft.com/en-us/graph/teams-protected-apis for more details.';

function lastMessage(chat: Chat): StoredChatMessage | undefined {
  return sortedBy(chat.messages, (message) => message.createdDateTime, true)[0];
}

function chatJson(call: GraphCall, chat: Chat, expand: string[]): Record<string, unknown> {
  const reader = call.caller.kind === 'delegated' ? call.caller.userId : undefined;
  const json: Record<string, unknown> = {
    id: chat.id,
    topic: chat.topic,
    createdDateTime: chat.createdDateTime,
    lastUpdatedDateTime: chat.lastUpdatedDateTime,
    chatType: chat.chatType,
    webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(chat.id)}/0?tenantId=${call.tenant.tenantId}`,
    tenantId: call.tenant.tenantId,
    onlineMeetingInfo: null,
    viewpoint: reader ? { isHidden: false, lastMessageReadDateTime: chat.readMarkers[reader] ?? null } : null,
  };
  if (expand.includes('lastMessagePreview')) {
    const last = lastMessage(chat);
    const type = last?.messageType === 'systemEventMessage' && !includeUnknownEnums(call) ? 'unknownFutureValue' : last?.messageType;
    json['lastMessagePreview@odata.context'] = contextUrl(call, `chats('${chat.id}')/lastMessagePreview/$entity`);
    json.lastMessagePreview = last
      ? { id: last.id, createdDateTime: last.createdDateTime, isDeleted: false, messageType: type, eventDetail: last.eventDetail, body: last.body, from: chatMessageJson(call.tenant, last, { chatId: chat.id }, { includeUnknownEnums: true }).from }
      : null;
  }
  if (expand.includes('members')) {
    json.members = chat.members.map((member) => {
      const user = call.tenant.user(member.userId);
      return { '@odata.type': '#microsoft.graph.aadUserConversationMember', id: `MCMj${member.userId.replace(/-/g, '').slice(0, 20)}`, roles: member.roles, displayName: user?.displayName ?? null, userId: member.userId, email: user?.mail ?? null, tenantId: call.tenant.tenantId, visibleHistoryStartDateTime: '0001-01-01T00:00:00Z' };
    });
  }
  return json;
}

/** A delegated caller sees only their own chats; app-only callers any user's. */
function chatOwner(call: GraphCall): string {
  const user = findUser(call.tenant, call.params.user!);
  if (call.caller.kind === 'delegated' && user.id !== call.caller.userId) {
    // unconfirmed: the status and wording for a delegated read of another user's chats.
    throw new GraphError(403, 'Forbidden', "A delegated request can only read the signed-in user's chats.");
  }
  return user.id;
}

function listChats() {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'chats.list');
    const owner = chatOwner(call);
    const expand = checkExpand(call.query, ['lastMessagePreview', 'members'], 'chat');
    const size = pageSize(call, { defaultSize: 20, maxSize: 50, overMax: { error: (top) => new GraphError(400, 'BadRequest', `Invalid page size '${top}': $top must be between 1 and 50.`) } });
    const order = orderByList(call.query)[0];
    const chats = call.tenant.chats.filter((chat) => chat.members.some((member) => member.userId === owner));
    const sorted =
      order?.property.toLowerCase() === 'lastmessagepreview/createddatetime'
        ? sortedBy(chats, (chat) => lastMessage(chat)?.createdDateTime ?? '', order.descending)
        : sortedBy(chats, (chat) => chat.lastUpdatedDateTime, true);
    const page = paginate(call, sorted, size);
    return jsonResponse(200, collection(call, 'chats', { ...page, value: page.value.map((chat) => chatJson(call, chat, expand)) }, { '@odata.count': page.value.length }), call.ids);
  };
}

/** The chat, if the caller may read it: a delegated caller must be a member. */
function accessibleChat(call: GraphCall, behaviour: TeamsBehaviour, requireProtected: boolean): Chat {
  const chat = call.tenant.chat(call.params.chat!);
  // unconfirmed: wording of the 404.
  if (!chat) throw new GraphError(404, 'NotFound', `Chat ${call.params.chat} was not found.`);
  if (call.params.user) {
    const owner = chatOwner(call);
    if (!chat.members.some((member) => member.userId === owner)) throw new GraphError(404, 'NotFound', `Chat ${chat.id} was not found for the user.`);
  }
  if (call.caller.kind === 'delegated' && !chat.members.some((member) => member.userId === call.caller.userId)) {
    throw new GraphError(403, 'Forbidden', 'The user is not a member of the chat.');
  }
  if (requireProtected && call.caller.kind === 'application' && !behaviour.protectedApiApproved) throw new GraphError(403, 'Forbidden', PROTECTED_API);
  return chat;
}

function getChat(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'chats.list');
    const chat = accessibleChat(call, behaviour, false);
    const expand = checkExpand(call.query, ['lastMessagePreview', 'members'], 'chat');
    return jsonResponse(200, { '@odata.context': contextUrl(call, 'chats/$entity'), ...chatJson(call, chat, expand) }, call.ids);
  };
}

/** The `$orderby`/`$filter` pairing rule of chat messages (graph-protocol.md §2). */
function orderedChatMessages(call: GraphCall, messages: StoredChatMessage[]): StoredChatMessage[] {
  const order = orderByList(call.query);
  const first = order[0];
  if (order.length > 1 || (first && (!first.descending || !['lastmodifieddatetime', 'createddatetime'].includes(first.property.toLowerCase())))) {
    throw new GraphError(400, 'BadRequest', "$orderby supports only 'lastModifiedDateTime desc' or 'createdDateTime desc'.");
  }
  const property = first?.property.toLowerCase() === 'createddatetime' ? 'createdDateTime' : 'lastModifiedDateTime';
  let result = messages;
  const filterText = call.query.get('$filter');
  if (filterText !== null && first) {
    const clauses = topLevelComparisons(parseFilter(filterText).root).filter((clause) => clause.property.toLowerCase() === property.toLowerCase());
    const allowed = property === 'createdDateTime' ? ['lt'] : ['gt', 'lt'];
    for (const clause of clauses.filter((candidate) => allowed.includes(candidate.op))) {
      const bound = Date.parse(String(clause.value));
      result = result.filter((message) => (clause.op === 'gt' ? Date.parse(message[property]) > bound : Date.parse(message[property]) < bound));
    }
  }
  return sortedBy(result, (message) => message[property], true);
}

function listChatMessages(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'chatMessages.list');
    const chat = accessibleChat(call, behaviour, true);
    const size = pageSize(call, { defaultSize: 20, maxSize: 50, overMax: { error: (top) => new GraphError(400, 'BadRequest', `Invalid page size '${top}': $top must be between 1 and 50.`) } });
    const page = paginate(call, orderedChatMessages(call, chat.messages), size);
    const value = page.value.map((message) => chatMessageJson(call.tenant, message, { chatId: chat.id }, { includeUnknownEnums: includeUnknownEnums(call) }));
    return jsonResponse(200, collection(call, `chats('${chat.id}')/messages`, { ...page, value }, { '@odata.count': value.length }), call.ids);
  };
}

function getChatMessage(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'chatMessages.list');
    const chat = accessibleChat(call, behaviour, true);
    const message = chat.messages.find((candidate) => candidate.id === call.params.message);
    if (!message) throw new GraphError(404, 'NotFound', `Message ${call.params.message} was not found.`);
    return jsonResponse(200, { '@odata.context': contextUrl(call, `chats('${chat.id}')/messages/$entity`), ...chatMessageJson(call.tenant, message, { chatId: chat.id }, { includeUnknownEnums: includeUnknownEnums(call) }) }, call.ids);
  };
}

function sendChatMessage(behaviour: TeamsBehaviour) {
  return (call: GraphCall): Response => {
    requirePermission(call.caller, 'chatMessages.send');
    const chat = accessibleChat(call, behaviour, false);
    appOnlyPostCheck(call, false);
    const input = postedMessage(call.body);
    const at = new Date(call.now()).toISOString();
    const message = newChatMessage(call.tenant.newMessageId(call.now()), at, call.caller.userId ?? null, input.body, input);
    chat.messages.push(message);
    chat.lastUpdatedDateTime = at;
    // Sending marks the chat read for the sender.
    if (call.caller.userId) chat.readMarkers[call.caller.userId] = at;
    return jsonResponse(201, { '@odata.context': contextUrl(call, `chats('${chat.id}')/messages/$entity`), ...chatMessageJson(call.tenant, message, { chatId: chat.id }, { includeUnknownEnums: false }) }, call.ids);
  };
}

export function chatsVisibleTo(tenant: GraphTenant, userId: string): Chat[] {
  return tenant.chats.filter((chat) => chat.members.some((member) => member.userId === userId));
}

export function addChatRoutes(router: Router, behaviour: TeamsBehaviour): void {
  router
    .add('GET', '/users/{user}/chats', listChats())
    .add('GET', '/users/{user}/chats/{chat}', getChat(behaviour))
    .add('GET', '/users/{user}/chats/{chat}/messages', listChatMessages(behaviour))
    .add('POST', '/users/{user}/chats/{chat}/messages', sendChatMessage(behaviour))
    .add('GET', '/users/{user}/chats/{chat}/messages/{message}', getChatMessage(behaviour))
    .add('GET', '/chats/{chat}', getChat(behaviour))
    .add('GET', '/chats/{chat}/messages', listChatMessages(behaviour))
    .add('POST', '/chats/{chat}/messages', sendChatMessage(behaviour))
    .add('GET', '/chats/{chat}/messages/{message}', getChatMessage(behaviour));
}

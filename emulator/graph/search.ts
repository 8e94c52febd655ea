/**
 * Microsoft Search: `POST /search/query` over chat and channel messages, mail, events and files.
 *
 * Models https://learn.microsoft.com/graph/api/resources/search-api-overview and search-query
 * (graph-protocol.md §10): one `searchRequest` per call; `entityTypes` of one kind (the
 * SharePoint types `driveItem`/`listItem`/`site`/`list`/`drive` may be combined; other
 * combinations are refused: `unconfirmed` which pairs Graph allows); `query.queryString` in KQL
 * (terms, quoted phrases, `AND`/`OR`/`NOT`, property restrictions such as `from:`,
 * `IsMentioned:true`, `sent>=2026-02-01`, `hasAttachment:true`, `subject:`, `filename:`,
 * `filetype:`); `from`/`size` paging, size 25 by default and at most 1000 (25 for `message` and
 * `event`: larger sizes are capped, `unconfirmed` whether Graph refuses them). The answer is
 * `{"value":[{"searchTerms","hitsContainers":[{"hits":[{"hitId","rank","summary","resource"}],
 * "total","moreResultsAvailable"}]}]}`; summaries mark matches with `<c0>…</c0>` and cuts with
 * `<ddd/>`. Message, chat and event search run only for the signed-in user (403 for app-only);
 * app-only `driveItem` search needs `region` (400 without). Results are the user's own: chats and
 * channels they belong to, their mailbox, their calendar, drives they can read. Ranking here is
 * newest first (`unconfirmed`: Graph ranks by relevance).
 */
import { GraphError, jsonResponse } from './errors.ts';
import { contextUrl } from './odata.ts';
import { held, SEARCH_PERMISSIONS } from './permissions.ts';
import { textOf, type Drive, type StoredChatMessage } from './store.ts';
import { driveItemJson } from './files.ts';
import type { GraphCall } from './context.ts';
import type { Router } from './router.ts';

const SHAREPOINT_TYPES = ['driveItem', 'listItem', 'site', 'list', 'drive'];
const SUPPORTED = ['chatMessage', 'message', 'event', 'driveItem'];

interface Clause {
  negate: boolean;
  property?: string;
  op: ':' | '>=' | '<=' | '>' | '<' | '=';
  value: string;
}

/** KQL: groups joined by OR, clauses within a group joined by AND. */
function parseKql(query: string): Clause[][] {
  const tokens = [...query.matchAll(/(-)?(?:(\w+)(>=|<=|:|>|<|=))?("([^"]*)"|[^\s()]+)/g)];
  const groups: Clause[][] = [[]];
  let negateNext = false;
  for (const token of tokens) {
    const [, minus, property, op, rawValue = '', quoted] = token;
    if (!property && rawValue === 'OR') {
      groups.push([]);
      continue;
    }
    if (!property && rawValue === 'AND') continue;
    if (!property && rawValue === 'NOT') {
      negateNext = true;
      continue;
    }
    groups.at(-1)!.push({ negate: Boolean(minus) || negateNext, property: property?.toLowerCase(), op: (op ?? ':') as Clause['op'], value: (quoted ?? rawValue).toLowerCase() });
    negateNext = false;
  }
  return groups.filter((group) => group.length > 0);
}

interface Searchable {
  text: string;
  properties: Record<string, string | number | boolean>;
  date: string;
}

function compareClause(clause: Clause, actual: string | number | boolean | undefined): boolean {
  if (actual === undefined) return false;
  if (clause.op === ':' || clause.op === '=') return String(actual).toLowerCase().includes(clause.value);
  const a = typeof actual === 'string' && !Number.isNaN(Date.parse(actual)) ? Date.parse(actual) : Number(actual);
  const b = Number.isNaN(Date.parse(clause.value)) ? Number(clause.value) : Date.parse(clause.value);
  return clause.op === '>=' ? a >= b : clause.op === '<=' ? a <= b : clause.op === '>' ? a > b : a < b;
}

function matches(groups: Clause[][], item: Searchable): boolean {
  return groups.some((group) =>
    group.every((clause) => {
      const hit = clause.property ? compareClause(clause, item.properties[clause.property]) : item.text.toLowerCase().includes(clause.value);
      return clause.negate ? !hit : hit;
    }),
  );
}

function summaryOf(text: string, groups: Clause[][]): string {
  const terms = groups.flat().filter((clause) => !clause.property && !clause.negate).map((clause) => clause.value);
  const lower = text.toLowerCase();
  const at = terms.map((term) => lower.indexOf(term)).filter((index) => index >= 0).sort((a, b) => a - b)[0] ?? 0;
  const start = Math.max(0, at - 60);
  let snippet = text.slice(start, start + 200);
  for (const term of terms) snippet = snippet.replace(new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), (found) => `<c0>${found}</c0>`);
  return `${start > 0 ? '<ddd/>' : ''}${snippet}${start + 200 < text.length ? '<ddd/>' : ''}`;
}

interface Candidate {
  id: string;
  searchable: Searchable;
  resource: () => Record<string, unknown>;
}

function emailOf(call: GraphCall, userId: string | null): { name: string; address: string } | null {
  const user = userId ? call.tenant.user(userId) : undefined;
  return user ? { name: user.displayName, address: user.mail ?? user.userPrincipalName } : null;
}

function chatMessageCandidates(call: GraphCall, userId: string): Candidate[] {
  const out: Candidate[] = [];
  const add = (message: StoredChatMessage, place: { teamId?: string; channelId?: string; chatId?: string }) => {
    if (message.messageType !== 'message') return;
    const from = emailOf(call, message.fromUserId);
    const text = textOf(message.body.content);
    out.push({
      id: message.id,
      searchable: {
        text: `${message.subject ?? ''} ${text}`,
        date: message.createdDateTime,
        properties: {
          from: `${from?.name ?? ''} ${from?.address ?? ''}`,
          ismentioned: message.mentions.some((mention) => mention.userId === userId),
          sent: message.createdDateTime,
          hasattachment: message.attachments.length > 0,
          subject: message.subject ?? '',
        },
      },
      resource: () => ({
        '@odata.type': '#microsoft.graph.chatMessage',
        id: message.id,
        createdDateTime: message.createdDateTime,
        lastModifiedDateTime: message.lastModifiedDateTime,
        subject: message.subject,
        importance: message.importance,
        webLink: `https://teams.microsoft.com/l/message/${encodeURIComponent(place.chatId ?? place.channelId ?? '')}/${message.id}`,
        from: from ? { emailAddress: from } : null,
        etag: String(Date.parse(message.lastModifiedDateTime)),
        ...(place.chatId ? { chatId: place.chatId } : { channelIdentity: { teamId: place.teamId, channelId: place.channelId } }),
        replyToId: message.replyToId,
      }),
    });
  };
  for (const chat of call.tenant.chats.filter((candidate) => candidate.members.some((member) => member.userId === userId))) {
    for (const message of chat.messages) add(message, { chatId: chat.id });
  }
  for (const team of call.tenant.teams.filter((candidate) => candidate.members.some((member) => member.userId === userId))) {
    for (const channel of team.channels.filter((candidate) => candidate.membershipType === 'standard' || candidate.memberIds.includes(userId))) {
      for (const message of channel.messages) {
        add(message, { teamId: team.id, channelId: channel.id });
        for (const reply of message.replies) add(reply, { teamId: team.id, channelId: channel.id });
      }
    }
  }
  return out;
}

function mailCandidates(call: GraphCall, userId: string): Candidate[] {
  return call.tenant.mailbox(userId).messages.map((message) => ({
    id: message.id,
    searchable: {
      text: `${message.subject} ${textOf(message.body.content)}`,
      date: message.receivedDateTime,
      properties: {
        from: `${message.from.name} ${message.from.address}`,
        to: message.toRecipients.map((r) => `${r.name} ${r.address}`).join(' '),
        subject: message.subject,
        received: message.receivedDateTime,
        sent: message.sentDateTime,
        hasattachment: message.hasAttachments,
        isread: message.isRead,
      },
    },
    resource: () => ({
      '@odata.type': '#microsoft.graph.message',
      id: message.id,
      createdDateTime: message.createdDateTime,
      lastModifiedDateTime: message.lastModifiedDateTime,
      receivedDateTime: message.receivedDateTime,
      sentDateTime: message.sentDateTime,
      hasAttachments: message.hasAttachments,
      subject: message.subject,
      bodyPreview: textOf(message.body.content).slice(0, 255),
      importance: message.importance,
      parentFolderId: message.parentFolderId,
      conversationId: message.conversationId,
      isRead: message.isRead,
      isDraft: message.isDraft,
      webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(message.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
      sender: { emailAddress: message.from },
      from: { emailAddress: message.from },
      toRecipients: message.toRecipients.map((r) => ({ emailAddress: r })),
    }),
  }));
}

function eventCandidates(call: GraphCall, userId: string): Candidate[] {
  return call.tenant.calendar(userId).map((event) => ({
    id: event.id,
    searchable: { text: `${event.subject} ${textOf(event.body.content)} ${event.location ?? ''}`, date: event.start, properties: { subject: event.subject, organizer: `${event.organizer.name} ${event.organizer.address}`, start: event.start } },
    resource: () => ({
      '@odata.type': '#microsoft.graph.event',
      id: event.id,
      subject: event.subject,
      bodyPreview: textOf(event.body.content).slice(0, 255),
      start: { dateTime: event.start.replace('Z', ''), timeZone: 'UTC' },
      end: { dateTime: event.end.replace('Z', ''), timeZone: 'UTC' },
      organizer: { emailAddress: event.organizer },
      isAllDay: event.isAllDay,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(event.id)}&exvsurl=1&path=/calendar/item`,
    }),
  }));
}

const TEXT_TYPES = /^text\/|json|xml|csv|markdown/;

function driveCandidates(call: GraphCall, userId: string | undefined): Candidate[] {
  const readable = (drive: Drive) => userId === undefined || drive.ownerUserId === userId || (drive.ownerTeamId !== undefined && (call.tenant.team(drive.ownerTeamId)?.members.some((member) => member.userId === userId) ?? false));
  return call.tenant.drives.filter(readable).flatMap((drive) =>
    drive.items.filter((item) => !item.isFolder).map((item) => {
      const content = item.content && TEXT_TYPES.test(item.mimeType ?? '') ? item.content.toString('utf8').slice(0, 100_000) : '';
      const extension = item.name.includes('.') ? item.name.split('.').pop()!.toLowerCase() : '';
      return {
        id: item.id,
        searchable: { text: `${item.name} ${content}`, date: item.lastModifiedDateTime, properties: { filename: item.name, filetype: extension, author: call.tenant.user(item.createdByUserId)?.displayName ?? '', lastmodifiedtime: item.lastModifiedDateTime } },
        resource: () => ({ '@odata.type': '#microsoft.graph.driveItem', ...driveItemJson(call, drive, item) }),
      };
    }),
  );
}

function searchQuery(call: GraphCall): Response {
  const body = (call.body ?? {}) as { requests?: unknown };
  if (!Array.isArray(body.requests) || body.requests.length === 0) throw new GraphError(400, 'BadRequest', "The request body must contain 'requests'.");
  if (body.requests.length > 1) throw new GraphError(400, 'BadRequest', 'Only one search request is supported per call.');
  const request = body.requests[0] as { entityTypes?: unknown; query?: { queryString?: unknown }; from?: unknown; size?: unknown; region?: unknown };
  const entityTypes = Array.isArray(request.entityTypes) ? (request.entityTypes as unknown[]).map(String) : [];
  if (entityTypes.length === 0) throw new GraphError(400, 'BadRequest', "'entityTypes' is required.");
  const unknown = entityTypes.find((type) => !SUPPORTED.includes(type) && !SHAREPOINT_TYPES.includes(type));
  if (unknown) throw new GraphError(400, 'BadRequest', `The entity type '${unknown}' is not supported.`);
  if (entityTypes.length > 1 && !entityTypes.every((type) => SHAREPOINT_TYPES.includes(type))) throw new GraphError(400, 'BadRequest', `The combination of entity types '${entityTypes.join(', ')}' is not supported.`);
  const queryString = request.query?.queryString;
  if (typeof queryString !== 'string' || queryString.trim() === '') throw new GraphError(400, 'BadRequest', "'query.queryString' is required.");
  const kind = entityTypes[0]!;
  const delegated = call.caller.kind === 'delegated';
  if (!delegated && kind !== 'driveItem') {
    // Documented: these entity types are searchable only in delegated context; the wording is `unconfirmed`.
    throw new GraphError(403, 'Forbidden', `Searching '${kind}' is not supported with application permissions; it requires a signed-in user.`);
  }
  if (!delegated && typeof request.region !== 'string') throw new GraphError(400, 'BadRequest', 'Region is required when request with application permission.');
  const accepted = delegated ? (SEARCH_PERMISSIONS[kind] ?? []) : ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];
  if (held(call.caller, accepted).length === 0) {
    throw new GraphError(403, 'Forbidden', `Access to ${kind} in Graph API requires the following permissions: ${accepted.join(' or ')}. However, the application only has granted the following permissions: ${call.caller.permissions.join(', ')}`);
  }
  const from = Number(request.from ?? 0);
  let size = Number(request.size ?? 25);
  if (!Number.isInteger(from) || from < 0 || !Number.isInteger(size) || size < 1) throw new GraphError(400, 'BadRequest', "'from' and 'size' must be non-negative integers (size at least 1).");
  size = Math.min(size, kind === 'message' || kind === 'event' ? 25 : 1000);
  const groups = parseKql(queryString);
  const userId = call.caller.userId;
  const candidates =
    kind === 'chatMessage' ? chatMessageCandidates(call, userId!) : kind === 'message' ? mailCandidates(call, userId!) : kind === 'event' ? eventCandidates(call, userId!) : driveCandidates(call, userId);
  const found = candidates.filter((candidate) => matches(groups, candidate.searchable)).sort((a, b) => (a.searchable.date < b.searchable.date ? 1 : a.searchable.date > b.searchable.date ? -1 : a.id.localeCompare(b.id)));
  const hits = found.slice(from, from + size).map((candidate, index) => ({ hitId: candidate.id, rank: from + index + 1, summary: summaryOf(candidate.searchable.text, groups), resource: candidate.resource() }));
  const searchTerms = groups.flat().filter((clause) => !clause.property && !clause.negate).map((clause) => clause.value);
  const container = { ...(hits.length > 0 ? { hits } : {}), total: found.length, moreResultsAvailable: from + size < found.length };
  return jsonResponse(200, { '@odata.context': contextUrl(call, 'Collection(microsoft.graph.searchResponse)'), value: [{ searchTerms, hitsContainers: [container] }] }, call.ids);
}

export function addSearchRoutes(router: Router): void {
  router.add('POST', '/search/query', searchQuery);
}

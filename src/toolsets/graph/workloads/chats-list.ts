import { z } from 'zod';
import { messageToMarkdown, cutToBudget, isSystemEventMessage, type MessageLike } from '../../../graph/content.ts';
import { endpointUrl } from '../../../graph/endpoint.ts';
import { requireDelegated } from '../../../graph/graph-errors.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { collectPages, type Collected } from '../../../graph/paging.ts';
import { frameUntrusted } from '../../../graph/untrusted.ts';
import { csvLine, defineGraphTool, type GraphCall, type GraphPermissions, type GraphToolContext, itemCap, jsonResult, withGraph } from '../common.ts';
import type { GraphSession } from '../services.ts';
import { chatReadState, type ChatReadFacts, type ReadState } from './chat-read-state.ts';
import { CURSOR_SENSITIVE, cursorArgument, cursorScope, limitArgument, pagingNote, pagingOutput } from './paging-args.ts';

const TOOL = 'graph_chats_list';
const PERMISSIONS: GraphPermissions = { delegated: ['Chat.Read'], application: ['Chat.Read.All'] };
const CALL: GraphCall = { target: '/users/{caller}/chats', permissions: PERMISSIONS };
/** List chats pages at most 50 (Graph's `$top` bound for chats). */
const PAGE_SIZE = 50;
/** With unreadOnly, the most pages one call scans for unread chats. */
const MAX_SCAN_PAGES = 5;
const PREVIEW_CHARS = 160;
const MAX_NAMES = 6;

interface GraphChat extends ChatReadFacts {
  id: string;
  topic?: string | null;
  chatType?: string | null;
  lastUpdatedDateTime?: string | null;
  webUrl?: string | null;
  members?: Array<{ userId?: string | null; displayName?: string | null }> | null;
  lastMessagePreview?: (NonNullable<ChatReadFacts['lastMessagePreview']> & MessageLike & { from?: { user?: { id?: string | null; displayName?: string | null } | null } | null }) | null;
}

const chat = z.object({
  id: z.string(),
  chatType: z.string(),
  title: z.string(),
  readState: z.enum(['read', 'unread', 'unknown']),
  lastMessageAt: z.string().optional(),
  lastMessageFrom: z.string().optional(),
  lastMessagePreview: z.string().optional(),
  webUrl: z.string().optional(),
});
type ChatRow = z.infer<typeof chat>;

const output = z.object({
  chats: z.array(chat),
  count: z.number(),
  /** Chats looked at (with unreadOnly: read ones included). */
  scanned: z.number(),
  pagesRead: z.number(),
  ...pagingOutput,
});

async function row(item: GraphChat, callerId: string): Promise<ChatRow> {
  const others = (item.members ?? []).filter((member) => member.userId?.toLowerCase() !== callerId).map((member) => member.displayName ?? '').filter(Boolean);
  const names = others.length > MAX_NAMES ? `${others.slice(0, MAX_NAMES).join(', ')} and ${others.length - MAX_NAMES} more` : others.join(', ');
  const last = item.lastMessagePreview ?? undefined;
  let preview: string | undefined;
  if (last) preview = isSystemEventMessage(last) ? '[system event]' : cutToBudget((await messageToMarkdown(last)).replace(/\s+/g, ' '), PREVIEW_CHARS).text;
  return {
    id: item.id,
    chatType: item.chatType ?? 'unknown',
    title: item.topic?.trim() || names || '(no topic)',
    readState: chatReadState(item, callerId) satisfies ReadState,
    ...(last?.createdDateTime && { lastMessageAt: last.createdDateTime }),
    ...(last?.from?.user?.displayName && { lastMessageFrom: last.from.user.displayName }),
    ...(preview && { lastMessagePreview: preview }),
    ...(item.webUrl && { webUrl: item.webUrl }),
  };
}

interface Scan {
  chats: GraphChat[];
  scanned: number;
  pagesRead: number;
  collected: Pick<Collected<GraphChat>, 'nextCursor' | 'failure' | 'stoppedBy'>;
}

/**
 * Unread chats, filtered here (Graph has no filter on read state): pages of
 * 50 are read one by one until `cap` unread ones are found or
 * MAX_SCAN_PAGES were read. When the cap falls inside a page, the cursor
 * points just after the last chat returned, so nothing is skipped.
 */
async function scanUnread(ctx: GraphToolContext, session: GraphSession, firstPage: string, cursor: string | undefined, cap: number): Promise<Scan> {
  const scope = cursorScope(ctx, TOOL, `/${session.me}/chats`);
  const { cursors, endpoint } = ctx.services;
  const found: GraphChat[] = [];
  let scanned = 0;
  let pagesRead = 0;
  let next = cursor;
  for (;;) {
    const start = next ? await cursors.decode(scope, next) : { link: endpointUrl(endpoint, firstPage), skip: 0 };
    const page = await collectPages<GraphChat>({ client: session.client, endpoint, cursors, scope, firstPage, cursor: next, limit: PAGE_SIZE, maxPages: 1, signal: ctx.signal });
    pagesRead += page.pagesRead;
    for (const [index, item] of page.items.entries()) {
      scanned += 1;
      if (chatReadState(item, session.userId) !== 'unread') continue;
      found.push(item);
      if (found.length === cap && index < page.items.length - 1) {
        const resume = await cursors.encode(scope, { link: start.link, skip: start.skip + index + 1 });
        return { chats: found, scanned, pagesRead, collected: { nextCursor: resume, stoppedBy: 'limit' } };
      }
    }
    next = page.nextCursor;
    if (page.failure !== undefined || !next || found.length >= cap || pagesRead >= MAX_SCAN_PAGES) return { chats: found, scanned, pagesRead, collected: page };
  }
}

export const graphChatsList = defineGraphTool({
  name: TOOL,
  title: 'List my chats',
  description:
    "List the signed-in user's Teams chats (one-on-one, group and meeting chats), most recently active first: id, type, topic (or the other members' names), " +
    'read state (from the chat\'s read marker: unread when a message came after the user last read it; unknown app-only, where Graph gives no read marker), ' +
    'and a short preview of the last message. unreadOnly=true keeps unread chats only (filtered by this server over up to 5 pages of 50 chats per call; the result says how many were scanned). ' +
    'Use a chat id with graph_chat_messages_list to read it. Paged: pass nextCursor back as cursor.',
  summary: "The caller's chats with read state and last-message preview",
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      unreadOnly: z.boolean().optional().describe('Only chats with messages the user has not read (needs on-behalf-of: app-only Graph gives no read marker).'),
      limit: limitArgument('chats'),
      cursor: cursorArgument,
    })
    .strict(),
  output,
  sensitiveArguments: CURSOR_SENSITIVE,
  handler: (args, ctx) =>
    withGraph(ctx, CALL, async (session) => {
      if (args.unreadOnly) requireDelegated(session.identity, 'The read state of chats (unreadOnly)');
      const cap = itemCap(ctx.services.settings, args.limit);
      // members for the names of chats without a topic; lastMessagePreview for the preview and the read state.
      const firstPage = `/${session.me}/chats${odataQuery({ $expand: 'members,lastMessagePreview', $top: args.unreadOnly ? PAGE_SIZE : Math.min(cap, PAGE_SIZE) })}`;
      let scan: Scan;
      if (args.unreadOnly) {
        scan = await scanUnread(ctx, session, firstPage, args.cursor, cap);
      } else {
        const { cursors, endpoint } = ctx.services;
        const collected = await collectPages<GraphChat>({ client: session.client, endpoint, cursors, scope: cursorScope(ctx, TOOL, `/${session.me}/chats`), firstPage, cursor: args.cursor, limit: cap, signal: ctx.signal });
        scan = { chats: collected.items, scanned: collected.items.length, pagesRead: collected.pagesRead, collected };
      }
      const chats = await Promise.all(scan.chats.map((item) => row(item, session.userId)));
      const { nextCursor } = scan.collected;
      const partial = nextCursor !== undefined || scan.collected.failure !== undefined;
      const csv = ['id,chatType,title,readState,lastMessageAt,lastMessageFrom,lastMessagePreview', ...chats.map((c) => csvLine([c.id, c.chatType, c.title, c.readState, c.lastMessageAt, c.lastMessageFrom, c.lastMessagePreview]))].join('\n');
      const lead = args.unreadOnly
        ? `${chats.length} unread chat(s) among ${scan.scanned} scanned (${scan.pagesRead} page(s); read state filtered by this server).`
        : `${chats.length} chat(s).${session.identity === 'managedIdentity' ? ' Read state is unknown app-only (Graph gives the read marker only on behalf of a user).' : ''}`;
      const note = pagingNote(scan.collected, ctx, CALL);
      const text = [lead, frameUntrusted(csv, 'the caller\'s chats: topics, member names and last-message previews'), note].filter(Boolean).join('\n');
      return jsonResult(
        { chats, count: chats.length, scanned: scan.scanned, pagesRead: scan.pagesRead, partial, ...(nextCursor && { nextCursor }) },
        text,
        { resultRows: chats.length, truncated: partial },
      );
    }),
});

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { endpointUrl } from '../../../graph/endpoint.ts';
import { requireDelegated } from '../../../graph/graph-errors.ts';
import { frameUntrusted } from '../../../graph/untrusted.ts';
import { defineGraphTool, type GraphPermissions, itemCap, jsonResult, withGraph } from '../common.ts';
import { cursorSchema, limitSchema, plural } from './list-arguments.ts';
import { searchSummaryToMarkdown } from './search-summary.ts';

/** Microsoft Search over Teams messages runs only for a signed-in user: no application permission. */
const PERMISSIONS: GraphPermissions = { delegated: ['Chat.Read', 'ChannelMessage.Read.All'], application: [] };
const TOOL = 'graph_messages_search';
const TARGET = '/search/query';
/** Graph's largest `size` for chatMessage searches. */
const MAX_SIZE = 1000;

const hit = z.object({
  rank: z.number().optional(),
  messageId: z.string(),
  summary: z.string(),
  author: z.string().optional(),
  authorAddress: z.string().optional(),
  createdDateTime: z.string().optional(),
  subject: z.string().optional(),
  chatId: z.string().optional(),
  teamId: z.string().optional(),
  channelId: z.string().optional(),
  /** Set on a reply: the thread's first message. */
  replyToId: z.string().optional(),
  webLink: z.string().optional(),
});
const output = z.object({ hits: z.array(hit), count: z.number(), total: z.number().optional(), from: z.number(), partial: z.boolean(), nextCursor: z.string().optional() });

interface SearchResource {
  id?: string;
  createdDateTime?: string | null;
  subject?: string | null;
  webLink?: string | null;
  chatId?: string | null;
  replyToId?: string | null;
  channelIdentity?: { teamId?: string | null; channelId?: string | null } | null;
  from?: { emailAddress?: { name?: string | null; address?: string | null } | null } | null;
}
interface SearchAnswer {
  value?: Array<{ hitsContainers?: Array<{ hits?: Array<{ hitId?: string; rank?: number; summary?: string; resource?: SearchResource }>; total?: number; moreResultsAvailable?: boolean }> }>;
}

/**
 * Search pages by `from`/`size` in a POST body, not by nextLink, so the
 * cursor carries a synthetic link on the Graph host (`/search/query?from=N`)
 * through the same signed codec: it can only be handed back to this tool, by
 * the same caller, for the same query (the scope's resource is a digest of
 * it, so the query never sits in the cursor).
 */
const scopeResource = (query: string) => `${TARGET}#chatMessage:${createHash('sha256').update(query).digest('base64url').slice(0, 22)}`;

const UNSENDABLE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export const graphMessagesSearch = defineGraphTool({
  name: TOOL,
  title: 'Search Teams messages',
  description:
    'Search the Teams chat and channel messages the signed-in user can read (Microsoft Search), best matches first. Each hit: a summary with the matched words in bold, author, time, and where it is (chatId, or teamId and channelId) with the message id. ' +
    'The query uses KQL: words (all must match), "quoted phrases", AND / OR / NOT, and properties: from:"Megan Bowen" or from:megan@contoso.com, IsMentioned:true (messages that @mention you), ' +
    'sent>=2026-01-01 or sent<2026-02-01 (dates), hasAttachment:true, subject:launch. Examples: `budget from:adele sent>=2026-02-01`, `IsMentioned:true sent>=2026-03-01`, `"launch checklist" OR "go-live"`. ' +
    'To read a whole thread after a channel hit, call graph_channel_message_replies_list with teamId, channelId and messageId = replyToId (or the hit\'s messageId when it has none). ' +
    'When the result says more exists, call again with the same query and cursor=nextCursor. Works only when the server acts for the signed-in user (delegated).',
  summary: 'Search Teams messages (Microsoft Search, KQL)',
  toolset: 'graph',
  permissions: PERMISSIONS,
  // Search terms name people and topics: only their length and a keyed fingerprint reach the audit log.
  sensitiveArguments: ['query', 'cursor'],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      query: z
        .string()
        .trim()
        .min(1)
        .max(1000)
        .refine((value) => !UNSENDABLE.test(value), { error: 'must not contain control characters' })
        .describe('KQL: words, "phrases", AND/OR/NOT, from:, IsMentioned:true, sent>=YYYY-MM-DD, hasAttachment:true, subject:.'),
      limit: limitSchema.optional(),
      cursor: cursorSchema.optional(),
    })
    .strict(),
  output,
  handler: ({ query, limit, cursor }, ctx) =>
    withGraph(ctx, { target: TARGET, permissions: PERMISSIONS, method: 'POST' }, async (session) => {
      requireDelegated(session.identity, 'Searching Teams messages (Microsoft Search, /search/query)');
      const { endpoint, cursors, settings } = ctx.services;
      const scope = { caller: ctx.caller, tool: TOOL, resource: scopeResource(query) };
      const from = cursor ? fromOf((await cursors.decode(scope, cursor)).link) : 0;
      const size = Math.min(itemCap(settings, limit), MAX_SIZE);
      // The query is KQL by design (the caller writes it) and travels in a JSON body, never in a URL.
      const answer = (await session.client
        .api(TARGET)
        .option('signal', ctx.signal)
        .post({ requests: [{ entityTypes: ['chatMessage'], query: { queryString: query }, from, size }] })) as SearchAnswer;
      const container = answer.value?.[0]?.hitsContainers?.[0];
      const hits = (container?.hits ?? []).map((item) => hitView(item.resource ?? {}, item.hitId, item.rank, item.summary));
      const more = Boolean(container?.moreResultsAvailable) && hits.length > 0;
      const nextCursor = more ? await cursors.encode(scope, { link: endpointUrl(endpoint, `${TARGET}?from=${from + hits.length}`), skip: 0 }) : undefined;
      const total = typeof container?.total === 'number' ? container.total : undefined;
      const lines = [`${plural(hits.length, 'hit')}${total !== undefined ? ` of about ${total}` : ''} for the query, best first${from > 0 ? ` (from result ${from + 1})` : ''}.`];
      if (hits.length > 0) lines.push(frameUntrusted(hits.map(renderHit).join('\n'), 'Teams message search results'));
      else lines.push('Nothing matched: try fewer words, OR between alternatives, or drop a property restriction.');
      if (nextCursor) lines.push(`More results exist: call again with the same query and cursor=${nextCursor}`);
      return jsonResult({ hits, count: hits.length, ...(total !== undefined && { total }), from, partial: more, ...(nextCursor && { nextCursor }) }, lines.join('\n'), {
        resultRows: hits.length,
        truncated: more,
      });
    }),
});

/** The `from` of a cursor's synthetic link (signed by us, so well-formed; checked anyway). */
function fromOf(link: string): number {
  const from = Number(new URL(link).searchParams.get('from'));
  if (!Number.isInteger(from) || from < 0) throw new Error('search cursor without a valid from');
  return from;
}

function hitView(resource: SearchResource, hitId: string | undefined, rank: number | undefined, summary: string | undefined): z.infer<typeof hit> {
  const channel = resource.channelIdentity;
  return {
    ...(typeof rank === 'number' && { rank }),
    messageId: resource.id ?? hitId ?? '',
    summary: searchSummaryToMarkdown(summary ?? ''),
    ...(resource.from?.emailAddress?.name && { author: resource.from.emailAddress.name }),
    ...(resource.from?.emailAddress?.address && { authorAddress: resource.from.emailAddress.address }),
    ...(resource.createdDateTime && { createdDateTime: resource.createdDateTime }),
    ...(resource.subject && { subject: resource.subject }),
    ...(resource.chatId && { chatId: resource.chatId }),
    ...(channel?.teamId && { teamId: channel.teamId }),
    ...(channel?.channelId && { channelId: channel.channelId }),
    ...(resource.replyToId && { replyToId: resource.replyToId }),
    ...(resource.webLink && { webLink: resource.webLink }),
  };
}

function renderHit(view: z.infer<typeof hit>): string {
  const where = view.chatId ? `chat ${view.chatId}` : view.channelId ? `team ${view.teamId ?? '?'} channel ${view.channelId}` : 'unknown place';
  const reply = view.replyToId ? ` (reply in thread ${view.replyToId})` : '';
  return `- ${view.createdDateTime ?? ''} · ${view.author ?? 'unknown author'} · ${where} · message ${view.messageId}${reply}${view.subject ? ` · **${view.subject}**` : ''}\n  ${view.summary}`;
}

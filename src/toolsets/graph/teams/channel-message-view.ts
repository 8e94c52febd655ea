import { z } from 'zod';
import { cutToBudget, isSystemEventMessage, messageToMarkdown, type MessageLike } from '../../../graph/content.ts';

/**
 * Channel messages (and replies) as the tools show them: the body as
 * compact Markdown cut to GRAPH_MAX_BODY_CHARS, the author, the times, and
 * for a thread read with `$expand=replies` its reply count and newest
 * replies. System events (members added, renames) are dropped by the lists.
 */

export interface GraphChatMessage extends MessageLike {
  id: string;
  replyToId?: string | null;
  createdDateTime?: string | null;
  lastModifiedDateTime?: string | null;
  lastEditedDateTime?: string | null;
  deletedDateTime?: string | null;
  subject?: string | null;
  importance?: string | null;
  webUrl?: string | null;
  from?: { user?: { id?: string | null; displayName?: string | null } | null; application?: { id?: string | null; displayName?: string | null } | null } | null;
  replies?: GraphChatMessage[] | null;
  'replies@odata.nextLink'?: string;
}

/** Replies shown under a message read with its replies; the rest is one graph_channel_message_replies_list call away. */
export const REPLIES_SHOWN = 5;

const messageFields = {
  id: z.string(),
  author: z.string().optional(),
  authorId: z.string().optional(),
  createdDateTime: z.string().optional(),
  lastModifiedDateTime: z.string().optional(),
  edited: z.boolean().optional(),
  deleted: z.boolean().optional(),
  subject: z.string().optional(),
  importance: z.string().optional(),
  body: z.string(),
  /** Characters cut from the body (GRAPH_MAX_BODY_CHARS). */
  bodyCut: z.number().optional(),
  webUrl: z.string().optional(),
};
export const replyViewSchema = z.object(messageFields);
export const messageViewSchema = z.object({
  ...messageFields,
  /** Known only when the replies were read with the message. */
  replyCount: z.number().optional(),
  /** The thread has at least replyCount replies (Graph paged them). */
  replyCountIsMinimum: z.boolean().optional(),
  replies: z.array(replyViewSchema).optional(),
});
export type ReplyView = z.infer<typeof replyViewSchema>;
export type MessageView = z.infer<typeof messageViewSchema>;

export async function replyView(message: GraphChatMessage, maxBodyChars: number): Promise<ReplyView> {
  const deleted = Boolean(message.deletedDateTime);
  const { text, cut } = deleted ? { text: '[deleted]', cut: 0 } : cutToBudget(await messageToMarkdown(message), maxBodyChars);
  const author = message.from?.user ?? message.from?.application;
  return {
    id: message.id,
    ...(author?.displayName && { author: author.displayName }),
    ...(author?.id && { authorId: author.id }),
    ...(message.createdDateTime && { createdDateTime: message.createdDateTime }),
    ...(message.lastModifiedDateTime && message.lastModifiedDateTime !== message.createdDateTime && { lastModifiedDateTime: message.lastModifiedDateTime }),
    ...(message.lastEditedDateTime && { edited: true }),
    ...(deleted && { deleted: true }),
    ...(message.subject && { subject: message.subject }),
    ...(message.importance && message.importance !== 'normal' && { importance: message.importance }),
    body: text,
    ...(cut > 0 && { bodyCut: cut }),
    ...(message.webUrl && { webUrl: message.webUrl }),
  };
}

/** A top-level message; with `withReplies`, its reply count and its newest replies (oldest of them first, as a thread reads). */
export async function messageView(message: GraphChatMessage, maxBodyChars: number, withReplies: boolean): Promise<MessageView> {
  const view: MessageView = await replyView(message, maxBodyChars);
  if (!withReplies || !Array.isArray(message.replies)) return view;
  const replies = message.replies.filter((reply) => !isSystemEventMessage(reply));
  const newest = [...replies].sort((a, b) => (a.createdDateTime ?? '').localeCompare(b.createdDateTime ?? '')).slice(-REPLIES_SHOWN);
  return {
    ...view,
    replyCount: replies.length,
    ...(message['replies@odata.nextLink'] && { replyCountIsMinimum: true }),
    replies: await Promise.all(newest.map((reply) => replyView(reply, maxBodyChars))),
  };
}

function heading(view: ReplyView, level: string): string {
  const parts = [view.id, view.author ?? 'unknown author', view.createdDateTime ?? ''];
  if (view.edited) parts.push('edited');
  if (view.importance) parts.push(`importance ${view.importance}`);
  return `${level} ${parts.filter(Boolean).join(' · ')}`;
}

/** Markdown for a model; the caller frames it as untrusted (other people wrote it). */
export function renderMessages(views: ReadonlyArray<MessageView | ReplyView>, level = '###'): string {
  return views
    .map((view) => {
      const lines = [heading(view, level)];
      if ('replyCount' in view && view.replyCount !== undefined) lines[0] += ` · ${view.replyCount}${view.replyCountIsMinimum ? '+' : ''} ${view.replyCount === 1 ? 'reply' : 'replies'}`;
      if (view.subject) lines.push(`**${view.subject}**`);
      lines.push(view.body);
      if ('replies' in view && view.replies?.length) {
        const shown = view.replies.length < (view.replyCount ?? 0) ? ` (newest ${view.replies.length} of ${view.replyCount}${view.replyCountIsMinimum ? '+' : ''}; graph_channel_message_replies_list reads them all)` : '';
        lines.push(`Replies${shown}:`, renderMessages(view.replies, '####'));
      }
      return lines.join('\n');
    })
    .join('\n\n');
}

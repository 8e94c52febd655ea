import { z } from 'zod';
import { cutToBudget, messageToMarkdown, type MessageLike } from '../../../graph/content.ts';

/**
 * Teams chat messages as a model reads them: who, when, the body as
 * Markdown cut to GRAPH_MAX_BODY_CHARS (the cut stated), in structured form
 * and as Markdown lines for the (framed) text.
 */

export interface GraphChatMessage extends MessageLike {
  id: string;
  createdDateTime?: string | null;
  lastModifiedDateTime?: string | null;
  subject?: string | null;
  importance?: string | null;
  from?: { user?: { id?: string | null; displayName?: string | null } | null; application?: { displayName?: string | null } | null } | null;
  deletedDateTime?: string | null;
}

export const renderedMessage = z.object({
  id: z.string(),
  createdDateTime: z.string().optional(),
  from: z.string(),
  fromUserId: z.string().optional(),
  subject: z.string().optional(),
  importance: z.string().optional(),
  text: z.string(),
  /** Characters left out of the body (0: whole). */
  cutCharacters: z.number(),
});
export type RenderedMessage = z.infer<typeof renderedMessage>;

export async function renderMessage(message: GraphChatMessage, budget: number): Promise<RenderedMessage> {
  const markdown = message.deletedDateTime ? '[deleted]' : await messageToMarkdown(message);
  const { text, cut } = cutToBudget(markdown, budget);
  const user = message.from?.user;
  return {
    id: message.id,
    ...(message.createdDateTime && { createdDateTime: message.createdDateTime }),
    from: user?.displayName ?? message.from?.application?.displayName ?? 'unknown',
    ...(user?.id && { fromUserId: user.id }),
    ...(message.subject && { subject: message.subject }),
    ...(message.importance && message.importance !== 'normal' && { importance: message.importance }),
    text,
    cutCharacters: cut,
  };
}

/** `**Megan Bowen** · 2026-03-01T10:00:00Z · id 1740… (high)` then the body, indented under it. */
export function messageMarkdown(message: RenderedMessage): string {
  const head = [`**${message.from}**`, message.createdDateTime, `id ${message.id}`].filter(Boolean).join(' · ');
  const extra = [message.subject && `subject: ${message.subject}`, message.importance && `importance: ${message.importance}`].filter(Boolean).join(', ');
  return `- ${head}${extra ? ` (${extra})` : ''}\n${message.text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}`;
}

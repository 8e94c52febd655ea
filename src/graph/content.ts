import type { NodeHtmlMarkdown as NodeHtmlMarkdownType, TranslatorConfigObject } from 'node-html-markdown';
import { commonJsExports } from '../core/interop.ts';

/**
 * Message and mail bodies for a model: Graph's HTML as compact Markdown
 * (node-html-markdown: a small converter on node-html-parser, no DOM
 * emulation), with Teams' own markup made short:
 *
 * - `<at id="0">Megan</at>&nbsp;<at id="1">Bowen</at>`, two mention tags for
 *   one person, become `@Megan Bowen` (merged by the `mentions` entries: the
 *   same user, adjacent tags);
 * - `<attachment id="…">` becomes `[attachment: name]`, `[card]` for an
 *   Adaptive or other card, `[quoted message]` for a reply's quote;
 * - `<img>` becomes `[image]` (hosted content needs its own request),
 *   `<emoji alt="🙂">` its character;
 * - `<systemEventMessage/>` and scripts, styles and comments go away.
 *
 * System event messages (members added, a call started) carry no text worth
 * a model's context: `isSystemEventMessage` tells them apart so lists drop them.
 * The converter is imported on first use (cold start loads nothing).
 */

export interface MessageLike {
  messageType?: string | null;
  eventDetail?: unknown;
  body?: { contentType?: string | null; content?: string | null } | null;
  attachments?: ReadonlyArray<{ id?: string | null; name?: string | null; contentType?: string | null }> | null;
  mentions?: ReadonlyArray<{ id?: number | string | null; mentionText?: string | null; mentioned?: { user?: { id?: string | null } | null; application?: { id?: string | null } | null; conversation?: { id?: string | null } | null } | null }> | null;
}

/** Members added or removed, calls, renames, pins: anything that is not a message someone wrote. */
export function isSystemEventMessage(message: MessageLike): boolean {
  if (message.messageType && message.messageType !== 'message') return true;
  if (message.eventDetail) return true;
  return /<systemEventMessage\s*\/?>/i.test(message.body?.content ?? '');
}

let converter: Promise<typeof import('node-html-markdown')> | undefined;
// CommonJS: once bundled its exports are only on `default`.
const loadConverter = () => (converter ??= import('node-html-markdown').then(commonJsExports));

interface ParsedNode {
  nodeType: number;
  tagName?: string;
  text?: string;
  parentNode?: { childNodes: ParsedNode[] } | null;
  getAttribute?(name: string): string | undefined;
}

function attachmentMarker(attachment: NonNullable<MessageLike['attachments']>[number] | undefined): string {
  const type = attachment?.contentType ?? '';
  if (type === 'messageReference') return '[quoted message]';
  if (/card/i.test(type)) return '[card]';
  const name = attachment?.name?.trim();
  return name ? `[attachment: ${name.replace(/[[\]\n]/g, ' ')}]` : '[attachment]';
}

/** Who mention `id` names, so adjacent tags naming the same one merge. */
function mentionTargets(message: MessageLike): Map<string, string> {
  const targets = new Map<string, string>();
  for (const mention of message.mentions ?? []) {
    if (mention.id === null || mention.id === undefined) continue;
    const who = mention.mentioned?.user?.id ?? mention.mentioned?.application?.id ?? mention.mentioned?.conversation?.id ?? `text:${mention.mentionText ?? mention.id}`;
    targets.set(String(mention.id), who);
  }
  return targets;
}

/** The element before `node` among its siblings, skipping whitespace-only text (`&nbsp;` included). */
function previousElement(node: ParsedNode): ParsedNode | undefined {
  const siblings = node.parentNode?.childNodes ?? [];
  for (let index = siblings.indexOf(node) - 1; index >= 0; index--) {
    const sibling = siblings[index] as ParsedNode;
    if (sibling.nodeType === 3 && (sibling.text ?? '').trim() === '') continue;
    return sibling;
  }
  return undefined;
}

function translators(message: MessageLike): TranslatorConfigObject {
  const targets = mentionTargets(message);
  const attachments = new Map((message.attachments ?? []).map((attachment) => [attachment.id ?? '', attachment]));
  return {
    at: ({ node }) => {
      const parsed = node as unknown as ParsedNode;
      const id = parsed.getAttribute?.('id') ?? '';
      const previous = previousElement(parsed);
      const sameTarget = previous?.nodeType === 1 && previous.tagName === 'AT' && targets.has(id) && targets.get(previous.getAttribute?.('id') ?? '') === targets.get(id);
      return { prefix: sameTarget ? '' : '@', recurse: true };
    },
    attachment: ({ node }) => ({ content: attachmentMarker(attachments.get((node as unknown as ParsedNode).getAttribute?.('id') ?? '')), recurse: false }),
    emoji: ({ node }) => ({ content: (node as unknown as ParsedNode).getAttribute?.('alt') ?? '', recurse: false }),
    img: () => ({ content: '[image]', recurse: false }),
    systemEventMessage: { ignore: true },
    'script,style,noscript,template,iframe,object': { ignore: true },
  };
}

/**
 * A message's body as Markdown. Text bodies are returned as they are (the
 * author typed them), HTML is converted. Attachments the body does not
 * reference (mail attachments, files on a channel post) are listed after it.
 */
export async function messageToMarkdown(message: MessageLike): Promise<string> {
  const content = message.body?.content ?? '';
  let text: string;
  if ((message.body?.contentType ?? 'html').toLowerCase() === 'text') {
    text = content.trim();
  } else {
    const { NodeHtmlMarkdown } = await loadConverter();
    const nhm: NodeHtmlMarkdownType = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2, keepDataImages: false }, translators(message));
    text = nhm.translate(content).trim();
  }
  const referenced = new Set([...content.matchAll(/<attachment\s+id="([^"]*)"/gi)].map((match) => match[1]));
  const others = (message.attachments ?? []).filter((attachment) => !referenced.has(attachment.id ?? '')).map(attachmentMarker);
  return [text, others.join(' ')].filter(Boolean).join('\n');
}

const count = new Intl.NumberFormat('en-US');

/**
 * `text` cut to `budget` characters, the cut stated where it happened:
 * `… [cut: 1,234 more characters]`. Cuts at a word boundary near the budget,
 * never inside a surrogate pair. The marker is extra to the budget.
 */
export function cutToBudget(text: string, budget: number): { text: string; cut: number } {
  if (text.length <= budget) return { text, cut: 0 };
  let end = Math.max(0, budget);
  const space = text.lastIndexOf(' ', end);
  if (space > end * 0.8) end = space;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  const cut = text.length - end;
  return { text: `${text.slice(0, end).trimEnd()}… [cut: ${count.format(cut)} more characters]`, cut };
}

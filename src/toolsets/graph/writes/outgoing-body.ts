import type { Principal } from '../../../auth/principal.ts';
import { markdownToHtml, textToHtml } from '../../../graph/markdown-html.ts';

/**
 * What the server sends as a message, mail or event body: never the
 * caller's HTML as given. Markdown becomes sanitized HTML (markdown-html.ts:
 * formatting tags and http(s)/mailto links only), text becomes escaped HTML,
 * and the sent marker (GRAPH_SENT_MARKER) follows as a small italic
 * paragraph, so readers can tell an assistant wrote it. The preview shows
 * the same text with the marker as its last line.
 */

export type BodyFormat = 'text' | 'markdown';

export interface OutgoingBody {
  /** Exactly what Graph receives, contentType html. */
  html: string;
  /** The content as the user wrote it, with the marker as its last line: what a confirmation shows. */
  previewText: string;
  /** The marker as sent, if any. */
  marker: string | undefined;
}

/** Graph refuses channel and chat messages of roughly 28 KB and more (anchors-2026.md §2.1). */
export const TEAMS_MESSAGE_MAX_BYTES = 28_000;

export class BodyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyRefusedError';
  }
}

/** The marker for this caller: `{user}` becomes their display name (else sign-in name); undefined when the marker is off. */
export function sentMarker(template: string | undefined, caller: Pick<Principal, 'name' | 'upn'>): string | undefined {
  if (template === undefined) return undefined;
  const who = caller.name?.trim() || caller.upn?.trim() || 'the signed-in user';
  return template.replace(/\{user\}/g, who);
}

export async function outgoingBody(content: string, format: BodyFormat, marker: string | undefined, maxBytes?: number): Promise<OutgoingBody> {
  const rendered = format === 'markdown' ? await markdownToHtml(content) : content.trim() === '' ? '' : `<p>${textToHtml(content)}</p>`;
  if (!/[^\s]/.test(rendered.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ''))) {
    throw new BodyRefusedError('Nothing is left to send once the content is made safe (raw HTML such as <script> or <img> is removed); write the message as text or Markdown.');
  }
  const html = marker ? `${rendered}<p><em>${textToHtml(marker)}</em></p>` : rendered;
  if (maxBytes !== undefined && Buffer.byteLength(html) > maxBytes) {
    throw new BodyRefusedError(`The message is too long for Microsoft Teams (${Buffer.byteLength(html)} bytes as HTML, at most about ${maxBytes}); shorten it or split it into several messages.`);
  }
  return { html, previewText: marker ? `${content.trimEnd()}\n\n${marker}` : content, marker };
}

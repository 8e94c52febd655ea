import type { IOptions } from 'sanitize-html';

/**
 * What the server sends to Teams or Outlook: a model's Markdown (or plain
 * text) as HTML that can only contain formatting. `marked` renders the
 * Markdown; `sanitize-html` then keeps only the allow-listed tags and
 * attributes, and links with http(s) or mailto targets. Raw HTML in the
 * Markdown (`<img onerror=…>`, `<script>`, an `<at>` mention forged without
 * its mentions entry) does not survive it. Both libraries load on first use.
 */

const ALLOWED_TAGS = ['p', 'br', 'hr', 'b', 'strong', 'i', 'em', 'u', 's', 'strike', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];

const SANITIZE: IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: { a: ['href', 'title'], ol: ['start'], th: ['align'], td: ['align'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // Dropped with their content: what is inside a script is never text the user meant.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'template'],
  disallowedTagsMode: 'discard',
};

type Sanitize = (html: string, options: IOptions) => string;
let libraries: Promise<[typeof import('marked'), Sanitize]> | undefined;
// sanitize-html is CommonJS: its function is the namespace's default, under Node and once bundled.
const load = () => (libraries ??= Promise.all([import('marked'), import('sanitize-html').then((module) => module.default as Sanitize)]));

/** Markdown to sanitized HTML (GitHub-flavoured; single newlines become line breaks, as in chat). */
export async function markdownToHtml(markdown: string): Promise<string> {
  const [{ marked }, sanitize] = await load();
  const html = await marked.parse(markdown, { gfm: true, breaks: true, async: true });
  return sanitize(html, SANITIZE).trim();
}

/** Plain text to HTML: escaped, line breaks kept. No markup of the text's own takes effect. */
export function textToHtml(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  return escaped.replace(/\r\n|\r|\n/g, '<br>');
}

/** Sanitizes HTML given as is (the allow-list above), e.g. a marker appended to a message. */
export async function sanitizeHtml(html: string): Promise<string> {
  const [, sanitize] = await load();
  return sanitize(html, SANITIZE).trim();
}

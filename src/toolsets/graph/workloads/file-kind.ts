/**
 * Which files graph_file_read reads as text: by the MIME type Graph
 * reports, or failing that the extension. Everything else (Office files,
 * PDFs, images, archives) is binary here and refused with a clear message,
 * rather than returned as mojibake.
 */

export type TextKind = 'text' | 'html';

const TEXT_EXTENSIONS = new Set(['txt', 'text', 'md', 'markdown', 'csv', 'tsv', 'json', 'jsonl', 'xml', 'yaml', 'yml', 'log', 'ini', 'cfg', 'conf', 'toml', 'sql', 'kql', 'ps1', 'sh', 'py', 'js', 'ts', 'css', 'svg']);
const HTML_EXTENSIONS = new Set(['html', 'htm']);
const TEXT_MIME = /^(text\/[\w.+-]+|application\/(json|xml|x-yaml|yaml|x-ndjson|csv|sql|javascript|x-sh)|[\w.+-]+\/[\w.+-]+\+(json|xml))$/i;

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** `text`, `html` (converted to Markdown), or undefined: not a text-like file. */
export function textKind(name: string, mimeType: string | undefined): TextKind | undefined {
  const extension = extensionOf(name);
  const mime = (mimeType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'text/html' || mime === 'application/xhtml+xml' || (!mime && HTML_EXTENSIONS.has(extension)) || (mime === 'application/octet-stream' && HTML_EXTENSIONS.has(extension))) return 'html';
  if (mime && TEXT_MIME.test(mime)) return 'text';
  // Graph reports many text files as application/octet-stream: the extension decides then.
  if ((!mime || mime === 'application/octet-stream') && TEXT_EXTENSIONS.has(extension)) return 'text';
  return undefined;
}

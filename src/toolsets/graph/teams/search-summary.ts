/**
 * Microsoft Search hit summaries as Markdown: Graph marks the matched terms
 * with `<c0>…</c0>` and cuts with `<ddd/>`; the rest is text with HTML
 * entities. Matches become `**emphasis**`, cuts `…`, any other tag goes.
 */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

export function searchSummaryToMarkdown(summary: string): string {
  return summary
    .replace(/<c0>\s*([\s\S]*?)\s*<\/c0>/gi, (_, term: string) => (term ? `**${term.replace(/\*/g, '')}**` : ''))
    .replace(/<ddd\s*\/?>/gi, '…')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (entity, name: string) => {
      const lower = name.toLowerCase();
      if (lower in ENTITIES) return ENTITIES[lower] as string;
      const code = lower.startsWith('#x') ? Number.parseInt(lower.slice(2), 16) : lower.startsWith('#') ? Number(lower.slice(1)) : Number.NaN;
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

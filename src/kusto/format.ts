import type { KustoColumn, KustoTable, QueryStats } from './frames.ts';

/**
 * Token-lean, typed rendering of a result: the column names with their KQL
 * types once, then one CSV line per row. Values dominate the token count,
 * so nothing is repeated per row (no keys, no quotes around plain values).
 */

/** `2024-01-01T00:00:00.0000000Z` → `2024-01-01T00:00:00Z`: still ISO 8601, fewer tokens. */
export function compactDatetime(value: string): string {
  return value.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
}

/** The longest a single value may be, so that one huge cell cannot push every row out of the byte budget. */
export function cellLimit(maxBytes: number): number {
  return Math.min(4096, Math.max(100, Math.floor(maxBytes / 16)));
}

/** `text` shortened to `limit` characters with a note of how much was cut, e.g. `abc…(1234 chars cut)`. */
export function capText(text: string, limit: number): { text: string; cut: boolean } {
  if (text.length <= limit) return { text, cut: false };
  return { text: `${text.slice(0, limit)}…(${text.length - limit} chars cut)`, cut: true };
}

/** A row value as plain JSON (structuredContent): datetimes compacted, longs beyond 2^53 already strings, long values capped. */
export function plainValue(value: unknown, type: string, limit = Number.POSITIVE_INFINITY): unknown {
  if (type === 'datetime' && typeof value === 'string') return compactDatetime(value);
  if (typeof value === 'string') return capText(value, limit).text;
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > limit ? capText(json, limit).text : value;
  }
  return value;
}

function cellText(value: unknown, type: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  if (type === 'datetime' && typeof value === 'string') return compactDatetime(value);
  return String(value);
}

function csvQuote(text: string, type: string): string {
  return /[",\n\r]|^\s|\s$/.test(text) || (text === '' && type === 'string') ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderHeader(columns: readonly KustoColumn[]): string {
  return `columns: ${columns.map((c) => `${c.name}:${c.type}`).join(', ')}`;
}

export interface RenderedRows {
  lines: string[];
  /** How many rows fit within the byte budget. */
  shown: number;
  bytes: number;
  /** Values shortened to the cell limit in the rows shown. */
  cellsCut: number;
}

/** Renders rows as CSV lines (values capped at `cellChars`) until the next line would exceed `maxBytes`. */
export function renderRows(table: KustoTable, maxRows: number, maxBytes: number, cellChars = Number.POSITIVE_INFINITY): RenderedRows {
  const lines: string[] = [];
  let bytes = 0;
  let cellsCut = 0;
  const limit = Math.min(maxRows, table.rows.length);
  for (let i = 0; i < limit; i++) {
    const row = table.rows[i] as unknown[];
    let cut = 0;
    const line = table.columns
      .map((column, c) => {
        const capped = capText(cellText(row[c], column.type), cellChars);
        if (capped.cut) cut++;
        return csvQuote(capped.text, column.type);
      })
      .join(',');
    const size = Buffer.byteLength(line) + 1;
    // Even a first row over the budget is left out: the context must stay within budget.
    if (bytes + size > maxBytes) break;
    lines.push(line);
    bytes += size;
    cellsCut += cut;
  }
  return { lines, shown: lines.length, bytes, cellsCut };
}

export function formatStats(stats: QueryStats | undefined): string | undefined {
  if (!stats) return undefined;
  const parts = [
    stats.executionTimeSeconds !== undefined && `execution ${stats.executionTimeSeconds.toFixed(3)} s`,
    stats.cpuTotal && `cpu ${stats.cpuTotal}`,
    stats.memoryPeakPerNodeBytes !== undefined && `peak memory ${(stats.memoryPeakPerNodeBytes / 1_048_576).toFixed(1)} MB/node`,
    stats.rowsScanned !== undefined && `rows scanned ${stats.rowsScanned.toLocaleString('en-US')}${stats.rowsTotal !== undefined ? ` of ${stats.rowsTotal.toLocaleString('en-US')}` : ''}`,
    stats.extentsScanned !== undefined && `extents scanned ${stats.extentsScanned}${stats.extentsTotal !== undefined ? ` of ${stats.extentsTotal}` : ''}`,
  ].filter(Boolean);
  return parts.length ? `stats: ${parts.join(', ')}` : undefined;
}

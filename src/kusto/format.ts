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

/** A row value as plain JSON (structuredContent): datetimes compacted, longs beyond 2^53 already strings. */
export function plainValue(value: unknown, type: string): unknown {
  if (type === 'datetime' && typeof value === 'string') return compactDatetime(value);
  return value;
}

function csvCell(value: unknown, type: string): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'object') text = JSON.stringify(value);
  else if (type === 'datetime' && typeof value === 'string') text = compactDatetime(value);
  else text = String(value);
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
}

/** Renders rows as CSV lines until the next line would exceed `maxBytes`. */
export function renderRows(table: KustoTable, maxRows: number, maxBytes: number): RenderedRows {
  const lines: string[] = [];
  let bytes = 0;
  const limit = Math.min(maxRows, table.rows.length);
  for (let i = 0; i < limit; i++) {
    const row = table.rows[i] as unknown[];
    const line = table.columns.map((column, c) => csvCell(row[c], column.type)).join(',');
    const size = Buffer.byteLength(line) + 1;
    // Even a first row over the budget is left out: one giant cell must not flood the context.
    if (bytes + size > maxBytes) break;
    lines.push(line);
    bytes += size;
  }
  return { lines, shown: lines.length, bytes };
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

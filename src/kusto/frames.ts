import { isSafeNumber, parse as parseLossless } from 'lossless-json';

/**
 * Parses Kusto REST responses (v2 frames for queries, v1 tables for
 * commands) ourselves rather than through the SDK's dataset classes: the SDK
 * throws away every row when a response carries a partial failure (which is
 * exactly how truncation is reported), and JSON.parse would silently round
 * longs beyond 2^53.
 */

export interface KustoColumn {
  name: string;
  type: string;
}

export interface KustoTable {
  name: string;
  kind?: string;
  columns: KustoColumn[];
  rows: unknown[][];
}

export interface KustoInlineError {
  code: string;
  message: string;
}

export interface QueryStats {
  executionTimeSeconds?: number;
  cpuTotal?: string;
  memoryPeakPerNodeBytes?: number;
  extentsScanned?: number;
  extentsTotal?: number;
  rowsScanned?: number;
  rowsTotal?: number;
}

export interface QueryResult {
  primary: KustoTable[];
  /** Errors reported inside a 200 response (truncation, partial query failures). */
  partialErrors: KustoInlineError[];
  stats?: QueryStats;
}

const LONG_DIGITS = /[[,:]\s*-?\d{16,}\s*[,\]}]/;

/** JSON.parse, except that integers beyond 2^53 are kept as their exact digit strings. */
export function parseKustoJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return parseLossless(text, undefined, (digits: string) => (isSafeNumber(digits) ? Number(digits) : /^-?\d+$/.test(digits) ? digits : Number(digits)));
}

type Json = Record<string, unknown>;
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function oneApiErrors(value: unknown): KustoInlineError[] {
  return asArray(value).map((item) => {
    const error = ((item as Json)?.error ?? item) as Json;
    return {
      code: String(error.code ?? 'Unknown'),
      message: String(error['@message'] ?? error.message ?? 'Unknown error'),
    };
  });
}

function toTable(frame: Json): KustoTable {
  return {
    name: String(frame.TableName ?? ''),
    kind: frame.TableKind === undefined ? undefined : String(frame.TableKind),
    columns: asArray(frame.Columns).map((column) => ({
      name: String((column as Json).ColumnName),
      type: String((column as Json).ColumnType ?? (column as Json).DataType ?? 'dynamic'),
    })),
    rows: asArray(frame.Rows) as unknown[][],
  };
}

function statsFrom(completion: KustoTable): QueryStats | undefined {
  const eventIndex = completion.columns.findIndex((c) => c.name === 'EventTypeName');
  const payloadIndex = completion.columns.findIndex((c) => c.name === 'Payload');
  const row = completion.rows.find((r) => Array.isArray(r) && r[eventIndex] === 'QueryResourceConsumption');
  if (!row) return undefined;
  let payload: Json;
  try {
    payload = (typeof row[payloadIndex] === 'string' ? JSON.parse(row[payloadIndex] as string) : row[payloadIndex]) as Json;
  } catch {
    return undefined;
  }
  const usage = (payload.resource_usage ?? {}) as Json;
  const input = (payload.input_dataset_statistics ?? {}) as { extents?: Json; rows?: Json };
  const num = (value: unknown) => (typeof value === 'number' ? value : undefined);
  return {
    executionTimeSeconds: num(payload.ExecutionTime),
    cpuTotal: (usage.cpu as Json | undefined)?.['total cpu'] as string | undefined,
    memoryPeakPerNodeBytes: num((usage.memory as Json | undefined)?.peak_per_node),
    extentsScanned: num(input.extents?.scanned),
    extentsTotal: num(input.extents?.total),
    rowsScanned: num(input.rows?.scanned),
    rowsTotal: num(input.rows?.total),
  };
}

/** v2 frames → primary result tables, inline errors and statistics. */
export function parseV2(body: unknown): QueryResult {
  const frames = asArray(body) as Json[];
  const primary: KustoTable[] = [];
  const partialErrors: KustoInlineError[] = [];
  let stats: QueryStats | undefined;
  for (const frame of frames) {
    if (frame.FrameType === 'DataTable') {
      const table = toTable(frame);
      if (table.kind === 'PrimaryResult') {
        // An error row is an object instead of an array of values.
        const errorRows = table.rows.filter((row) => !Array.isArray(row));
        for (const row of errorRows) partialErrors.push(...oneApiErrors((row as Json).OneApiErrors));
        if (errorRows.length > 0) table.rows = table.rows.filter((row) => Array.isArray(row));
        primary.push(table);
      } else if (table.kind === 'QueryCompletionInformation') {
        stats = statsFrom(table);
      }
    } else if (frame.FrameType === 'DataSetCompletion' && frame.HasErrors) {
      for (const error of oneApiErrors(frame.OneApiErrors)) {
        if (!partialErrors.some((known) => known.message === error.message)) partialErrors.push(error);
      }
    }
  }
  return { primary, partialErrors, ...(stats && { stats }) };
}

/** v1 `{"Tables":[…]}` → tables. */
export function parseV1(body: unknown): KustoTable[] {
  return asArray((body as Json)?.Tables).map((table) => toTable(table as Json));
}

/** Rows of a table as objects keyed by column name (for the small results of our own commands). */
export function rowObjects(table: KustoTable | undefined): Array<Record<string, unknown>> {
  if (!table) return [];
  return table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column.name, row[i]])));
}

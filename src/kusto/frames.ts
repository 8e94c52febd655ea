import { isSafeNumber, parse as parseLossless } from 'lossless-json';

/**
 * Parses Kusto REST responses (v2 frames for queries, v1 tables for
 * commands) ourselves rather than through the SDK's dataset classes: the SDK
 * throws away every row when a response carries a partial failure (which is
 * exactly how truncation is reported), and JSON.parse would silently round
 * longs beyond 2^53.
 *
 * Both v2 encodings are read: whole `DataTable` frames (what we ask for) and
 * fragmented tables (`TableHeader`, `TableFragment`, `TableCompletion`, which
 * the service sends when fragmentation or progressive results are on). Any
 * other frame type is an error, never silently dropped.
 */

export interface KustoColumn {
  name: string;
  type: string;
}

export interface KustoInlineError {
  code: string;
  message: string;
  /** `@type`, e.g. `Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException`. */
  type?: string;
  /** `StatusCode` of a QueryCompletionInformation row (HRESULT, signed), e.g. -2133196797 for 0x80DA0003. */
  statusCode?: number;
}

export interface KustoTable {
  name: string;
  kind?: string;
  columns: KustoColumn[];
  rows: unknown[][];
  /** Errors reported in this table: error rows, or `OneApiErrors` of its TableCompletion. */
  errors?: KustoInlineError[];
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
  /** Errors reported inside a 200 response (truncation, partial query failures), deduplicated. */
  partialErrors: KustoInlineError[];
  stats?: QueryStats;
  cancelled?: boolean;
}

/** 0x80DA0003 (E_QUERY_RESULT_SET_TOO_LARGE) as the signed 32-bit status code Kusto reports. */
export const E_QUERY_RESULT_SET_TOO_LARGE = 0x80da0003 | 0;

/**
 * Whether an error says the engine cut the result, by code rather than by
 * the wording of the message: the `LimitsExceeded` code or `@type`, the
 * 0x80DA0003 status, or the `QueryLimitsExceeded` completion event.
 */
export function isTruncation(error: KustoInlineError): boolean {
  return (
    /^(Query)?LimitsExceeded$/i.test(error.code) ||
    /LimitsExceeded/.test(error.type ?? '') ||
    error.statusCode === E_QUERY_RESULT_SET_TOO_LARGE ||
    /\b80DA0003\b|E_QUERY_RESULT_SET_TOO_LARGE/i.test(error.message)
  );
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
      ...(typeof error['@type'] === 'string' && { type: error['@type'] }),
    };
  });
}

/** v1 `Exceptions` entries: text whose first line is the message. */
function v1Exceptions(value: unknown): KustoInlineError[] {
  return asArray(value).map((item) => {
    const message = String(item).split(/\r?\n/)[0]?.trim() ?? '';
    const type = /^\[0\]([\w.]+Exception):/m.exec(String(item))?.[1];
    return { code: /LimitsExceeded/.test(type ?? '') ? 'LimitsExceeded' : 'Unknown', message, ...(type && { type }) };
  });
}

function columnsOf(frame: Json): KustoColumn[] {
  return asArray(frame.Columns).map((column) => ({
    name: String((column as Json).ColumnName),
    type: String((column as Json).ColumnType ?? (column as Json).DataType ?? 'dynamic'),
  }));
}

/** Rows with error rows (objects instead of arrays of values) moved to `errors`. */
function splitRows(rows: unknown[], errors: KustoInlineError[]): unknown[][] {
  const values: unknown[][] = [];
  for (const row of rows) {
    if (Array.isArray(row)) values.push(row);
    else if (row && typeof row === 'object') errors.push(...oneApiErrors((row as Json).OneApiErrors), ...v1Exceptions((row as Json).Exceptions));
  }
  return values;
}

function statsFrom(completion: KustoTable): QueryStats | undefined {
  const eventIndex = completion.columns.findIndex((c) => c.name === 'EventTypeName');
  const payloadIndex = completion.columns.findIndex((c) => c.name === 'Payload');
  const row = completion.rows.find((r) => r[eventIndex] === 'QueryResourceConsumption');
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

/**
 * Errors in QueryCompletionInformation: rows of level 2 (Error) or lower. With
 * `deferpartialqueryfailures` this is the only place truncation is reported.
 */
function completionErrors(table: KustoTable): KustoInlineError[] {
  const at = (name: string) => table.columns.findIndex((c) => c.name === name);
  const [level, statusCode, statusName, eventName, payload] = ['Level', 'StatusCode', 'StatusCodeName', 'EventTypeName', 'Payload'].map(at) as [number, number, number, number, number];
  const errors: KustoInlineError[] = [];
  for (const row of table.rows) {
    const severity = Number(row[level]);
    if (!Number.isFinite(severity) || severity > 2) continue;
    let message = String(row[statusName] ?? '');
    try {
      const parsed = (typeof row[payload] === 'string' ? JSON.parse(row[payload] as string) : row[payload]) as Json | null;
      if (typeof parsed?.Text === 'string' && parsed.Text) message = parsed.Text;
    } catch {
      // A payload that is not JSON: keep the status name.
    }
    const status = Number(row[statusCode]);
    errors.push({ code: String(row[eventName] ?? 'QueryCompletionError'), message, ...(Number.isFinite(status) && { statusCode: status }) });
  }
  return errors;
}

function addUnique(into: KustoInlineError[], errors: readonly KustoInlineError[]): void {
  for (const error of errors) {
    const duplicate = into.some((known) => known.message === error.message || (isTruncation(known) && isTruncation(error)));
    if (!duplicate) into.push(error);
  }
}

/** v2 frames → primary result tables, inline errors and statistics. Throws on a malformed response. */
export function parseV2(body: unknown): QueryResult {
  if (!Array.isArray(body)) throw new Error('Unexpected Kusto response: not a v2 frame array');
  const primary: KustoTable[] = [];
  const fragmented = new Map<unknown, KustoTable>();
  const partialErrors: KustoInlineError[] = [];
  const completionInfo: KustoInlineError[] = [];
  let stats: QueryStats | undefined;
  let completed = false;
  let cancelled = false;
  const accept = (table: KustoTable) => {
    if (table.kind === 'PrimaryResult') primary.push(table);
    else if (table.kind === 'QueryCompletionInformation') {
      stats = statsFrom(table);
      completionInfo.push(...completionErrors(table));
    }
  };
  for (const frame of body as Json[]) {
    switch (frame?.FrameType) {
      case 'DataSetHeader':
        if (typeof frame.Version === 'string' && !frame.Version.startsWith('v2')) throw new Error(`Unexpected Kusto response version ${frame.Version}`);
        break;
      case 'DataTable': {
        const errors: KustoInlineError[] = [];
        const table: KustoTable = { name: String(frame.TableName ?? ''), kind: String(frame.TableKind ?? ''), columns: columnsOf(frame), rows: splitRows(asArray(frame.Rows), errors) };
        if (errors.length) table.errors = errors;
        accept(table);
        break;
      }
      case 'TableHeader':
        fragmented.set(frame.TableId, { name: String(frame.TableName ?? ''), kind: String(frame.TableKind ?? ''), columns: columnsOf(frame), rows: [] });
        break;
      case 'TableFragment': {
        const table = fragmented.get(frame.TableId);
        if (!table) throw new Error(`Unexpected Kusto response: TableFragment for unknown table ${String(frame.TableId)}`);
        const errors = table.errors ?? [];
        const rows = splitRows(asArray(frame.Rows), errors);
        if (errors.length) table.errors = errors;
        // Progressive results may replace what was sent so far.
        table.rows = frame.TableFragmentType === 'DataReplace' ? rows : table.rows.concat(rows);
        break;
      }
      case 'TableProgress':
        break;
      case 'TableCompletion': {
        const table = fragmented.get(frame.TableId);
        if (!table) throw new Error(`Unexpected Kusto response: TableCompletion for unknown table ${String(frame.TableId)}`);
        const errors = oneApiErrors(frame.OneApiErrors);
        if (errors.length) table.errors = [...(table.errors ?? []), ...errors];
        fragmented.delete(frame.TableId);
        accept(table);
        break;
      }
      case 'DataSetCompletion':
        completed = true;
        cancelled = frame.Cancelled === true;
        if (frame.HasErrors) addUnique(partialErrors, oneApiErrors(frame.OneApiErrors));
        break;
      default:
        throw new Error(`Unexpected Kusto response: frame type ${JSON.stringify(frame?.FrameType ?? null)} is not understood`);
    }
  }
  if (!completed) throw new Error('Unexpected Kusto response: it ended without a DataSetCompletion frame');
  if (fragmented.size > 0) throw new Error('Unexpected Kusto response: a fragmented table has no TableCompletion');
  for (const table of primary) addUnique(partialErrors, table.errors ?? []);
  addUnique(partialErrors, completionInfo);
  return { primary, partialErrors, ...(stats && { stats }), ...(cancelled && { cancelled }) };
}

export interface V1Result {
  tables: KustoTable[];
  errors: KustoInlineError[];
}

/** v1 `{"Tables":[…]}` → tables, with error rows and top-level `Exceptions` as errors. */
export function parseV1(body: unknown): V1Result {
  const errors: KustoInlineError[] = [];
  const tables = asArray((body as Json)?.Tables).map((raw) => {
    const frame = raw as Json;
    return { name: String(frame.TableName ?? ''), columns: columnsOf(frame), rows: splitRows(asArray(frame.Rows), errors) };
  });
  addUnique(errors, v1Exceptions((body as Json)?.Exceptions));
  return { tables, errors };
}

/** Rows of a table as objects keyed by column name (for the small results of our own commands). */
export function rowObjects(table: KustoTable | undefined): Array<Record<string, unknown>> {
  if (!table) return [];
  return table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column.name, row[i]])));
}

/**
 * Response bodies: v2 frames for `/v2/rest/query` and v1 tables for
 * `/v1/rest/mgmt` and `/v1/rest/query`, including the truncation limits,
 * which cut rows and report an inline partial failure like the service does.
 */
import type { ResultTable } from './kql-engine.ts';
import { formatDatetime, formatReal, formatTimespan, stringifyJson, V1_DATA_TYPE, type KqlType, type KqlValue, type Row } from './kql-types.ts';
import { truncationError, type OneApiError, type RequestIds } from './one-api.ts';

/** JSON-ready value in Kusto's encoding; bigint stays bigint and is written as digits by stringifyJson. */
export function encodeValue(value: KqlValue, type: KqlType, dynamicAsString = false): unknown {
  if (value === null || value === undefined) return null;
  const encode = encoderFor(type, dynamicAsString);
  return encode ? encode(value) : value;
}

/** The per-type conversion to wire format, or undefined when the JS value is already the wire value. */
function encoderFor(type: KqlType, dynamicAsString: boolean): ((v: KqlValue) => unknown) | undefined {
  switch (type) {
    case 'datetime':
      return (v) => formatDatetime(v as number);
    case 'timespan':
      return (v) => formatTimespan(v as number);
    case 'real':
      // NaN and infinities are not JSON numbers; Kusto's JSON writer spells them out.
      return (v) => (Number.isFinite(v as number) ? v : formatReal(v as number));
    case 'dynamic':
      return dynamicAsString ? (v) => (typeof v === 'object' ? stringifyJson(v) : v) : undefined;
    default:
      return undefined;
  }
}

/** Serializes one row per call, with the column conversions resolved once. */
export function rowSerializer(types: KqlType[], dynamicAsString = false): (row: Row) => string {
  const encoders = types.map((t) => encoderFor(t, dynamicAsString));
  if (encoders.every((e) => e === undefined)) return (row) => stringifyJson(row);
  const width = types.length;
  return (row) => {
    const out = new Array<unknown>(width);
    for (let i = 0; i < width; i++) {
      const v = row[i] as KqlValue;
      const encode = encoders[i];
      out[i] = v === null || v === undefined || !encode ? (v ?? null) : encode(v);
    }
    return stringifyJson(out);
  };
}

export interface Limits {
  /** Lowest of truncationmaxrecords / query_take_max_records; Infinity with notruncation. */
  maxRecords: number;
  /** truncationmaxsize in bytes of serialized rows; Infinity with notruncation. */
  maxBytes: number;
}

export interface SerializedTable {
  table: ResultTable;
  /** Each row already serialized as JSON text. */
  rowsJson: string[];
}

export interface Truncation {
  kind: 'records' | 'size';
  limit: number;
  /** Index of the table in which rows were cut. */
  tableIndex: number;
}

/**
 * Serializes the primary results row by row, stopping at the record or byte
 * limit (counted across all result tables, as the service limits the whole result set).
 */
export function serializeResults(tables: ResultTable[], limits: Limits): { tables: SerializedTable[]; truncation?: Truncation } {
  let records = 0;
  let bytes = 0;
  const out: SerializedTable[] = [];
  let truncation: Truncation | undefined;
  for (let t = 0; t < tables.length; t++) {
    const table = tables[t] as ResultTable;
    const serialize = rowSerializer(table.columns.map((c) => c.type));
    const rowsJson: string[] = [];
    for (const row of table.rows) {
      if (truncation) break;
      if (records >= limits.maxRecords) {
        truncation = { kind: 'records', limit: limits.maxRecords, tableIndex: t };
        break;
      }
      const json = serialize(row);
      const size = Buffer.byteLength(json);
      if (bytes + size > limits.maxBytes) {
        truncation = { kind: 'size', limit: limits.maxBytes, tableIndex: t };
        break;
      }
      bytes += size;
      records++;
      rowsJson.push(json);
    }
    out.push({ table, rowsJson });
  }
  return { tables: out, truncation };
}

export type ErrorPlacement = 'in_data' | 'end_of_table' | 'end_of_dataset';

export interface V2Response {
  ids: RequestIds;
  results: SerializedTable[];
  truncation?: Truncation;
  /** A failure reported inline (cancellation); truncation builds its own. */
  partialFailure?: OneApiError;
  cancelled?: boolean;
  placement: ErrorPlacement;
  /**
   * `deferpartialqueryfailures`: a truncation is then reported only in
   * QueryCompletionInformation (no error row, HasErrors false), as the
   * service does (recorded: python/query_partial_results_defer_is_true.json).
   */
  deferPartialFailures?: boolean;
  visualization?: { visualization: string; properties: Record<string, KqlValue> };
  stats: { executionMs: number; rowsTotal: number; rowsScanned: number; peakMemory: number };
}

const QCI_COLUMNS: Array<[string, KqlType]> = [
  ['Timestamp', 'datetime'], ['ClientRequestId', 'string'], ['ActivityId', 'guid'], ['SubActivityId', 'guid'],
  ['ParentActivityId', 'guid'], ['Level', 'int'], ['LevelName', 'string'], ['StatusCode', 'int'],
  ['StatusCodeName', 'string'], ['EventType', 'int'], ['EventTypeName', 'string'], ['Payload', 'string'],
];

/** 0x80DA0003 as the signed 32-bit status code Kusto reports. */
const E_QUERY_RESULT_SET_TOO_LARGE = 0x80da0003 | 0;

function columnsJson(columns: Array<{ name: string; type: KqlType }>): string {
  return JSON.stringify(columns.map((c) => ({ ColumnName: c.name, ColumnType: c.type })));
}

function dataTable(id: number, kind: string, name: string, columns: string, rows: string[]): string {
  return `{"FrameType":"DataTable","TableId":${id},"TableKind":"${kind}","TableName":${JSON.stringify(name)},"Columns":${columns},"Rows":[${rows.join(',')}]}`;
}

function visualizationValue(v: V2Response['visualization']): string {
  const p = v?.properties ?? {};
  return JSON.stringify({
    Visualization: v?.visualization ?? null,
    Title: p.title ?? null,
    XColumn: p.xcolumn ?? null,
    Series: p.series ?? null,
    YColumns: p.ycolumns ?? null,
    AnomalyColumns: null,
    XTitle: p.xtitle ?? null,
    YTitle: p.ytitle ?? null,
    XAxis: p.xaxis ?? null,
    YAxis: p.yaxis ?? null,
    Legend: p.legend ?? null,
    YSplit: p.ysplit ?? null,
    Accumulate: p.accumulate ?? false,
    IsQuerySorted: false,
    Kind: p.kind ?? null,
    Ymin: p.ymin ?? 'NaN',
    Ymax: p.ymax ?? 'NaN',
    Xmin: null,
    Xmax: null,
  });
}

function resourceConsumption(stats: V2Response['stats'], rowCount: number, bytes: number): string {
  const cpu = formatTimespan(stats.executionMs);
  const extents = Math.max(1, Math.ceil(stats.rowsTotal / 100_000));
  return JSON.stringify({
    ExecutionTime: stats.executionMs / 1000,
    resource_usage: {
      cache: { shards: { hot: { hitbytes: bytes, missbytes: 0, retrievebytes: 0 }, cold: { hitbytes: 0, missbytes: 0, retrievebytes: 0 }, bypassbytes: 0 } },
      cpu: { user: cpu, kernel: '00:00:00', 'total cpu': cpu, breakdown: { 'query execution': cpu, 'query planning': '00:00:00' } },
      memory: { peak_per_node: stats.peakMemory },
      network: { inter_cluster_total_bytes: bytes, cross_cluster_total_bytes: 0 },
    },
    input_dataset_statistics: {
      extents: { total: extents, scanned: stats.rowsScanned > 0 ? extents : 0, scanned_min_datetime: '0001-01-01T00:00:00.0000000Z', scanned_max_datetime: '0001-01-01T00:00:00.0000000Z' },
      rows: { total: stats.rowsTotal, scanned: stats.rowsScanned },
      rowstores: { scanned_rows: 0, scanned_values_size: 0 },
      shards: { queries_generic: stats.rowsScanned > 0 ? 1 : 0, queries_specialized: 0 },
    },
    dataset_statistics: [{ table_row_count: rowCount, table_size: bytes }],
    cross_cluster_resource_usage: {},
  });
}

/** The complete v2 body (non-progressive), frames in the service's order. */
export function buildV2Body(r: V2Response): string {
  const ids = r.ids;
  const now = formatDatetime(Date.now());
  const frames: string[] = ['{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":false,"ErrorReportingPlacement":"InData"}'];
  frames.push(dataTable(0, 'QueryProperties', '@ExtendedProperties', columnsJson([{ name: 'TableId', type: 'int' }, { name: 'Key', type: 'string' }, { name: 'Value', type: 'dynamic' }]),
    [`[1,"Visualization",${JSON.stringify(visualizationValue(r.visualization))}]`]));
  const failure = r.partialFailure ?? (r.truncation ? truncationError(r.truncation.kind, r.truncation.limit, ids) : undefined);
  const reported = r.deferPartialFailures && !r.partialFailure ? undefined : failure;
  const failedTable = r.truncation?.tableIndex ?? Math.max(0, r.results.length - 1);
  let rowCount = 0;
  let bytes = 0;
  r.results.forEach((result, i) => {
    const rows = result.rowsJson;
    rowCount += rows.length;
    for (const row of rows) bytes += row.length;
    const withError = reported && i === failedTable && r.placement !== 'end_of_dataset' ? [...rows, JSON.stringify({ OneApiErrors: [reported] })] : rows;
    frames.push(dataTable(i + 1, 'PrimaryResult', result.table.name, columnsJson(result.table.columns), withError));
  });
  const base = (level: number, levelName: string, status: number, statusName: string, event: number, eventName: string, payload: string) =>
    stringifyJson([now, ids.clientRequestId, ids.activityId, ids.activityId, ids.activityId, level, levelName, status, statusName, event, eventName, payload]);
  const qci = [
    r.truncation && !r.partialFailure
      ? base(2, 'Error', E_QUERY_RESULT_SET_TOO_LARGE, `Query result set too large (E_QUERY_RESULT_SET_TOO_LARGE). (${E_QUERY_RESULT_SET_TOO_LARGE})`, 1, 'QueryLimitsExceeded',
          JSON.stringify({ Count: 1, Text: failure?.error['@message'] }))
      : failure
        ? base(2, 'Error', -1, 'E_QUERY_CANCELLED', 4, 'QueryInfo', JSON.stringify({ Count: 1, Text: failure.error['@message'] }))
        : base(4, 'Info', 0, 'S_OK (0)', 4, 'QueryInfo', JSON.stringify({ Count: 1, Text: 'Query completed successfully' })),
    base(4, 'Info', 0, 'S_OK (0)', 5, 'WorkloadGroup', JSON.stringify({ Count: 1, Text: 'default' })),
    base(4, 'Info', 0, 'S_OK (0)', 0, 'QueryResourceConsumption', resourceConsumption(r.stats, rowCount, bytes)),
  ];
  frames.push(dataTable(r.results.length + 1, 'QueryCompletionInformation', 'QueryCompletionInformation', columnsJson(QCI_COLUMNS.map(([name, type]) => ({ name, type }))), qci));
  const completion: Record<string, unknown> = { FrameType: 'DataSetCompletion', HasErrors: Boolean(reported), Cancelled: Boolean(r.cancelled) };
  if (reported) completion.OneApiErrors = [reported];
  frames.push(JSON.stringify(completion));
  return `[${frames.join(',\r\n')}]`;
}

/** One v1 table, as `/v1/rest/mgmt` returns for a command. */
export function v1Table(name: string, table: { columns: Array<{ name: string; type: KqlType }>; rows: Row[] }): string {
  const columns = JSON.stringify(table.columns.map((c) => ({ ColumnName: c.name, DataType: V1_DATA_TYPE[c.type], ColumnType: c.type })));
  const serialize = rowSerializer(table.columns.map((c) => c.type), true);
  const rows = table.rows.map(serialize);
  return `{"TableName":${JSON.stringify(name)},"Columns":${columns},"Rows":[${rows.join(',')}]}`;
}

export function v1Body(tables: string[]): string {
  return `{"Tables":[${tables.join(',')}]}`;
}

/**
 * `/v1/rest/query`: primary results, `@ExtendedProperties`, `QueryStatus`, then the
 * `TableOfContents` that tells the client which table is which.
 */
export function buildV1QueryBody(ids: RequestIds, results: SerializedTable[], failure: OneApiError | undefined): string {
  const tables: string[] = [];
  const toc: Row[] = [];
  results.forEach((r, i) => {
    const columns = JSON.stringify(r.table.columns.map((c) => ({ ColumnName: c.name, DataType: V1_DATA_TYPE[c.type], ColumnType: c.type })));
    tables.push(`{"TableName":"Table_${i}","Columns":${columns},"Rows":[${r.rowsJson.join(',')}]}`);
    toc.push([i, 'QueryResult', r.table.name, ids.activityId, '']);
  });
  const n = results.length;
  tables.push(v1Table(`Table_${n}`, { columns: [{ name: 'Value', type: 'string' }], rows: [[JSON.stringify({ Visualization: null })]] }));
  toc.push([n, 'QueryProperties', '@ExtendedProperties', ids.activityId, '']);
  tables.push(v1Table(`Table_${n + 1}`, {
    columns: [
      { name: 'Timestamp', type: 'datetime' }, { name: 'Severity', type: 'int' }, { name: 'SeverityName', type: 'string' },
      { name: 'StatusCode', type: 'int' }, { name: 'StatusDescription', type: 'string' }, { name: 'Count', type: 'int' },
      { name: 'RequestId', type: 'guid' }, { name: 'ActivityId', type: 'guid' }, { name: 'SubActivityId', type: 'guid' },
      { name: 'ClientActivityId', type: 'string' },
    ],
    rows: [[Date.now(), failure ? 2 : 4, failure ? 'Error' : 'Info', failure ? E_QUERY_RESULT_SET_TOO_LARGE : 0,
      failure ? failure.error['@message'] : 'Query completed successfully', 1, ids.activityId, ids.activityId, ids.activityId, ids.clientRequestId]],
  }));
  toc.push([n + 1, 'QueryStatus', 'QueryStatus', ids.activityId, '']);
  tables.push(v1Table(`Table_${n + 2}`, {
    columns: [{ name: 'Ordinal', type: 'long' }, { name: 'Kind', type: 'string' }, { name: 'Name', type: 'string' }, { name: 'Id', type: 'string' }, { name: 'PrettyName', type: 'string' }],
    rows: toc,
  }));
  return v1Body(tables);
}

/**
 * The Kusto module of the local Azure emulator: an emulated cluster on
 * `<cluster>.kusto.localhost` with a KQL subset engine and sample data.
 * See README.md for the supported subset and the test API.
 */
export {
  createKustoService,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_RECORDS,
  KUSTO_HOST_SUFFIX,
  principalOf,
  PUBLIC_KUSTO_RESOURCE_ID,
  type AccessDenial,
  type KustoCallerIdentity,
  type KustoEndpoint,
  type KustoFaultKind,
  type KustoFaultOptions,
  type KustoService,
  type KustoServiceOptions,
  type RecordedCancellation,
  type RecordedKustoRequest,
} from './service.ts';
export { KustoCatalog, type ColumnDefinition, type DatabaseDefinition, type TableDefinition } from './catalog.ts';
export { createSampleDatabases, DEFAULT_NOW, PERF_HISTORY_ROWS } from './sample-data.ts';
export { runQuery, type EngineCatalog, type EngineTable, type QueryOutcome, type QueryRequest, type ResultTable } from './kql-engine.ts';
export { KqlError, type KqlErrorKind } from './kql-errors.ts';
export type { ColumnSchema, KqlType, KqlValue, Row } from './kql-types.ts';

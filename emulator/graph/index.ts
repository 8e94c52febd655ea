/**
 * The Microsoft Graph module of the local Azure emulator: `graph.localhost` (and the download
 * host `sharepoint.localhost`) over a sample tenant. See emulator/README.md > Microsoft Graph for
 * what it models and the test API.
 */
export { callerOf, createGraphService, GRAPH_HOST, GRAPH_RESOURCE, GRAPH_SAMPLE_NOW, type GraphCallRecord, type GraphService, type GraphServiceOptions } from './service.ts';
export { createSampleTenant, SAMPLE, SAMPLE_DOMAIN, type SampleTenantOptions } from './sample-tenant.ts';
export { GraphTenant, type TenantData } from './store.ts';
export { MAX_BATCH_REQUESTS, type BatchItemFailure } from './batch.ts';
export { PERMISSIONS, SEARCH_PERMISSIONS, type Operation } from './permissions.ts';
export { DOWNLOAD_HOST } from './files.ts';
export type { ThrottleOptions, EarlyRetry } from './throttling.ts';

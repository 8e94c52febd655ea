import { z } from 'zod';
import { positiveInt } from '../../config-fields.ts';
import { parseClusters, type KustoCluster } from '../../kusto/clusters.ts';
import { defineToolsetSettings } from '../define-toolset.ts';

/** Functions' front end gives up on HTTP requests after 230 s; a query must finish (or be cancelled) before. */
export const MAX_KUSTO_TIMEOUT_SECONDS = 220;

export interface KustoSettings {
  clusters: KustoCluster[];
  defaultCluster: string | undefined;
  /** Hard cap on `maxRows`. */
  maxRows: number;
  /** Budget for the rendered rows of one result, in bytes. */
  maxResultBytes: number;
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  schemaCacheTtlMs: number;
}

/**
 * The KUSTO_* settings (src/config.ts composes them). KUSTO_IDENTITY is not
 * here: it is one of the downstream identities (src/azure/downstream-settings.ts),
 * which decide together whether the on-behalf-of exchange is set up.
 */
export const kustoSettings = defineToolsetSettings({
  shape: {
    KUSTO_CLUSTERS: z.string().optional(),
    KUSTO_DEFAULT_CLUSTER: z.string().optional(),
    KUSTO_MAX_ROWS: positiveInt(1000, 10_000),
    KUSTO_MAX_RESULT_BYTES: positiveInt(65_536, 4 * 1_048_576),
    // 0 = not set: the default then follows the maximum down (min(60, max)).
    KUSTO_DEFAULT_TIMEOUT_SECONDS: positiveInt(0, MAX_KUSTO_TIMEOUT_SECONDS),
    KUSTO_MAX_TIMEOUT_SECONDS: positiveInt(180, MAX_KUSTO_TIMEOUT_SECONDS),
    KUSTO_SCHEMA_CACHE_SECONDS: positiveInt(600, 86_400),
  },
  check(values, ctx) {
    const { clusters, problems } = parseClusters(values.KUSTO_CLUSTERS);
    for (const problem of problems) ctx.addIssue({ code: 'custom', path: ['KUSTO_CLUSTERS'], message: problem });
    const defaultCluster = values.KUSTO_DEFAULT_CLUSTER?.toLowerCase();
    if (defaultCluster && !clusters.some((cluster) => cluster.name === defaultCluster)) {
      ctx.addIssue({ code: 'custom', path: ['KUSTO_DEFAULT_CLUSTER'], message: `must name a cluster in KUSTO_CLUSTERS (${clusters.map((c) => c.name).join(', ') || 'none'})` });
    }
    if (values.KUSTO_DEFAULT_TIMEOUT_SECONDS > values.KUSTO_MAX_TIMEOUT_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['KUSTO_DEFAULT_TIMEOUT_SECONDS'], message: 'must not exceed KUSTO_MAX_TIMEOUT_SECONDS' });
    }
  },
  from: (values): KustoSettings => ({
    clusters: parseClusters(values.KUSTO_CLUSTERS).clusters,
    defaultCluster: values.KUSTO_DEFAULT_CLUSTER?.toLowerCase(),
    maxRows: values.KUSTO_MAX_ROWS,
    maxResultBytes: values.KUSTO_MAX_RESULT_BYTES,
    defaultTimeoutSeconds: values.KUSTO_DEFAULT_TIMEOUT_SECONDS || Math.min(60, values.KUSTO_MAX_TIMEOUT_SECONDS),
    maxTimeoutSeconds: values.KUSTO_MAX_TIMEOUT_SECONDS,
    schemaCacheTtlMs: values.KUSTO_SCHEMA_CACHE_SECONDS * 1000,
  }),
});

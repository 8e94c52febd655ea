import { z } from 'zod';
import { clientText } from '../../audit/text.ts';
import type { CallerIdentity } from '../../core/caller.ts';
import { resolveCluster, type KustoCluster } from '../../kusto/clusters.ts';
import { kustoErrorResult } from '../../kusto/errors.ts';
import type { KustoServices } from '../../kusto/services.ts';
import { toolDefiner, toolError, type ToolContext, type ToolResult } from '../../tools/define-tool.ts';

/** `defineTool` for the Kusto tools: toolset `kusto`, the Kusto services in `ctx.services`. */
export const defineKustoTool = toolDefiner<KustoServices, 'kusto'>();
export type KustoToolContext = ToolContext<KustoServices>;

/** Argument shapes shared by the Kusto tools. */
export const clusterArgument = z
  .string()
  .max(300)
  .optional()
  .describe('Cluster name or URL from kusto_list_clusters. Omit for the default cluster.');

export const databaseArgument = z
  .string()
  .min(1)
  .max(1024)
  .optional()
  .describe("Database name (exact, from kusto_list_databases). Omit to use the cluster's default database.");

export const tableArgument = z.string().min(1).max(1024).describe('Table name, exactly as kusto_list_tables returns it.');

export interface KustoTarget {
  kusto: KustoServices;
  cluster: KustoCluster;
  database: string;
  /** `kusto:<cluster url>/<database>` for the audit log. */
  target: string;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; result: ToolResult };

/** Resolves cluster (allow-list) and database (argument or the cluster default). */
export function resolveTarget(ctx: KustoToolContext, args: { cluster?: string | undefined; database?: string | undefined }, needDatabase = true): Resolved<KustoTarget> {
  const kusto = ctx.services;
  const resolution = resolveCluster(kusto.settings.clusters, kusto.settings.defaultCluster, args.cluster);
  if (!resolution.ok) {
    return {
      ok: false,
      result: toolError({ message: resolution.message, nextStep: 'Call kusto_list_clusters and pass one of its names.', errorClass: 'cluster_not_allowed' }),
    };
  }
  const cluster = resolution.cluster;
  const database = args.database ?? cluster.defaultDatabase ?? '';
  if (needDatabase && !database) {
    return {
      ok: false,
      result: toolError({
        message: `Cluster "${cluster.name}" has no default database, and no database was given.`,
        nextStep: `Call kusto_list_databases for cluster "${cluster.name}" and pass a database.`,
        errorClass: 'invalid_arguments',
        target: `kusto:${cluster.url}`,
      }),
    };
  }
  return { ok: true, value: { kusto, cluster, database, target: `kusto:${cluster.url}${database ? `/${database}` : ''}` } };
}

/**
 * Resolves the target, runs `work`, and turns any Kusto failure into an
 * actionable error result: the frame every Kusto tool shares.
 */
export async function withTarget(
  ctx: KustoToolContext,
  args: { cluster?: string | undefined; database?: string | undefined },
  work: (target: KustoTarget) => Promise<ToolResult>,
  needDatabase = true,
): Promise<ToolResult> {
  const resolved = resolveTarget(ctx, args, needDatabase);
  if (!resolved.ok) return resolved.result;
  try {
    return await work(resolved.value);
  } catch (error) {
    return kustoErrorResult(error, { target: resolved.value.target, database: resolved.value.database });
  }
}

/** Who and what, in `request_description`, so Kusto's own `.show queries` attributes the call. */
export function requestDescription(tool: string, caller: CallerIdentity, requestId: string, traceId?: string): string {
  const who = caller.upn ?? caller.name ?? caller.objectId ?? `anonymous (${caller.authMode})`;
  return clientText(`mcp tool=${tool} caller=${who} request=${requestId}${traceId ? ` trace=${traceId}` : ''}`, 500);
}

/** Tools import it from their module's common file, with the rest of their frame. */
export { jsonResult } from '../../tools/define-tool.ts';

import { graphFailure, type GraphErrorContext } from '../../graph/graph-errors.ts';
import { toolDefiner, toolError, type ToolContext, type ToolResult } from '../../tools/define-tool.ts';
import { NoGraphUserError, type GraphServices, type GraphSession } from './services.ts';
import type { GraphModuleSettings } from './settings.ts';

/** The Graph toolsets: reading, sending (messages, mail, events) and administering teams, granted separately. */
export type GraphToolsetId = 'graph' | 'graph.send' | 'graph.admin';

/** `defineTool` for the Graph tools: one of the Graph toolsets, the Graph services in `ctx.services`. */
export const defineGraphTool = toolDefiner<GraphServices, GraphToolsetId>();
export type GraphToolContext = ToolContext<GraphServices>;

/** What a Graph operation needs, as Microsoft's permissions reference names it (docs/tools.md lists these per tool). */
export interface GraphPermissions {
  delegated: readonly string[];
  application: readonly string[];
}

export interface GraphCall {
  /** The resource template for audit and errors, e.g. `/teams/{teamId}/channels` (never a URL with personal data). */
  target: string;
  permissions: GraphPermissions;
  method?: string;
  /** The tool that lists valid ids, named on a 404. */
  findWith?: string;
}

/** What one call may return: the caller's limit, never above GRAPH_MAX_ITEMS. */
export const itemCap = (settings: Pick<GraphModuleSettings, 'maxItems'>, limit: number | undefined) => Math.min(limit ?? settings.maxItems, settings.maxItems);

/** `graph:<template>`: what the audit log records as the call's target. */
export const graphTarget = (template: string) => `graph:${template}`;

/**
 * The frame every Graph tool shares: the caller's session, the work, and
 * any failure (no user, a refused exchange, Graph's error, a throttle, a
 * timeout) as an actionable error result with Graph's request id. A claims
 * challenge is rethrown, so the client is asked to sign in again.
 */
export async function withGraph(ctx: GraphToolContext, call: GraphCall, work: (session: GraphSession) => Promise<ToolResult>): Promise<ToolResult> {
  const identity = ctx.services.identity;
  const target = graphTarget(call.target);
  try {
    const result = await work(await ctx.services.session(ctx.caller));
    return { ...result, audit: { target, downstreamIdentity: identity, ...result.audit } };
  } catch (error) {
    if (error instanceof NoGraphUserError) {
      return toolError({ message: `${error.message} Nothing was sent to Microsoft Graph.`, nextStep: error.nextStep, errorClass: 'unauthenticated', target });
    }
    return graphErrorResult(error, ctx, call);
  }
}

/** A Graph failure as the tool's error result (also for a failed page inside an otherwise good result). */
export function graphErrorResult(error: unknown, ctx: GraphToolContext, call: GraphCall): ToolResult {
  const context: GraphErrorContext = { target: call.target, identity: ctx.services.identity, permissions: call.permissions, ...(call.method && { method: call.method }), ...(call.findWith && { findWith: call.findWith }) };
  const failure = graphFailure(error, context);
  const result = toolError({
    message: failure.message,
    nextStep: failure.nextStep,
    errorClass: failure.errorClass,
    target: graphTarget(failure.target),
    ...(failure.upstreamRequestId && { upstreamRequestId: failure.upstreamRequestId }),
  });
  return { ...result, audit: { ...result.audit, downstreamIdentity: failure.downstreamIdentity } };
}

/** Tools import it from here, with the rest of their frame. */
export { jsonResult } from '../../tools/define-tool.ts';

/** One line of CSV, quoted where needed (ids and names may hold commas or quotes). */
export function csvLine(values: ReadonlyArray<string | number | boolean | undefined | null>): string {
  return values
    .map((value) => {
      const text = value === undefined || value === null ? '' : String(value);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(',');
}

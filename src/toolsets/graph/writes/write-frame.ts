import { graphFailure } from '../../../graph/graph-errors.ts';
import { toolError, type ToolInputRequired, type ToolResult } from '../../../tools/define-tool.ts';
import type { GraphSession } from '../services.ts';
import { graphTarget, withGraph, type GraphCall, type GraphToolContext } from '../common.ts';
import { confirmWrite } from './confirm-write.ts';
import { BodyRefusedError } from './outgoing-body.ts';
import type { WritePreview } from './write-schemas.ts';

/**
 * The frame of every write tool, in this order, so nothing reaches Graph
 * before it may:
 * 1. an operation Graph offers only to signed-in users (channel and chat
 *    messages), asked for while Graph is called app-only: refused, naming
 *    the setting that changes it;
 * 2. the caller's session (withGraph: no user, no write);
 * 3. `prepare`: the exact request and its preview, or a refusal of the
 *    arguments (an owner app-only team creation lacks, a body too long);
 * 4. the confirmation gate (confirm-write.ts);
 * 5. `send`, once. A failure after which the write may have been carried
 *    out (a 5xx or a timeout of the POST, which the Graph client never
 *    re-sends) says so, and how to check, instead of inviting a retry.
 */

export interface Prepared<Request> {
  preview: WritePreview;
  request: Request;
}

export interface WriteSpec<Request> {
  tool: string;
  args: Record<string, unknown>;
  call: GraphCall;
  /** Set for operations Graph allows only delegated: what the refusal calls it ("Posting a channel message"). */
  delegatedOnly?: string;
  prepare(session: GraphSession): Promise<Prepared<Request> | ToolResult>;
  send(session: GraphSession, request: Request): Promise<ToolResult>;
  /** How the user finds out whether a write that may have run did run ("look at the channel in Teams"). */
  howToCheck: string;
}

const isPrepared = <Request>(value: Prepared<Request> | ToolResult): value is Prepared<Request> => 'preview' in value && 'request' in value;

export async function runWrite<Request>(ctx: GraphToolContext, spec: WriteSpec<Request>): Promise<ToolResult | ToolInputRequired> {
  const target = graphTarget(spec.call.target);
  const identity = ctx.services.identity;
  if (spec.delegatedOnly && identity !== 'onBehalfOf') {
    const refused = toolError({
      message: `${spec.delegatedOnly} works only for a signed-in user (delegated); Microsoft Graph does not allow it to an application, and this server calls Graph as its own managed identity (GRAPH_IDENTITY=${identity}). Nothing was sent.`,
      nextStep: `An operator sets GRAPH_IDENTITY=onBehalfOf (with MCP_AUTH_MODE=entra and admin consent for the delegated permission ${spec.call.permissions.delegated.join(' or ')}), so the server posts as the signed-in user.`,
      errorClass: 'delegated_only',
      target,
    });
    return { ...refused, audit: { ...refused.audit, downstreamIdentity: identity } };
  }
  let gated: ToolResult | ToolInputRequired | undefined;
  const result = await withGraph(ctx, spec.call, async (session) => {
    let prepared: Prepared<Request> | ToolResult;
    try {
      prepared = await spec.prepare(session);
    } catch (error) {
      if (!(error instanceof BodyRefusedError)) throw error;
      return toolError({ message: `${error.message} Nothing was sent.`, nextStep: 'Change the content as the message says and call again.', errorClass: 'invalid_arguments', target });
    }
    if (!isPrepared(prepared)) return prepared;
    gated = await confirmWrite(ctx, { tool: spec.tool, args: spec.args, preview: prepared.preview, target: spec.call.target });
    // Answered by the gate below; this placeholder result is never returned.
    if (gated) return { content: [] };
    try {
      return await spec.send(session, prepared.request);
    } catch (error) {
      const failure = graphFailure(error, { target: spec.call.target, identity, method: spec.call.method ?? 'POST', permissions: spec.call.permissions });
      if (!failure.mayHaveRun) throw error;
      return toolError({
        message: `${failure.message} It may or may not have been carried out: the server does not send a write twice.`,
        nextStep: `Do not call ${spec.tool} again yet. ${spec.howToCheck} Send it again only if it is missing.`,
        errorClass: failure.errorClass,
        target,
        ...(failure.upstreamRequestId && { upstreamRequestId: failure.upstreamRequestId }),
      });
    }
  });
  return gated ?? result;
}

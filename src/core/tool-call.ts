import { ClaimsChallengeError, onBehalfOfErrorIn } from '../azure/on-behalf-of.ts';
import type { Auditor } from '../audit/auditor.ts';
import type { ServerFacts, ToolContext, ToolDefinition, ToolInputRequired, ToolResult } from '../tools/define-tool.ts';
import type { ToolCatalog } from '../tools/catalog.ts';
import { CallAbortedError, disconnectSignal } from './abort.ts';
import type { CallContext } from './call-context.ts';
import type { Drain } from './drain.ts';
import type { GrantedTools } from './granted-tools.ts';
import { startHeartbeat, type ProgressSink } from './progress.ts';
import { clientText } from '../audit/text.ts';
import { canElicitForm, type ClientCapabilities } from './client-capabilities.ts';

/** What the SDK tells us about one `tools/call` request, era-neutral. */
export interface ToolCallRequest {
  name: unknown;
  arguments: unknown;
  jsonRpcId: string | number;
  protocolVersion: string;
  /** Present when the client asked for progress (`_meta.progressToken`). */
  progress: ProgressSink | undefined;
  /** Aborted by the SDK when the exchange ends early (client disconnect, transport closed). */
  sdkSignal: AbortSignal;
  inputResponses: Record<string, unknown> | undefined;
  /** The 2026-07-28 envelope's client capabilities (src/core/client-capabilities.ts); absent for 2025-era requests. */
  clientCapabilities?: ClientCapabilities | undefined;
}

export interface ToolCallRunnerOptions {
  catalog: ToolCatalog;
  /** The services of a toolset's tools (src/toolsets/services.ts), looked up when one of them is called. */
  servicesFor(toolset: string): unknown;
  auditor: Auditor;
  server: ServerFacts;
  /** Milliseconds between progress heartbeats while a tool runs (when the client asked for progress). */
  progressIntervalMs: number;
  /** The instance's shutdown: running calls are counted until audited, and stopped when its grace ends. */
  drain?: Drain;
  /** Who may call which tool (MCP_TOOLSET_GRANTS); a call outside the caller's grants is `denied` (`not_granted`). Without it, every enabled tool. */
  granted?: GrantedTools;
}

type WireResult = Omit<ToolResult, 'audit'> | Omit<ToolInputRequired, 'audit'>;

function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
}

const isInputRequired = (result: ToolResult | ToolInputRequired): result is ToolInputRequired =>
  (result as { resultType?: unknown }).resultType === 'input_required';

/** How long a call stopped by a shutdown may take to return its own result (its audit details: target, query text). */
const SHUTDOWN_ANSWER_MS = 250;

/** What the model is told about a call a shutdown stopped; the audit keeps what the tool itself reported. */
function shutdownResult(tool: string, requestId: string, audit: ToolResult['audit'] = {}): ToolResult {
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `${tool} was stopped because this server instance is shutting down (request id ${requestId}); any backend query it had started is cancelled. Next step: call the tool again; another instance will serve it.`,
      },
    ],
    audit: { ...audit, errorClass: 'shutdown' },
  };
}

/**
 * The tool's result; or, once the shutdown grace ends (`stop` runs then, to
 * abort the tool's signal), what the tool returns within SHUTDOWN_ANSWER_MS,
 * re-classed as `shutdown`; else a `shutdown` result without waiting longer:
 * a tool that ignores its signal cannot hold the answer, or its audit event,
 * past the shutdown.
 */
async function untilShutdown(work: Promise<ToolResult | ToolInputRequired>, drain: Drain, stop: () => void, tool: string, requestId: string): Promise<ToolResult | ToolInputRequired> {
  const STOPPED = Symbol('stopped');
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: () => void = () => undefined;
  const late = new Promise<typeof STOPPED>((resolve) => {
    unsubscribe = drain.onStop(() => {
      stop();
      timer = setTimeout(() => resolve(STOPPED), SHUTDOWN_ANSWER_MS);
    });
  });
  try {
    // A tool that lets the abort escape as an error was stopped by the shutdown too, not failing.
    const ended = work.catch((error: unknown) => {
      if (drain.signal.aborted) return shutdownResult(tool, requestId);
      throw error;
    });
    const result = await Promise.race([ended, late]);
    if (result === STOPPED) {
      ended.catch(() => undefined);
      return shutdownResult(tool, requestId);
    }
    // A failure that ends a call after the grace is the shutdown's doing (the tool saw its signal abort).
    if (drain.signal.aborted && !isInputRequired(result) && result.isError) return shutdownResult(tool, requestId, result.audit);
    return result;
  } finally {
    unsubscribe();
    clearTimeout(timer);
  }
}

/**
 * Runs one `tools/call`: finds the tool, validates the arguments with its
 * zod schema, runs it with a context (caller, cancellation, progress), checks
 * its structured output, and audits the call exactly once whatever happens.
 * Tool failures are results with `isError: true`, never protocol errors.
 */
export function createToolCallRunner(options: ToolCallRunnerOptions) {
  const { catalog, auditor, server } = options;

  async function runTool(tool: ToolDefinition, request: ToolCallRequest, call: CallContext): Promise<ToolResult | ToolInputRequired> {
    const parsed = tool.input.safeParse(request.arguments ?? {});
    if (!parsed.success) {
      return {
        isError: true,
        content: [{ type: 'text', text: `Invalid arguments for ${tool.name}: ${describeIssues(parsed.error.issues)}. Fix the arguments to match the tool's input schema and call it again.` }],
        audit: { errorClass: 'invalid_arguments' },
      };
    }
    const heartbeat = request.progress ? startHeartbeat(request.progress, tool.name, options.progressIntervalMs) : undefined;
    const cancellation = call.cancellation(request.jsonRpcId);
    const drain = options.drain;
    // Created with the tool's signal, and aborted when the shutdown grace ends.
    let stopped: AbortController | undefined;
    // The request's and the SDK's signals, re-told as `client_disconnected` (a cancel says `cancelled`, our deadlines `timeout`).
    let disconnect: ReturnType<typeof disconnectSignal> | undefined;
    try {
      let signal: AbortSignal | undefined;
      const context: ToolContext = {
        caller: call.caller,
        requestId: call.requestId,
        traceId: call.traceId,
        protocolVersion: request.protocolVersion,
        // Lazy: combining signals costs more than a whole no-I/O call, and most tools never look.
        get signal() {
          if (signal) return signal;
          disconnect = disconnectSignal([call.signal, request.sdkSignal]);
          const sources = [disconnect.signal, cancellation.signal];
          if (drain) {
            stopped = new AbortController();
            if (drain.signal.aborted) stopped.abort(drain.signal.reason);
            sources.push(stopped.signal);
          }
          return (signal = AbortSignal.any(sources));
        },
        progress: (message) => heartbeat?.report(message),
        inputResponses: request.inputResponses,
        canElicit: canElicitForm(request.clientCapabilities),
        services: options.servicesFor(tool.toolset),
        server,
      };
      const work = tool.handler(parsed.data, context);
      const result = drain ? await untilShutdown(work, drain, () => stopped?.abort(drain.signal.reason), tool.name, call.requestId) : await work;
      if (tool.output && !isInputRequired(result) && !result.isError) {
        const checked = tool.output.safeParse(result.structuredContent);
        if (!checked.success) throw new Error(`structuredContent does not match the output schema: ${describeIssues(checked.error.issues)}`);
      }
      return result;
    } catch (error) {
      if (error instanceof CallAbortedError) {
        // A tool that let the abort of its signal escape: the client's doing, not a server failure.
        return {
          isError: true,
          content: [{ type: 'text', text: `${tool.name} stopped: ${error.message}. Next step: call it again if the result is still needed.` }],
          audit: { errorClass: error.kind },
        };
      }
      const delegation = onBehalfOfErrorIn(error);
      if (delegation instanceof ClaimsChallengeError) {
        call.claimsChallenge = delegation.encodedClaims;
        return {
          isError: true,
          content: [{ type: 'text', text: `${tool.name} was not run: ${delegation.message} Next step: ${delegation.nextStep}` }],
          audit: { errorClass: 'claims_challenge' },
        };
      }
      process.stderr.write(`tool ${tool.name} failed (request ${call.requestId}): ${(error as Error).stack ?? String(error)}\n`);
      return {
        isError: true,
        content: [{ type: 'text', text: `${tool.name} failed inside the server (request id ${call.requestId}). Next step: retry once; if it fails again, report the request id to the server's operators.` }],
        audit: { errorClass: 'internal_error' },
      };
    } finally {
      heartbeat?.stop();
      cancellation.release();
      disconnect?.release();
    }
  }

  const callTool = async function callTool(request: ToolCallRequest, call: CallContext): Promise<WireResult> {
    const started = performance.now();
    const name = typeof request.name === 'string' ? request.name : '';
    const tool = catalog.enabled.get(name);
    const disabledReason = catalog.disabled.get(name);
    // A disabled tool is still described by its definition: its sensitive arguments stay redacted.
    const definition = tool ?? catalog.known.get(name);
    const { granted } = options;
    const notGranted = tool && granted && !granted.access(call.caller).allows(tool) ? granted.policy.requirement(tool) : undefined;
    let result: ToolResult | ToolInputRequired;
    if (tool && notGranted !== undefined) {
      result = { isError: true, content: [{ type: 'text', text: `Tool ${name} is not granted to you: ${notGranted}` }], audit: { errorClass: 'not_granted' } };
    } else if (tool) {
      result = await runTool(tool, request, call);
    } else if (disabledReason) {
      result = { isError: true, content: [{ type: 'text', text: `Tool ${name} is not available: ${disabledReason}.` }], audit: { errorClass: 'tool_disabled' } };
    } else {
      result = {
        isError: true,
        content: [{ type: 'text', text: `Unknown tool ${JSON.stringify(name.slice(0, 100))}. Available tools: ${(granted ? granted.names(call.caller) : [...catalog.enabled.keys()]).join(', ') || 'none for you'}.` }],
        audit: { errorClass: 'unknown_tool' },
      };
    }
    const { audit, ...wire } = result;
    const inputRequired = isInputRequired(result);
    const failed = !inputRequired && result.isError === true;
    const outcome = !failed ? 'success' : disabledReason || notGranted !== undefined ? 'denied' : 'error';
    // The audit can never take the answer down, and never leaves a call without its event.
    try {
      auditor.toolCall({
        requestId: call.requestId,
        traceId: call.traceId,
        caller: call.caller,
        userAgent: call.userAgent,
        protocolVersion: request.protocolVersion,
        tool: name,
        toolset: definition?.toolset,
        readOnly: definition?.annotations.readOnlyHint,
        outcome,
        durationMs: performance.now() - started,
        jsonRpcId: request.jsonRpcId,
        arguments: request.arguments,
        sensitiveArguments: definition?.sensitiveArguments ?? [],
        resultBytes: Buffer.byteLength(JSON.stringify(wire)),
        details: inputRequired ? { ...audit, resultType: 'input_required' } : audit,
      });
    } catch (error) {
      process.stderr.write(`audit: the event of a ${clientText(name, 100)} call (request ${call.requestId}) could not be built (${clientText((error as Error | undefined)?.message, 200)}); recording a minimal one\n`);
      try {
        auditor.toolCall({
          requestId: call.requestId,
          traceId: call.traceId,
          tool: name,
          outcome,
          durationMs: performance.now() - started,
          jsonRpcId: request.jsonRpcId,
          arguments: undefined,
          sensitiveArguments: [],
          resultBytes: 0,
          details: { errorClass: audit?.errorClass },
          auditError: 'event_build_failed',
        });
      } catch {
        process.stderr.write(`audit: no event recorded for request ${call.requestId}\n`);
      }
    }
    return wire;
  };
  const drain = options.drain;
  if (!drain) return callTool;
  // Counted until audited, so a shutdown waits for the event, not only for the tool.
  return async function callToolCounted(request: ToolCallRequest, call: CallContext): Promise<WireResult> {
    const leave = drain.enter();
    try {
      return await callTool(request, call);
    } finally {
      leave();
    }
  };
}

export type ToolCallRunner = ReturnType<typeof createToolCallRunner>;

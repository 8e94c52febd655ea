import type { Auditor } from '../audit/auditor.ts';
import type { ServerFacts, ToolContext, ToolDefinition, ToolInputRequired, ToolResult } from '../tools/define-tool.ts';
import type { ToolCatalog } from '../tools/catalog.ts';
import type { ToolServices } from '../tools/services.ts';
import type { CallContext } from './call-context.ts';
import { startHeartbeat, type ProgressSink } from './progress.ts';

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
}

export interface ToolCallRunnerOptions {
  catalog: ToolCatalog;
  services: ToolServices;
  auditor: Auditor;
  server: ServerFacts;
  /** Milliseconds between progress heartbeats while a tool runs (when the client asked for progress). */
  progressIntervalMs: number;
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
    try {
      let signal: AbortSignal | undefined;
      const context: ToolContext = {
        caller: call.caller,
        requestId: call.requestId,
        protocolVersion: request.protocolVersion,
        // Lazy: combining signals costs more than a whole no-I/O call, and most tools never look.
        get signal() {
          return (signal ??= AbortSignal.any([call.signal, request.sdkSignal, cancellation.signal]));
        },
        progress: (message) => heartbeat?.report(message),
        inputResponses: request.inputResponses,
        services: options.services,
        server,
      };
      const result = await tool.handler(parsed.data, context);
      if (tool.output && !isInputRequired(result) && !result.isError) {
        const checked = tool.output.safeParse(result.structuredContent);
        if (!checked.success) throw new Error(`structuredContent does not match the output schema: ${describeIssues(checked.error.issues)}`);
      }
      return result;
    } catch (error) {
      process.stderr.write(`tool ${tool.name} failed (request ${call.requestId}): ${(error as Error).stack ?? String(error)}\n`);
      return {
        isError: true,
        content: [{ type: 'text', text: `${tool.name} failed inside the server (request id ${call.requestId}). Next step: retry once; if it fails again, report the request id to the server's operators.` }],
        audit: { errorClass: 'internal_error' },
      };
    } finally {
      heartbeat?.stop();
      cancellation.release();
    }
  }

  return async function callTool(request: ToolCallRequest, call: CallContext): Promise<WireResult> {
    const started = performance.now();
    const name = typeof request.name === 'string' ? request.name : '';
    const tool = catalog.enabled.get(name);
    const disabledReason = catalog.disabled.get(name);
    // A disabled tool is still described by its definition: its sensitive arguments stay redacted.
    const definition = tool ?? catalog.known.get(name);
    let result: ToolResult | ToolInputRequired;
    if (tool) {
      result = await runTool(tool, request, call);
    } else if (disabledReason) {
      result = { isError: true, content: [{ type: 'text', text: `Tool ${name} is not available: ${disabledReason}.` }], audit: { errorClass: 'tool_disabled' } };
    } else {
      result = {
        isError: true,
        content: [{ type: 'text', text: `Unknown tool ${JSON.stringify(name.slice(0, 100))}. Available tools: ${[...catalog.enabled.keys()].join(', ')}.` }],
        audit: { errorClass: 'unknown_tool' },
      };
    }
    const { audit, ...wire } = result;
    const inputRequired = isInputRequired(result);
    const failed = !inputRequired && result.isError === true;
    auditor.toolCall({
      requestId: call.requestId,
      caller: call.caller,
      userAgent: call.userAgent,
      protocolVersion: request.protocolVersion,
      tool: name.slice(0, 100),
      toolset: definition?.toolset,
      readOnly: definition?.annotations.readOnlyHint,
      outcome: !failed ? 'success' : disabledReason ? 'denied' : 'error',
      durationMs: performance.now() - started,
      jsonRpcId: request.jsonRpcId,
      arguments: request.arguments,
      sensitiveArguments: definition?.sensitiveArguments ?? [],
      resultBytes: Buffer.byteLength(JSON.stringify(wire)),
      details: inputRequired ? { ...audit, resultType: 'input_required' } : audit,
    });
    return wire;
  };
}

export type ToolCallRunner = ReturnType<typeof createToolCallRunner>;

import type { z } from 'zod';
import type { CallToolResult, InputRequiredResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type { CallerIdentity } from '../core/caller.ts';

/**
 * A tool is data plus one handler. `annotations.readOnlyHint` is required by
 * the type, so the compiler (not a review) guarantees every tool says whether
 * it writes; the read-only filter is derived from it.
 */
export interface ToolAnnotationsRequired extends ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What the audit event records about a call besides timing and outcome. */
export interface ToolAuditDetails {
  /** What the call touched, e.g. `kusto:https://help.kusto.windows.net/Samples`. */
  target?: string;
  /** Request id of the upstream service call, for correlation with its logs. */
  upstreamRequestId?: string;
  /** Machine-readable failure class when `isError` is set. */
  errorClass?: string;
  resultRows?: number;
  truncated?: boolean;
  /** Query text sent upstream (parameter values are never part of it). */
  queryText?: string;
  /** Set when the call ended asking the client for input (`input_required`) rather than with a result. */
  resultType?: 'input_required';
  /** A `$batch` fan-out's item outcomes (counts only). */
  batch?: { items: number; succeeded: number; failed: number; throttled: number; retried: number; envelopes: number };
  /** Who the backend saw: the app's managed identity, or the caller through on-behalf-of (src/azure/downstream-identity.ts). */
  downstreamIdentity?: 'managedIdentity' | 'onBehalfOf';
}

export interface ToolResult extends CallToolResult {
  /** Stripped before the result is sent; feeds the audit event. */
  audit?: ToolAuditDetails;
}

/**
 * A tool that needs something from the client first (a confirmation, a
 * choice) returns this, built with the SDK's `inputRequired(...)`; the client
 * answers and calls the tool again with `ctx.inputResponses` filled in.
 */
export type ToolInputRequired = InputRequiredResult & { audit?: ToolAuditDetails };

export interface ServerFacts {
  name: string;
  version: string;
  authMode: string;
  readOnly: boolean;
  toolsets: readonly string[];
  toolNames: readonly string[];
  /** The enabled tools this caller may call (MCP_TOOLSET_GRANTS); absent: all of `toolNames`. */
  toolNamesFor?(caller: CallerIdentity): readonly string[];
}

/** What a tool's handler gets; `services` are its own toolset module's (src/toolsets/<name>/module.ts). */
export interface ToolContext<Services = unknown> {
  caller: CallerIdentity;
  /**
   * Aborted when the call is cancelled: the client closes the response stream
   * (disconnects), or sends `notifications/cancelled` for it to this instance.
   */
  signal: AbortSignal;
  /**
   * Tells the client what the call is doing now ("query running on cluster
   * help"). Sent as a progress notification when the client asked for
   * progress, repeated as a heartbeat while the call runs; a no-op otherwise.
   */
  progress(message: string): void;
  /**
   * Answers to an earlier `inputRequired(...)` result of this tool, keyed as
   * the tool named them. Client input: validate it (`acceptedContent`).
   */
  inputResponses: Readonly<Record<string, unknown>> | undefined;
  /**
   * True when this is a 2026-07-28 request whose client declared form
   * elicitation (src/core/client-capabilities.ts): the tool may then return
   * `inputRequired(...)` with `inputRequired.elicit(...)`. Absent or false:
   * the client cannot be asked (2025 era, or not declared).
   */
  canElicit?: boolean;
  /** Our own unique id of this HTTP request (also in the audit event). */
  requestId: string;
  /** The client's W3C trace id (from `traceparent`), when it sent one: pass it on for correlation. */
  traceId?: string | undefined;
  protocolVersion: string;
  services: Services;
  server: ServerFacts;
}

export interface ToolDefinition<Input extends z.ZodObject = z.ZodObject, Services = unknown, Toolset extends string = string> {
  /** `<service>_<resource>_<verb>`, e.g. `kusto_table_schema`. */
  name: string;
  title: string;
  /** Written for a model: when to use it, what it returns, how to narrow. */
  description: string;
  /** One line for the README's tool table (docs/tools.md has the full description). */
  summary?: string;
  toolset: Toolset;
  /**
   * The backend permissions the tool needs, as the service's permission reference names them
   * (Microsoft Graph: delegated and application), so an admin knows what to consent; docs/tools.md lists them.
   */
  permissions?: { delegated: readonly string[]; application: readonly string[] };
  annotations: ToolAnnotationsRequired;
  input: Input;
  output?: z.ZodObject;
  /** Argument names whose values never reach the audit log (only length and a keyed fingerprint). */
  sensitiveArguments?: ReadonlyArray<keyof z.infer<Input> & string>;
  handler(args: z.infer<Input>, ctx: ToolContext<Services>): Promise<ToolResult | ToolInputRequired>;
}

/** Identity function that fixes the handler's argument type from the schema. */
export function defineTool<Input extends z.ZodObject, Services = unknown, Toolset extends string = string>(tool: ToolDefinition<Input, Services, Toolset>): ToolDefinition<Input, Services, Toolset> {
  return tool;
}

/**
 * `defineTool` for one toolset module: its tools may only name the module's
 * own toolsets (a typo is a compile error) and get its services, typed.
 *
 * @example
 * export const defineKustoTool = toolDefiner<KustoServices, 'kusto'>();
 */
export function toolDefiner<Services, Toolset extends string>() {
  return <Input extends z.ZodObject>(tool: ToolDefinition<Input, Services, Toolset>): ToolDefinition<Input, Services, Toolset> => tool;
}

export interface ToolErrorInit {
  message: string;
  /** One concrete thing the model or user can do next. */
  nextStep: string;
  errorClass: string;
  upstreamRequestId?: string;
  target?: string;
}

/** A failed call as a result the model can read and act on (`isError: true`). */
export function toolError(init: ToolErrorInit): ToolResult {
  const lines = [init.message, `Next step: ${init.nextStep}`];
  if (init.upstreamRequestId) lines.push(`Upstream request id: ${init.upstreamRequestId}`);
  return {
    isError: true,
    content: [{ type: 'text', text: lines.join('\n') }],
    audit: {
      errorClass: init.errorClass,
      ...(init.upstreamRequestId && { upstreamRequestId: init.upstreamRequestId }),
      ...(init.target && { target: init.target }),
    },
  };
}

/** A successful result: the text the model reads and the same data as `structuredContent` (checked against the tool's output schema). */
export function jsonResult<T extends Record<string, unknown>>(data: T, text: string, audit: ToolResult['audit'] = {}): ToolResult {
  return { content: [{ type: 'text', text }], structuredContent: data, audit };
}

import { randomUUID } from 'node:crypto';
import type { CallerIdentity } from '../core/caller.ts';
import type { ToolAuditDetails } from '../tools/define-tool.ts';
import { summarizeArguments, fingerprinterFor } from './arguments.ts';
import { AUDIT_SCHEMA_VERSION, AuditEventName, type AuditEvent, type AuditOutcome, type AuditSink } from './events.ts';

/** What every audited HTTP request shares. */
export interface RequestFacts {
  requestId: string;
  caller?: CallerIdentity;
  userAgent?: string;
  protocolVersion?: string;
}

export interface ToolCallFacts extends RequestFacts {
  tool: string;
  toolset?: string;
  readOnly?: boolean;
  outcome: AuditOutcome;
  durationMs: number;
  jsonRpcId: string | number;
  arguments: unknown;
  sensitiveArguments: readonly string[];
  resultBytes: number;
  details?: ToolAuditDetails;
}

export interface RejectionFacts extends RequestFacts {
  /** Machine-readable reason, e.g. `origin_not_allowed`, `body_too_large`. */
  reason: string;
  /** `denied` for refusals of who or where (origin, auth), `error` for malformed requests. */
  outcome: Exclude<AuditOutcome, 'success'>;
  status: number;
  httpMethod: string;
  path: string;
  origin?: string;
}

export interface Auditor {
  toolCall(facts: ToolCallFacts): void;
  rejected(facts: RejectionFacts): void;
  /**
   * Waits for events still being prepared, then for the sink to deliver them.
   * With a deadline (epoch ms), events still waiting for the fingerprint key
   * at half the remaining time are written without fingerprints, flagged
   * `fingerprint=unavailable`, and the sink gets the rest (see AuditSink).
   */
  flush(deadline?: number): Promise<void>;
}

export interface AuditorOptions {
  sink: AuditSink;
  /** Key for fingerprints of redacted values (from Key Vault); undefined when not configured. */
  fingerprintKey?: () => Promise<string | undefined>;
  onError?: (message: string) => void;
}

const MAX_QUERY_TEXT = 8192;
const KEY_UNAVAILABLE = Symbol('fingerprint key unavailable');
const capped = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…[+${text.length - max} chars]` : text);

/** Drops empty values; a plain loop because spreads of wide objects are a slow path in V8. */
function compact(properties: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in properties) {
    const value = properties[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Properties every audited request shares; `extra` is merged in without an object spread. */
function requestProperties(facts: RequestFacts, extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const caller = facts.caller;
  extra.schemaVersion = AUDIT_SCHEMA_VERSION;
  extra.requestId = facts.requestId;
  extra.authMode = caller?.authMode;
  extra.callerObjectId = caller?.objectId;
  extra.callerTenantId = caller?.tenantId;
  extra.callerName = caller?.name;
  extra.callerAppId = caller?.appId;
  extra.userAgent = facts.userAgent?.slice(0, 256);
  extra.protocolVersion = facts.protocolVersion;
  return extra;
}

function measurementsOf(facts: ToolCallFacts): Record<string, number> {
  const measurements: Record<string, number> = {
    durationMs: Math.round(facts.durationMs * 1000) / 1000,
    resultBytes: facts.resultBytes,
  };
  if (facts.details?.resultRows !== undefined) measurements.resultRows = facts.details.resultRows;
  return measurements;
}

/**
 * Builds audit events and hands them to the sink. Events are prepared off the
 * request path (the fingerprint key may need a Key Vault read), and `flush`
 * waits for those still in preparation so none is lost at shutdown.
 */
export function createAuditor(options: AuditorOptions): Auditor {
  const pending = new Set<Promise<void>>();
  /** Gives up the key wait of an event still being prepared (a flush deadline is near). */
  const keyWaits = new Set<() => void>();
  const report = options.onError ?? ((message) => process.stderr.write(`${message}\n`));

  async function fingerprintKey(): Promise<string | undefined> {
    try {
      return await options.fingerprintKey?.();
    } catch (error) {
      // The event still goes out, only without fingerprints: losing audit would be worse.
      report(`audit: fingerprint key unavailable (${(error as Error).message}); recording without fingerprints`);
      return undefined;
    }
  }

  function track(work: Promise<void>) {
    const settled = work.catch((error: unknown) => report(`audit: failed to record event: ${(error as Error).message}`));
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
  }

  const emit = (name: AuditEvent['name'], properties: Record<string, string | undefined>, measurements: Record<string, number>) => {
    // Our own id per record: the key for delivery confirmation and de-duplication downstream.
    properties.recordId = randomUUID();
    options.sink.record({ name, time: new Date().toISOString(), properties: compact(properties), measurements });
  };
  /** The fingerprint key, or `unavailable` when it failed or a flush deadline stopped the wait. */
  function keyOrGiveUp(): Promise<string | typeof KEY_UNAVAILABLE> {
    return new Promise((resolve) => {
      const giveUp = () => resolve(KEY_UNAVAILABLE);
      keyWaits.add(giveUp);
      void fingerprintKey().then((key) => {
        keyWaits.delete(giveUp);
        resolve(key ?? KEY_UNAVAILABLE);
      });
    });
  }

  return {
    toolCall(facts) {
      const emitToolCall = (key: string | undefined | typeof KEY_UNAVAILABLE) => {
        const details = facts.details ?? {};
        emit(
          AuditEventName.toolCall,
          requestProperties(facts, {
            tool: facts.tool,
            toolset: facts.toolset,
            readOnly: facts.readOnly === undefined ? undefined : String(facts.readOnly),
            outcome: facts.outcome,
            errorClass: details.errorClass,
            jsonRpcId: String(facts.jsonRpcId),
            target: details.target,
            upstreamRequestId: details.upstreamRequestId,
            truncated: details.truncated === undefined ? undefined : String(details.truncated),
            resultType: details.resultType,
            queryText: details.queryText === undefined ? undefined : capped(details.queryText, MAX_QUERY_TEXT),
            arguments: summarizeArguments(facts.arguments, facts.sensitiveArguments, fingerprinterFor(key === KEY_UNAVAILABLE ? undefined : key)),
            fingerprint: key === KEY_UNAVAILABLE ? 'unavailable' : undefined,
          }),
          measurementsOf(facts),
        );
      };
      // Without a fingerprint key there is nothing to wait for: record at once.
      if (!options.fingerprintKey) return emitToolCall(undefined);
      track(keyOrGiveUp().then(emitToolCall));
    },
    rejected(facts) {
      emit(
        AuditEventName.requestRejected,
        requestProperties(facts, {
          outcome: facts.outcome,
          errorClass: facts.reason,
          httpMethod: facts.httpMethod,
          path: facts.path,
          origin: facts.origin?.slice(0, 256),
          statusCode: String(facts.status),
        }),
        {},
      );
    },
    async flush(deadline) {
      const giveUp =
        deadline === undefined
          ? undefined
          : setTimeout(() => {
              for (const stopWaiting of keyWaits) stopWaiting();
            }, Math.max(0, (deadline - Date.now()) / 2));
      while (pending.size > 0) await Promise.all([...pending]);
      clearTimeout(giveUp);
      await options.sink.flush(deadline);
    },
  };
}

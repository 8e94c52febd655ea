import { randomUUID } from 'node:crypto';
import type { CallerIdentity } from '../core/caller.ts';
import type { ToolAuditDetails } from '../tools/define-tool.ts';
import { summarizeArguments, fingerprinterFor, redactText, MAX_SUMMARY, type Fingerprinter } from './arguments.ts';
import { clientText } from './text.ts';
import { AUDIT_SCHEMA_VERSION, AuditEventName, type AuditEvent, type AuditOutcome, type AuditSink } from './events.ts';

/** What every audited HTTP request shares. */
export interface RequestFacts {
  /** Our own id for the HTTP request (never the client's). */
  requestId: string;
  /** The client's W3C trace id (validated, from `traceparent`), kept for correlation only. */
  traceId?: string | undefined;
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
  /** Set by a caller recording a minimal event because the full one could not be built. */
  auditError?: string;
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

/** A request that carried something it should not (it is served or refused on its own merits). */
export interface SuspicionFacts extends RequestFacts {
  /** e.g. `spoofed_principal_headers`. */
  reason: string;
  httpMethod: string;
  path: string;
  origin?: string;
  /** Header names involved (never values). */
  headers?: readonly string[];
}

/** One request to the authorization-server facade (src/auth/facade/): never a code, token, verifier or state. */
export interface OAuthFacts extends RequestFacts {
  /** `metadata`, `authorize`, `callback`, `token` or `register`. */
  endpoint: string;
  outcome: AuditOutcome;
  status: number;
  httpMethod: string;
  reason?: string | undefined;
  oauthError?: string | undefined;
  aadsts?: number | undefined;
  /** A digest of the client id (registered ids are long and opaque). */
  clientId?: string | undefined;
  clientName?: string | undefined;
  redirectHost?: string | undefined;
  grantType?: string | undefined;
}

export interface Auditor {
  toolCall(facts: ToolCallFacts): void;
  rejected(facts: RejectionFacts): void;
  suspicious(facts: SuspicionFacts): void;
  oauth(facts: OAuthFacts): void;
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

/**
 * Characters per property, cut marker included (docs/audit.md). Every
 * property passes through clientText (control characters escaped, cut to
 * its cap, DEFAULT_CAP for any other); client free text also through
 * redactText (the same secret-like redaction as arguments).
 */
export const FIELD_CAPS: Readonly<Record<string, number>> = {
  schemaVersion: 8,
  recordId: 36,
  requestId: 64,
  traceId: 32,
  authMode: 32,
  callerObjectId: 128,
  callerTenantId: 128,
  callerName: 256,
  callerAppId: 128,
  userAgent: 256,
  protocolVersion: 64,
  tool: 100,
  toolset: 64,
  readOnly: 8,
  outcome: 16,
  errorClass: 64,
  jsonRpcId: 128,
  target: 512,
  upstreamRequestId: 256,
  truncated: 8,
  resultType: 32,
  downstreamIdentity: 32,
  queryText: 8192,
  arguments: MAX_SUMMARY,
  fingerprint: 16,
  auditError: 128,
  httpMethod: 64,
  path: 256,
  origin: 256,
  statusCode: 8,
  headers: 256,
  endpoint: 16,
  oauthError: 64,
  aadsts: 12,
  clientId: 32,
  clientName: 200,
  redirectHost: 256,
  grantType: 64,
};
const DEFAULT_CAP = 256;
/** No record is larger, as the stdout JSON line (UTF-8, newline included); larger fields are cut to fit. */
export const MAX_RECORD_BYTES = 32_768;
const KEY_UNAVAILABLE = Symbol('fingerprint key unavailable');

/** Client free text under the one redaction policy, cut to its field's cap. */
const clientField = (value: unknown, field: string, fingerprint: Fingerprinter): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  return redactText(typeof value === 'string' ? value : clientText(value, FIELD_CAPS[field] ?? DEFAULT_CAP), FIELD_CAPS[field] ?? DEFAULT_CAP, fingerprint);
};

/** The record as the stdout sink writes it, in bytes. */
const recordBytes = (name: string, time: string, properties: Record<string, string>, measurements: Record<string, number>) =>
  Buffer.byteLength(JSON.stringify({ time, event: name, ...properties, ...measurements })) + 1;

/** Never cut to fit: small, and what keys the record. */
const KEPT_WHOLE = new Set(['schemaVersion', 'recordId', 'requestId', 'outcome', 'errorClass', 'auditError']);

/**
 * Cuts the largest properties until the record is at most MAX_RECORD_BYTES.
 * Field caps keep ordinary records far below it; only text that grows in
 * JSON and UTF-8 (quotes, backslashes, non-ASCII) can reach it.
 */
function fitRecord(name: string, time: string, properties: Record<string, string>, measurements: Record<string, number>): void {
  for (let round = 0; round < 32; round++) {
    const size = recordBytes(name, time, properties, measurements);
    if (size <= MAX_RECORD_BYTES) return;
    let largest: string | undefined;
    let largestBytes = 0;
    for (const key in properties) {
      if (KEPT_WHOLE.has(key)) continue;
      const bytes = Buffer.byteLength(JSON.stringify(properties[key]));
      if (bytes > largestBytes) {
        largest = key;
        largestBytes = bytes;
      }
    }
    if (largest === undefined) return;
    const value = properties[largest] as string;
    // Proportional: bytes per character of this value, the excess, and room for the cut marker.
    const keep = Math.floor((value.length * Math.max(0, largestBytes - (size - MAX_RECORD_BYTES))) / largestBytes) - 24;
    if (keep < 32) delete properties[largest];
    else properties[largest] = clientText(value, keep);
  }
}

/** Properties every audited request shares; `extra` is merged in without an object spread. */
function requestProperties(facts: RequestFacts, extra: Record<string, string | undefined>, fingerprint: Fingerprinter): Record<string, string | undefined> {
  const caller = facts.caller;
  extra.schemaVersion = AUDIT_SCHEMA_VERSION;
  // Ours (and the validated trace id): escaped and capped in emit, nothing to redact.
  extra.requestId = facts.requestId;
  extra.traceId = facts.traceId;
  extra.authMode = caller?.authMode;
  extra.callerObjectId = clientField(caller?.objectId, 'callerObjectId', fingerprint);
  extra.callerTenantId = clientField(caller?.tenantId, 'callerTenantId', fingerprint);
  // The sign-in name when there is one: stable and unique, unlike a display name.
  extra.callerName = clientField(caller?.upn ?? caller?.name, 'callerName', fingerprint);
  extra.callerAppId = clientField(caller?.appId, 'callerAppId', fingerprint);
  extra.userAgent = clientField(facts.userAgent, 'userAgent', fingerprint);
  extra.protocolVersion = clientField(facts.protocolVersion, 'protocolVersion', fingerprint);
  return extra;
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function measurementsOf(facts: ToolCallFacts): Record<string, number> {
  const measurements: Record<string, number> = {};
  if (finite(facts.durationMs)) measurements.durationMs = Math.round(facts.durationMs * 1000) / 1000;
  if (finite(facts.resultBytes)) measurements.resultBytes = facts.resultBytes;
  if (finite(facts.details?.resultRows)) measurements.resultRows = facts.details.resultRows;
  const batch = facts.details?.batch;
  if (batch) {
    for (const [name, value] of Object.entries(batch)) if (finite(value)) measurements[`batch${name[0]!.toUpperCase()}${name.slice(1)}`] = value;
  }
  return measurements;
}

/** Either kind of facts, as the fallback reads them. */
type AnyFacts = Partial<Omit<ToolCallFacts, 'outcome'> & Omit<RejectionFacts, 'outcome'>> & { outcome?: AuditOutcome };

/** Reads one field of facts that may be anything (a getter that throws, a non-string): never throws. */
function salvage(read: () => unknown, field: string): string | undefined {
  try {
    const value = read();
    return typeof value === 'string' || typeof value === 'number' ? clientField(String(value), field, undefined) : undefined;
  } catch {
    return undefined;
  }
}

/** The minimal record written when the full one could not be built: what could be read, and why. */
function fallbackProperties(facts: AnyFacts, kind: 'toolCall' | 'rejected', error: unknown): Record<string, string | undefined> {
  const reason = salvage(() => (error as Error | undefined)?.name ?? typeof error, 'auditError') ?? 'unknown';
  const properties: Record<string, string | undefined> = {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    requestId: salvage(() => facts.requestId, 'requestId'),
    traceId: salvage(() => facts.traceId, 'traceId'),
    outcome: salvage(() => facts.outcome, 'outcome'),
    auditError: `event_build_failed (${reason})`,
  };
  if (kind === 'toolCall') {
    properties.tool = salvage(() => facts.tool, 'tool');
    properties.jsonRpcId = salvage(() => facts.jsonRpcId, 'jsonRpcId');
    properties.errorClass = salvage(() => facts.details?.errorClass, 'errorClass');
  } else {
    properties.errorClass = salvage(() => facts.reason, 'errorClass');
    properties.statusCode = salvage(() => facts.status, 'statusCode');
  }
  return properties;
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
    const time = new Date().toISOString();
    // Every field escaped and capped, whoever built it (empty ones left out); then the whole record held to its maximum.
    const record: Record<string, string> = {};
    let bound = 0;
    for (const key in properties) {
      const value = properties[key];
      if (value === undefined || value === '') continue;
      const safe = clientText(value, FIELD_CAPS[key] ?? DEFAULT_CAP);
      record[key] = safe;
      bound += key.length + safe.length;
    }
    // Cheap bound first (a character is at most 3 bytes in UTF-8, 2 in JSON once controls are escaped): most records never need measuring.
    if (3 * bound + 1024 > MAX_RECORD_BYTES) fitRecord(name, time, record, measurements);
    try {
      options.sink.record({ name, time, properties: record, measurements });
    } catch (error) {
      report(`audit: the sink refused an event (${clientText((error as Error | undefined)?.message, 200)}): ${JSON.stringify({ time, event: name, ...record })}`);
    }
  };
  /** Builds and emits an event; if building throws, emits the minimal fallback instead: never zero events, never a throw. */
  const emitSafely = (name: AuditEvent['name'], kind: 'toolCall' | 'rejected', facts: AnyFacts, build: () => [Record<string, string | undefined>, Record<string, number>]) => {
    try {
      emit(name, ...build());
    } catch (error) {
      report(`audit: could not build the ${name} event (${clientText((error as Error | undefined)?.message, 200)}); recording a minimal one`);
      try {
        emit(name, fallbackProperties(facts, kind, error), {});
      } catch (fallbackError) {
        report(`audit: failed to record event: ${clientText((fallbackError as Error | undefined)?.message, 200)}`);
      }
    }
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
      const emitToolCall = (key: string | undefined | typeof KEY_UNAVAILABLE) =>
        emitSafely(AuditEventName.toolCall, 'toolCall', facts, () => {
          const details = facts.details ?? {};
          const fingerprint = fingerprinterFor(key === KEY_UNAVAILABLE ? undefined : key);
          const properties = requestProperties(
            facts,
            {
              tool: clientField(facts.tool, 'tool', fingerprint),
              toolset: facts.toolset,
              readOnly: facts.readOnly === undefined ? undefined : String(facts.readOnly),
              outcome: facts.outcome,
              errorClass: details.errorClass,
              jsonRpcId: clientField(facts.jsonRpcId, 'jsonRpcId', fingerprint),
              target: clientField(details.target, 'target', fingerprint),
              upstreamRequestId: clientField(details.upstreamRequestId, 'upstreamRequestId', fingerprint),
              truncated: details.truncated === undefined ? undefined : String(details.truncated),
              resultType: details.resultType,
              downstreamIdentity: details.downstreamIdentity,
              queryText: clientField(details.queryText, 'queryText', fingerprint),
              arguments: summarizeArguments(facts.arguments, facts.sensitiveArguments ?? [], fingerprint),
              fingerprint: key === KEY_UNAVAILABLE ? 'unavailable' : undefined,
              auditError: facts.auditError,
            },
            fingerprint,
          );
          return [properties, measurementsOf(facts)];
        });
      // Without a fingerprint key there is nothing to wait for: record at once.
      if (!options.fingerprintKey) return emitToolCall(undefined);
      track(keyOrGiveUp().then(emitToolCall));
    },
    suspicious(facts) {
      emitSafely(AuditEventName.requestSuspicious, 'rejected', { ...facts, outcome: 'denied' }, () => [
        requestProperties(
          facts,
          {
            outcome: 'denied',
            errorClass: clientField(facts.reason, 'errorClass', undefined),
            httpMethod: clientField(facts.httpMethod, 'httpMethod', undefined),
            path: clientField(facts.path, 'path', undefined),
            origin: clientField(facts.origin, 'origin', undefined),
            headers: clientField(facts.headers?.join(','), 'headers', undefined),
          },
          undefined,
        ),
        {},
      ]);
    },
    oauth(facts) {
      emitSafely(AuditEventName.oauthRequest, 'rejected', { ...facts, reason: facts.reason ?? facts.endpoint }, () => [
        requestProperties(
          facts,
          {
            endpoint: facts.endpoint,
            outcome: facts.outcome,
            errorClass: clientField(facts.reason, 'errorClass', undefined),
            oauthError: clientField(facts.oauthError, 'oauthError', undefined),
            aadsts: facts.aadsts === undefined ? undefined : String(facts.aadsts),
            clientId: facts.clientId,
            clientName: clientField(facts.clientName, 'clientName', undefined),
            redirectHost: clientField(facts.redirectHost, 'redirectHost', undefined),
            grantType: clientField(facts.grantType, 'grantType', undefined),
            httpMethod: clientField(facts.httpMethod, 'httpMethod', undefined),
            statusCode: String(facts.status),
          },
          undefined,
        ),
        {},
      ]);
    },
    rejected(facts) {
      emitSafely(AuditEventName.requestRejected, 'rejected', facts, () => [
        requestProperties(
          facts,
          {
            outcome: facts.outcome,
            errorClass: clientField(facts.reason, 'errorClass', undefined),
            httpMethod: clientField(facts.httpMethod, 'httpMethod', undefined),
            path: clientField(facts.path, 'path', undefined),
            origin: clientField(facts.origin, 'origin', undefined),
            statusCode: String(facts.status),
          },
          undefined,
        ),
        {},
      ]);
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

/**
 * Reading a Kusto request: the JSON body (`db`, `csl`, `properties` as an
 * object or a JSON string) and the client request properties that change how
 * the emulator answers (timeouts, truncation limits, `query_now`).
 */
import type { ErrorPlacement, Limits } from './frames.ts';
import { parseDatetimeText, parseTimespanText, type KqlValue } from './kql-types.ts';
import { officialKind } from './official-parser.ts';

export const DEFAULT_QUERY_TIMEOUT_MS = 4 * 60_000;
export const MAX_TIMEOUT_MS = 60 * 60_000;

export interface ParsedBody {
  database: string;
  csl: string;
  options: Record<string, unknown>;
  parameters: Record<string, unknown>;
  clientRequestId?: string;
}

export function parseBody(text: string): ParsedBody {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the body is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new Error('the body must be a JSON object with "csl"');
  const body = raw as Record<string, unknown>;
  if (typeof body.csl !== 'string' || body.csl.trim() === '') throw new Error('the body has no "csl" text');
  // `properties` may be an object or a JSON-encoded string; both appear in the docs.
  let properties: unknown = body.properties ?? {};
  if (typeof properties === 'string') {
    try {
      properties = properties.trim() === '' ? {} : JSON.parse(properties);
    } catch {
      throw new Error('"properties" is a string but not valid JSON');
    }
  }
  const props = (properties ?? {}) as Record<string, unknown>;
  const asRecord = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  return {
    database: typeof body.db === 'string' ? body.db : '',
    csl: body.csl,
    options: asRecord(props.Options),
    parameters: asRecord(props.Parameters),
    clientRequestId: typeof props.ClientRequestId === 'string' ? props.ClientRequestId : undefined,
  };
}

/** Whether the service reads the text as a management command: the official parser's classification. */
export function isCommandText(csl: string): boolean {
  return officialKind(csl) === 'Command';
}

export function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

export function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** servertimeout in ms, or an error message. Accepts `[d.]hh:mm:ss[.f]`, `1h`-style and milliseconds. */
export function serverTimeout(opts: Record<string, unknown>): number | string {
  if (truthy(opts.norequesttimeout)) return MAX_TIMEOUT_MS;
  const raw = opts.servertimeout;
  if (raw === undefined || raw === null) return DEFAULT_QUERY_TIMEOUT_MS;
  let ms: number | undefined;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string') {
    ms = parseTimespanText(raw);
    const unit = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(raw.trim());
    if (ms === undefined && unit) ms = Number(unit[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit[2] as 'ms'];
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    return `Request is invalid and cannot be processed: property 'servertimeout' has an invalid value '${String(raw)}' (expected a timespan such as 00:04:00).`;
  }
  return Math.min(ms, MAX_TIMEOUT_MS);
}

export function serverTimeoutOr(opts: Record<string, unknown>): number {
  const t = serverTimeout(opts);
  return typeof t === 'number' ? t : DEFAULT_QUERY_TIMEOUT_MS;
}

export function parseQueryNow(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const inner = /^datetime\((.*)\)$/i.exec(v.trim());
  return parseDatetimeText(inner ? (inner[1] as string) : v);
}

/**
 * Request properties a `set` statement cannot change (request-properties
 * docs). The docs do not say whether a `set` beats the same property sent
 * by the client; the emulator takes the worst case for a client that
 * relies on its own properties: the query's `set` wins for every other one.
 */
const NOT_SETTABLE = new Set([
  'norequesttimeout', 'queryconsistency', 'query_language', 'query_log_query_parameters', 'query_weakconsistency_session_id', 'request_app_name',
  'request_readonly', 'request_readonly_hardline', 'request_user', 'results_progressive_enabled', 'results_v2_fragment_primary_tables', 'servertimeout',
  'truncationmaxsize',
]);

export function allowedSetOptions(set: Record<string, KqlValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(set).filter(([k]) => !NOT_SETTABLE.has(k)));
}

export function effectiveLimits(opts: Record<string, unknown>, defaults: Limits, silentTake: boolean): Limits {
  const records = positiveNumber(opts.truncationmaxrecords);
  const take = silentTake ? undefined : positiveNumber(opts.query_take_max_records);
  const size = positiveNumber(opts.truncationmaxsize);
  // notruncation is ignored when an explicit limit is set.
  if (truthy(opts.notruncation) && records === undefined && take === undefined && size === undefined) {
    return { maxRecords: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY };
  }
  return { maxRecords: Math.min(records ?? defaults.maxRecords, take ?? Number.POSITIVE_INFINITY), maxBytes: size ?? defaults.maxBytes };
}

export function errorPlacement(v: unknown): ErrorPlacement {
  return v === 'end_of_table' || v === 'end_of_dataset' ? v : 'in_data';
}

/**
 * Reading a Kusto request: the JSON body (`db`, `csl`, `properties` as an
 * object or a JSON string) and the client request properties that change how
 * the emulator answers (timeouts, truncation limits, `query_now`).
 */
import type { ErrorPlacement, Limits } from './frames.ts';
import { parseDatetimeText, parseTimespanText, type KqlValue } from './kql-types.ts';

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

/** Whether the text is a management command: its first non-comment character is a dot. */
export function startsWithCommand(csl: string): boolean {
  return csl.replace(/^(\s|\/\/[^\n]*\n?)*/, '').startsWith('.');
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

/** Request properties a `set` statement may change; others (servertimeout, truncationmaxsize, …) are fixed by the caller. */
const SETTABLE = new Set(['notruncation', 'truncationmaxrecords', 'query_take_max_records', 'results_error_reporting_placement']);

export function allowedSetOptions(set: Record<string, KqlValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(set).filter(([k]) => SETTABLE.has(k)));
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

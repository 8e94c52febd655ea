/**
 * KQL scalar types and the in-memory value representation used by the
 * emulator's engine, plus the text formats Kusto uses on the wire.
 *
 * Values are plain JS values so that rows stay cheap:
 * - string, guid: `string` (a KQL string is never null; the empty string plays that role)
 * - long, int, real: `number` (a `long` may also be a `bigint` when it does not fit 2^53)
 * - bool: `boolean`
 * - datetime: milliseconds since the Unix epoch (`number`, fractional part = sub-ms ticks)
 * - timespan: milliseconds (`number`)
 * - dynamic: any JSON-like value
 * - null of any non-string type: `null`
 * The static type of every column is known, so values need no tags.
 */

export type KqlType = 'string' | 'long' | 'int' | 'real' | 'bool' | 'datetime' | 'timespan' | 'guid' | 'dynamic';

export type KqlValue = string | number | bigint | boolean | null | KqlDynamic;
export type KqlDynamic = KqlValue[] | { [key: string]: KqlValue } | string | number | boolean | null;

export type Row = KqlValue[];

export interface ColumnSchema {
  name: string;
  type: KqlType;
}

/** A table flowing through the pipeline. Rows are shared between operators and never mutated. */
export interface Relation {
  columns: ColumnSchema[];
  rows: Row[];
  /** Set by the `as` operator; names the result table. */
  name?: string;
}

/** .NET type names, as `getschema` and `.show … schema` report them. Kusto stores bool as SByte. */
export const DOTNET_TYPE: Readonly<Record<KqlType, string>> = {
  string: 'System.String',
  long: 'System.Int64',
  int: 'System.Int32',
  real: 'System.Double',
  bool: 'System.SByte',
  datetime: 'System.DateTime',
  timespan: 'System.TimeSpan',
  guid: 'System.Guid',
  dynamic: 'System.Object',
};

/** `DataType` of v1 response columns (the .NET name without the namespace). */
export const V1_DATA_TYPE: Readonly<Record<KqlType, string>> = {
  string: 'String',
  long: 'Int64',
  int: 'Int32',
  real: 'Double',
  bool: 'Boolean',
  datetime: 'DateTime',
  timespan: 'TimeSpan',
  guid: 'Guid',
  dynamic: 'Object',
};

const TYPE_ALIASES: Readonly<Record<string, KqlType>> = {
  string: 'string',
  long: 'long',
  int64: 'long',
  int: 'int',
  int32: 'int',
  real: 'real',
  double: 'real',
  bool: 'bool',
  boolean: 'bool',
  datetime: 'datetime',
  date: 'datetime',
  timespan: 'timespan',
  time: 'timespan',
  guid: 'guid',
  uuid: 'guid',
  uniqueid: 'guid',
  dynamic: 'dynamic',
};

/** Maps a type name as written in KQL (`long`, `double`, `date`, …) to its canonical type. */
export function parseTypeName(name: string): KqlType | undefined {
  return TYPE_ALIASES[name.toLowerCase()];
}

export function isNumericType(t: KqlType): boolean {
  return t === 'long' || t === 'int' || t === 'real';
}

export const MS_PER_DAY = 86_400_000;
/** Kusto bins datetimes from 0001-01-01, not from 1970: this is the gap in ms. */
export const EPOCH_0001_OFFSET_MS = 62_135_596_800_000;

// Result sets often hold many timestamps of the same day; caching the date part halves formatting time.
let cachedDay = Number.NaN;
let cachedDayText = '';

/** `2024-01-01T00:00:00Z`, or with exactly seven fractional digits when the value has a fraction. */
export function formatDatetime(ms: number): string {
  const whole = Math.floor(ms);
  const ticks = Math.round((ms - whole) * 10_000);
  const day = Math.floor(whole / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
  }
  let rest = whole - day * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const time = `${cachedDayText}T${two(hours)}:${two(minutes)}:${two(seconds)}`;
  if (millis === 0 && ticks === 0) return `${time}Z`;
  return `${time}.${String(millis * 10_000 + ticks).padStart(7, '0')}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `[-][d.]hh:mm:ss[.fffffff]`, the format Kusto and the SDK's timespan parser use. */
export function formatTimespan(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const totalTicks = Math.round(rest * 10_000);
  const ticks = totalTicks % 10_000_000;
  rest = Math.floor(totalTicks / 10_000_000);
  const seconds = rest % 60;
  rest = Math.floor(rest / 60);
  const minutes = rest % 60;
  rest = Math.floor(rest / 60);
  const hours = rest % 24;
  const days = Math.floor(rest / 24);
  const two = (n: number) => String(n).padStart(2, '0');
  const head = `${sign}${days > 0 ? `${days}.` : ''}${two(hours)}:${two(minutes)}:${two(seconds)}`;
  return ticks === 0 ? head : `${head}.${String(ticks).padStart(7, '0')}`;
}

const TIMESPAN_TEXT = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d{1,7})?)?$/;

/** Parses `hh:mm[:ss[.fffffff]]` with optional days (`d.hh:mm:ss`); undefined when malformed. */
export function parseTimespanText(text: string): number | undefined {
  const m = TIMESPAN_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [, neg, d, h, min, s, frac] = m;
  const hours = Number(h);
  const minutes = Number(min);
  const seconds = s === undefined ? 0 : Number(s);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms =
    (Number(d ?? 0) * 86_400 + hours * 3600 + minutes * 60 + seconds) * 1000 + (frac ? Number(frac) * 1000 : 0);
  return neg ? -ms : ms;
}

const DATETIME_TEXT =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses the datetime forms KQL accepts in `datetime(...)` (ISO 8601 variants); undefined when malformed. */
export function parseDatetimeText(text: string): number | undefined {
  const m = DATETIME_TEXT.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  if (Number.isNaN(ms)) return undefined;
  if (frac) ms += Number(frac) * 1000;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuidText(text: string): boolean {
  return GUID_TEXT.test(text);
}

/** How `tostring()` renders a value of a static type (also used for string concatenation). */
export function valueToString(value: KqlValue, type: KqlType): string {
  if (value === null || value === undefined) return '';
  switch (type) {
    case 'datetime':
      return formatDatetime(value as number);
    case 'timespan':
      return formatTimespan(value as number);
    case 'dynamic':
      return typeof value === 'string' ? value : stringifyJson(value);
    case 'real':
      return formatReal(value as number);
    default:
      return String(value);
  }
}

export function formatReal(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

/** JSON text that keeps `bigint` digits exactly (JSON.stringify would throw on them). */
export function stringifyJson(value: unknown): string {
  try {
    // Fast path: almost no value holds a bigint, and a replacer slows stringify down several times.
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000BIG${v.toString()}\u0000` : v));
  // JSON.stringify escapes the NUL markers as the six characters `\u0000`; a real string would need
  // NUL + "BIG" + digits + NUL to collide, which sample data and queries never produce.
  return text.replace(/"\\u0000BIG(-?\d+)\\u0000"/g, '$1');
}

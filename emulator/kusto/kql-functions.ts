/**
 * Scalar functions of the KQL subset. Each entry binds compiled arguments to a
 * compiled expression, checking argument counts and types up front so a bad
 * call fails as a semantic error before any row is read.
 */
import { constant, derived, nullPropagating, toNumber, typeError, widerNumeric, type CompiledExpr } from './kql-compiled.ts';
import {
  EPOCH_0001_OFFSET_MS,
  isGuidText,
  isNumericType,
  MS_PER_DAY,
  parseDatetimeText,
  parseTimespanText,
  valueToString,
  type KqlDynamic,
  type KqlType,
  type KqlValue,
} from './kql-types.ts';

export interface FunctionEnv {
  /** `now()` for this query, ms since the epoch. */
  now: number;
  operator: string;
}

export type FunctionBinder = (args: CompiledExpr[], env: FunctionEnv, pos: number) => CompiledExpr;

const TICKS_PER_MS = 10_000;

function arity(name: string, args: CompiledExpr[], min: number, max: number, env: FunctionEnv, pos: number): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw typeError(env.operator, `function '${name}' expects ${expected} argument(s), got ${args.length}`, pos);
  }
}

function requireType(name: string, arg: CompiledExpr | undefined, allowed: KqlType[], index: number, env: FunctionEnv, pos: number): void {
  if (!arg || arg.type === 'dynamic' || allowed.includes(arg.type)) return;
  throw typeError(env.operator, `function '${name}': argument #${index + 1} expected to be of type ${allowed.join(' or ')}, but was ${arg.type}`, pos);
}

const NUMERIC: KqlType[] = ['int', 'long', 'real'];
const asString = (v: KqlValue, t: KqlType) => valueToString(v, t);

// ---- conversions ------------------------------------------------------------

/** Converts a value of static type `from` to `to` the way the `to*()` functions do; null when it cannot. */
export function convertValue(v: KqlValue, from: KqlType, to: KqlType): KqlValue {
  if (v === null) return to === 'string' ? '' : null;
  if (from === to && from !== 'dynamic') return v;
  switch (to) {
    case 'string':
      return valueToString(v, from);
    case 'long':
    case 'int':
    case 'real':
      return toNumeric(v, from, to);
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
      if (typeof v === 'string') return v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : null;
      return null;
    case 'datetime':
      if (from === 'long' || from === 'int') return Number(v) / TICKS_PER_MS - EPOCH_0001_OFFSET_MS;
      return typeof v === 'string' ? (parseDatetimeText(v) ?? null) : null;
    case 'timespan':
      if (from === 'long' || from === 'int' || from === 'real') return Number(v) / TICKS_PER_MS;
      return typeof v === 'string' ? (parseTimespanText(v) ?? null) : null;
    case 'guid':
      return typeof v === 'string' && isGuidText(v) ? v.toLowerCase() : null;
    case 'dynamic':
      return toDynamic(v, from);
  }
}

function toNumeric(v: KqlValue, from: KqlType, to: 'long' | 'int' | 'real'): KqlValue {
  let n: number | null;
  if (from === 'datetime') n = ((v as number) + EPOCH_0001_OFFSET_MS) * TICKS_PER_MS;
  else if (from === 'timespan') n = (v as number) * TICKS_PER_MS;
  else if (typeof v === 'bigint') return to === 'real' ? Number(v) : to === 'long' ? v : null;
  else n = toNumber(v);
  if (n === null || Number.isNaN(n)) return to === 'real' && n !== null ? n : null;
  if (to === 'real') return n;
  const truncated = Math.trunc(n);
  if (to === 'int' && (truncated > 2147483647 || truncated < -2147483648)) return null;
  return truncated;
}

function toDynamic(v: KqlValue, from: KqlType): KqlValue {
  if (from === 'string') {
    try {
      return JSON.parse(v as string) as KqlValue;
    } catch {
      return v;
    }
  }
  if (from === 'datetime' || from === 'timespan') return valueToString(v, from);
  return v;
}

function converter(to: KqlType): FunctionBinder {
  return (args, env, pos) => {
    arity(`to${to}`, args, 1, 1, env, pos);
    const [arg] = args as [CompiledExpr];
    return derived(to, args, ([v]) => convertValue(v as KqlValue, arg.type, to));
  };
}

// ---- binning and rounding ---------------------------------------------------

function binValue(value: number, size: number, origin: number): number {
  return Math.floor((value - origin) / size) * size + origin;
}

const bin: FunctionBinder = (args, env, pos) => {
  arity('bin', args, 2, 2, env, pos);
  const [value, size] = args as [CompiledExpr, CompiledExpr];
  requireType('bin', value, [...NUMERIC, 'datetime', 'timespan'], 0, env, pos);
  requireType('bin', size, [...NUMERIC, 'timespan'], 1, env, pos);
  // Datetimes bin from 0001-01-01 so that 7d bins line up with the real service.
  const origin = value.type === 'datetime' ? -EPOCH_0001_OFFSET_MS : 0;
  const read = value.eval;
  if (size.constant) {
    const s = toNumber(size.eval([]));
    if (s === null || s <= 0) return constant(value.type, null);
    return value.constant
      ? constant(value.type, binOrNull(value.type, read([]), s, origin))
      : { type: value.type, constant: false, eval: (row) => binOrNull(value.type, read(row), s, origin) };
  }
  return derived(value.type, args, ([v, s]) => {
    const n = toNumber(s as KqlValue);
    return n === null || n <= 0 ? null : binOrNull(value.type, v as KqlValue, n, origin);
  });
};

function binOrNull(type: KqlType, v: KqlValue, size: number, origin: number): KqlValue {
  const n = toNumber(v);
  if (n === null) return null;
  const binned = binValue(n, size, origin);
  return type === 'long' && typeof v === 'bigint' ? BigInt(Math.trunc(binned)) : binned;
}

const binAt: FunctionBinder = (args, env, pos) => {
  arity('bin_at', args, 3, 3, env, pos);
  const [value] = args as [CompiledExpr];
  requireType('bin_at', value, [...NUMERIC, 'datetime', 'timespan'], 0, env, pos);
  return nullPropagating(value.type, args, ([v, s, at]) => {
    const size = toNumber(s as KqlValue);
    return size === null || size <= 0 ? null : binValue(toNumber(v as KqlValue) ?? 0, size, toNumber(at as KqlValue) ?? 0);
  });
};

/** Half away from zero, like .NET's MidpointRounding.AwayFromZero that Kusto uses. */
function roundTo(n: number, digits: number): number {
  const factor = 10 ** digits;
  return (Math.sign(n) * Math.round(Math.abs(n) * factor)) / factor;
}

const round: FunctionBinder = (args, env, pos) => {
  arity('round', args, 1, 2, env, pos);
  requireType('round', args[0], NUMERIC, 0, env, pos);
  const type = args[0]?.type === 'int' || args[0]?.type === 'long' ? (args[0].type as KqlType) : 'real';
  return nullPropagating(type, args, ([v, d]) => roundTo(toNumber(v as KqlValue) ?? 0, toNumber(d ?? 0) ?? 0));
};

/** A one-argument numeric function; `keepType` returns the argument's type (abs, floor) instead of real (sqrt, log). */
function math(name: string, impl: (n: number) => number, keepType = false): FunctionBinder {
  return (args, env, pos) => {
    arity(name, args, 1, 1, env, pos);
    requireType(name, args[0], NUMERIC, 0, env, pos);
    const argType = (args[0] as CompiledExpr).type;
    const type: KqlType = keepType && argType !== 'dynamic' ? argType : 'real';
    return nullPropagating(type, args, ([v]) => impl(toNumber(v as KqlValue) ?? 0));
  };
}

// ---- strings ---------------------------------------------------------------

function stringFn(name: string, min: number, max: number, type: KqlType, impl: (v: string[], raw: KqlValue[]) => KqlValue): FunctionBinder {
  return (args, env, pos) => {
    arity(name, args, min, max, env, pos);
    const types = args.map((a) => a.type);
    return derived(type, args, (values) => {
      const result = impl(values.map((v, i) => asString(v, types[i] as KqlType)), values);
      return result === null && type === 'string' ? '' : result;
    });
  };
}

function jsRegex(pattern: string, flags = ''): RegExp {
  // RE2 inline flags such as (?i) are common in KQL; JS wants them as flags.
  let source = pattern;
  let extra = '';
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    extra = (inline[1] as string).replace(/[^ims]/g, '');
  }
  return new RegExp(source, [...new Set(flags + extra)].join(''));
}

const substring = stringFn('substring', 2, 3, 'string', ([s, start, len]) => {
  const text = s as string;
  const from = Math.max(0, Number(start));
  if (!Number.isFinite(from)) return '';
  return len === undefined ? text.slice(from) : text.substr(from, Math.max(0, Number(len)));
});

const split: FunctionBinder = (args, env, pos) => {
  arity('split', args, 2, 3, env, pos);
  const types = args.map((a) => a.type);
  return derived('dynamic', args, (values) => {
    const parts = asString(values[0] as KqlValue, types[0] as KqlType).split(asString(values[1] as KqlValue, types[1] as KqlType));
    if (values.length < 3) return parts;
    const i = toNumber(values[2] as KqlValue);
    return i === null || i < 0 || i >= parts.length ? [] : [parts[i] as string];
  });
};

const extract: FunctionBinder = (args, env, pos) => {
  arity('extract', args, 3, 4, env, pos);
  if (args.length === 4) throw typeError(env.operator, "extract() with a type literal argument is not supported by the emulator", pos);
  const [pattern, group, source] = args as [CompiledExpr, CompiledExpr, CompiledExpr];
  if (!pattern.constant) throw typeError(env.operator, "extract(): the regex must be a constant", pos);
  const regex = jsRegex(String(pattern.eval([])));
  return derived('string', [group, source], ([g, s]) => {
    const m = regex.exec(asString(s as KqlValue, source.type));
    return m ? (m[toNumber(g as KqlValue) ?? 0] ?? '') : '';
  });
};

const replaceRegex: FunctionBinder = (args, env, pos) => {
  arity('replace_regex', args, 3, 3, env, pos);
  const [source, pattern, rewrite] = args as [CompiledExpr, CompiledExpr, CompiledExpr];
  if (!pattern.constant) throw typeError(env.operator, 'replace_regex(): the regex must be a constant', pos);
  const regex = jsRegex(String(pattern.eval([])), 'g');
  return derived('string', [source, rewrite], ([s, r]) =>
    asString(s as KqlValue, source.type).replace(regex, String(r).replace(/\\(\d)/g, '$$$1')),
  );
};

// ---- conditionals ----------------------------------------------------------

/** Common type of branches: numeric types widen; otherwise they must match. */
function commonType(name: string, types: KqlType[], env: FunctionEnv, pos: number): KqlType {
  let result = types[0] as KqlType;
  for (const t of types.slice(1)) {
    if (t === result) continue;
    if (isNumericType(t) && isNumericType(result)) result = widerNumeric(t, result);
    else if (t === 'dynamic' || result === 'dynamic') result = 'dynamic';
    else throw typeError(env.operator, `${name}(): all result arguments must be of the same type (got ${result} and ${t})`, pos);
  }
  return result;
}

const iif: FunctionBinder = (args, env, pos) => {
  arity('iif', args, 3, 3, env, pos);
  const [cond, then, otherwise] = args as [CompiledExpr, CompiledExpr, CompiledExpr];
  requireType('iif', cond, ['bool'], 0, env, pos);
  const type = commonType('iif', [then.type, otherwise.type], env, pos);
  const c = cond.eval;
  const a = then.eval;
  const b = otherwise.eval;
  if (args.every((x) => x.constant)) return constant(type, c([]) === true ? a([]) : b([]));
  return { type, constant: false, eval: (row) => (c(row) === true ? a(row) : b(row)) };
};

const caseFn: FunctionBinder = (args, env, pos) => {
  if (args.length < 3 || args.length % 2 === 0) {
    throw typeError(env.operator, 'case() expects pairs of predicate and value followed by an else value', pos);
  }
  const pairs: Array<[CompiledExpr, CompiledExpr]> = [];
  for (let i = 0; i + 1 < args.length; i += 2) pairs.push([args[i] as CompiledExpr, args[i + 1] as CompiledExpr]);
  const otherwise = args[args.length - 1] as CompiledExpr;
  const type = commonType('case', [...pairs.map(([, v]) => v.type), otherwise.type], env, pos);
  return {
    type,
    constant: false,
    eval: (row) => {
      for (const [p, v] of pairs) if (p.eval(row) === true) return v.eval(row);
      return otherwise.eval(row);
    },
  };
};

const coalesce: FunctionBinder = (args, env, pos) => {
  arity('coalesce', args, 2, 64, env, pos);
  const type = commonType('coalesce', args.map((a) => a.type), env, pos);
  return derived(type, args, (values) => {
    for (const v of values) if (v !== null && v !== '') return v;
    return type === 'string' ? '' : null;
  });
};

// ---- datetimes ---------------------------------------------------------------

const DATE_PART_MS: Readonly<Record<string, number>> = {
  week: 7 * MS_PER_DAY, day: MS_PER_DAY, hour: 3_600_000, minute: 60_000, second: 1000, millisecond: 1,
  microsecond: 0.001, nanosecond: 0.000001,
};

function datePart(name: string, arg: CompiledExpr, env: FunctionEnv, pos: number): string {
  if (!arg.constant || arg.type !== 'string') throw typeError(env.operator, `${name}(): the period must be a constant string`, pos);
  const part = String(arg.eval([])).toLowerCase();
  if (part !== 'year' && part !== 'quarter' && part !== 'month' && DATE_PART_MS[part] === undefined) {
    throw typeError(env.operator, `${name}(): unknown period '${part}'`, pos);
  }
  return part;
}

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d.getTime() + (ms - Math.floor(ms));
}

const datetimeAdd: FunctionBinder = (args, env, pos) => {
  arity('datetime_add', args, 3, 3, env, pos);
  const part = datePart('datetime_add', args[0] as CompiledExpr, env, pos);
  requireType('datetime_add', args[2], ['datetime'], 2, env, pos);
  return nullPropagating('datetime', args.slice(1), ([n, dt]) => {
    const amount = toNumber(n as KqlValue) ?? 0;
    const ms = dt as number;
    if (part === 'year') return addMonths(ms, amount * 12);
    if (part === 'quarter') return addMonths(ms, amount * 3);
    if (part === 'month') return addMonths(ms, amount);
    return ms + amount * (DATE_PART_MS[part] as number);
  });
};

const datetimeDiff: FunctionBinder = (args, env, pos) => {
  arity('datetime_diff', args, 3, 3, env, pos);
  const part = datePart('datetime_diff', args[0] as CompiledExpr, env, pos);
  return nullPropagating('long', args.slice(1), ([a, b]) => {
    const da = new Date(a as number);
    const db = new Date(b as number);
    const months = (da.getUTCFullYear() - db.getUTCFullYear()) * 12 + (da.getUTCMonth() - db.getUTCMonth());
    if (part === 'year') return da.getUTCFullYear() - db.getUTCFullYear();
    if (part === 'quarter') return Math.floor(da.getUTCMonth() / 3) - Math.floor(db.getUTCMonth() / 3) + (da.getUTCFullYear() - db.getUTCFullYear()) * 4;
    if (part === 'month') return months;
    if (part === 'week') return Math.floor(startOfWeek(a as number) / DATE_PART_MS.week!) - Math.floor(startOfWeek(b as number) / DATE_PART_MS.week!);
    const unit = DATE_PART_MS[part] as number;
    return Math.floor((a as number) / unit) - Math.floor((b as number) / unit);
  });
};

function startOfWeek(ms: number): number {
  const day = Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
  return day - new Date(day).getUTCDay() * MS_PER_DAY;
}

function dateFn(name: string, type: KqlType, impl: (ms: number, offset: number) => number): FunctionBinder {
  return (args, env, pos) => {
    arity(name, args, 1, 2, env, pos);
    requireType(name, args[0], ['datetime'], 0, env, pos);
    return nullPropagating(type, args, ([v, offset]) => impl(v as number, toNumber(offset ?? 0) ?? 0));
  };
}

const startOfMonth = (ms: number, offset: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
};
const startOfYear = (ms: number, offset: number) => Date.UTC(new Date(ms).getUTCFullYear() + offset, 0, 1);

const FORMAT_TOKENS = /yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|fffffff|ffffff|fffff|ffff|fff|ff|f|tt/g;

function formatDatetimeWith(ms: number, format: string): string {
  const d = new Date(Math.floor(ms));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const fraction = String(d.getUTCMilliseconds() * 10_000 + Math.round((ms - Math.floor(ms)) * 10_000)).padStart(7, '0');
  return format.replace(FORMAT_TOKENS, (token) => {
    switch (token) {
      case 'yyyy': return String(d.getUTCFullYear());
      case 'yy': return pad(d.getUTCFullYear() % 100);
      case 'MM': return pad(d.getUTCMonth() + 1);
      case 'M': return String(d.getUTCMonth() + 1);
      case 'dd': return pad(d.getUTCDate());
      case 'd': return String(d.getUTCDate());
      case 'HH': return pad(d.getUTCHours());
      case 'H': return String(d.getUTCHours());
      case 'hh': return pad(d.getUTCHours() % 12 || 12);
      case 'h': return String(d.getUTCHours() % 12 || 12);
      case 'mm': return pad(d.getUTCMinutes());
      case 'm': return String(d.getUTCMinutes());
      case 'ss': return pad(d.getUTCSeconds());
      case 's': return String(d.getUTCSeconds());
      case 'tt': return d.getUTCHours() < 12 ? 'AM' : 'PM';
      default: return fraction.slice(0, token.length);
    }
  });
}

// ---- dynamic -----------------------------------------------------------------

const arrayLength: FunctionBinder = (args, env, pos) => {
  arity('array_length', args, 1, 1, env, pos);
  return derived('long', args, ([v]) => (Array.isArray(v) ? v.length : null));
};

const pack: FunctionBinder = (args, env, pos) => {
  if (args.length % 2 !== 0) throw typeError(env.operator, 'bag_pack() expects key/value pairs', pos);
  const types = args.map((a) => a.type);
  return derived('dynamic', args, (values) => {
    const bag: Record<string, KqlValue> = {};
    for (let i = 0; i + 1 < values.length; i += 2) {
      bag[asString(values[i] as KqlValue, types[i] as KqlType)] = toDynamic(values[i + 1] as KqlValue, types[i + 1] as KqlType);
    }
    return bag as KqlDynamic;
  });
};

const packArray: FunctionBinder = (args) => {
  const types = args.map((a) => a.type);
  return derived('dynamic', args, (values) => values.map((v, i) => toDynamic(v, types[i] as KqlType)) as KqlDynamic);
};

// ---- term matching (has, has_any, …) -------------------------------------

const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127;

/**
 * Whether `needle` occurs in `haystack` as whole terms. Kusto indexes runs of
 * alphanumeric characters; `has` matches when the needle lines up with term boundaries.
 */
export function hasTerm(haystack: string, needle: string, caseSensitive: boolean, mode: 'whole' | 'prefix' | 'suffix' = 'whole'): boolean {
  if (needle === '') return true;
  const h = caseSensitive ? haystack : haystack.toLowerCase();
  const n = caseSensitive ? needle : needle.toLowerCase();
  const checkStart = mode !== 'suffix' && isAlnum(n.charCodeAt(0));
  const checkEnd = mode !== 'prefix' && isAlnum(n.charCodeAt(n.length - 1));
  for (let i = h.indexOf(n); i >= 0; i = h.indexOf(n, i + 1)) {
    const end = i + n.length;
    if (checkStart && i > 0 && isAlnum(h.charCodeAt(i - 1))) continue;
    if (checkEnd && end < h.length && isAlnum(h.charCodeAt(end))) continue;
    return true;
  }
  return false;
}

function hasList(all: boolean): FunctionBinder {
  return (args, env, pos) => {
    const [subject, ...list] = args as [CompiledExpr, ...CompiledExpr[]];
    if (list.length === 0) throw typeError(env.operator, `has_${all ? 'all' : 'any'}() needs at least one term`, pos);
    const types = list.map((a) => a.type);
    return derived('bool', args, ([s, ...terms]) => {
      const text = asString(s as KqlValue, subject.type);
      const flat = terms.flatMap((t, i) => (Array.isArray(t) ? t.map((x) => String(x)) : [asString(t, types[i] as KqlType)]));
      return all ? flat.every((t) => hasTerm(text, t, false)) : flat.some((t) => hasTerm(text, t, false));
    });
  };
}

// ---- registry ----------------------------------------------------------------

function minMaxOf(name: string, pick: (a: number, b: number) => boolean): FunctionBinder {
  return (args, env, pos) => {
    arity(name, args, 2, 64, env, pos);
    const type = commonType(name, args.map((a) => a.type), env, pos);
    return derived(type, args, (values) => {
      let best: KqlValue = null;
      for (const v of values) if (v !== null && (best === null || pick(Number(v), Number(best)))) best = v;
      return best;
    });
  };
}

export const SCALAR_FUNCTIONS: ReadonlyMap<string, FunctionBinder> = new Map<string, FunctionBinder>([
  ['strcat', (args, env, pos) => {
    arity('strcat', args, 1, 64, env, pos);
    const types = args.map((a) => a.type);
    return derived('string', args, (values) => values.map((v, i) => asString(v, types[i] as KqlType)).join(''));
  }],
  ['strcat_delim', (args, env, pos) => {
    arity('strcat_delim', args, 3, 64, env, pos);
    const types = args.map((a) => a.type);
    return derived('string', args, ([d, ...values]) => values.map((v, i) => asString(v, types[i + 1] as KqlType)).join(asString(d as KqlValue, 'string')));
  }],
  ['tolower', stringFn('tolower', 1, 1, 'string', ([s]) => (s as string).toLowerCase())],
  ['toupper', stringFn('toupper', 1, 1, 'string', ([s]) => (s as string).toUpperCase())],
  ['strlen', stringFn('strlen', 1, 1, 'long', ([s]) => [...(s as string)].length)],
  ['substring', substring],
  ['indexof', stringFn('indexof', 2, 2, 'long', ([s, x]) => (s as string).indexOf(x as string))],
  ['countof', stringFn('countof', 2, 2, 'long', ([s, x]) => (x === '' ? 0 : (s as string).split(x as string).length - 1))],
  ['reverse', stringFn('reverse', 1, 1, 'string', ([s]) => [...(s as string)].reverse().join(''))],
  // The service caps the result at 1,048,576 characters.
  ['strrep', stringFn('strrep', 2, 3, 'string', ([s, n, d]) => Array<string>(Math.max(0, Math.min(Number(n), Math.floor(1_048_576 / Math.max(1, (s as string).length))))).fill(s as string).join(d ?? ''))],
  ['trim_start', stringFn('trim_start', 2, 2, 'string', ([r, s]) => (s as string).replace(jsRegex(`^(?:${r})+`), ''))],
  ['trim_end', stringFn('trim_end', 2, 2, 'string', ([r, s]) => (s as string).replace(jsRegex(`(?:${r})+$`), ''))],
  ['trim', stringFn('trim', 2, 2, 'string', ([r, s]) => (s as string).replace(jsRegex(`^(?:${r})+|(?:${r})+$`, 'g'), ''))],
  ['replace_string', stringFn('replace_string', 3, 3, 'string', ([s, a, b]) => (a === '' ? (s as string) : (s as string).split(a as string).join(b as string)))],
  ['replace_regex', replaceRegex],
  ['split', split],
  ['extract', extract],
  ['tostring', converter('string')],
  ['toint', converter('int')],
  ['tolong', converter('long')],
  ['todouble', converter('real')],
  ['toreal', converter('real')],
  ['tobool', converter('bool')],
  ['toboolean', converter('bool')],
  ['todatetime', converter('datetime')],
  ['totimespan', converter('timespan')],
  ['toguid', converter('guid')],
  ['todynamic', converter('dynamic')],
  ['parse_json', converter('dynamic')],
  ['round', round],
  ['bin', bin],
  ['floor', (args, env, pos) => (args.length === 2 ? bin(args, env, pos) : math('floor', Math.floor, true)(args, env, pos))],
  ['bin_at', binAt],
  ['ceiling', math('ceiling', Math.ceil, true)],
  ['abs', math('abs', Math.abs, true)],
  ['sign', math('sign', Math.sign, true)],
  ['sqrt', math('sqrt', Math.sqrt)],
  ['exp', math('exp', Math.exp)],
  ['log', math('log', Math.log)],
  ['log10', math('log10', Math.log10)],
  ['log2', math('log2', Math.log2)],
  ['isnan', (args, env, pos) => { arity('isnan', args, 1, 1, env, pos); return derived('bool', args, ([v]) => typeof v === 'number' && Number.isNaN(v)); }],
  ['pow', (args, env, pos) => { arity('pow', args, 2, 2, env, pos); return nullPropagating('real', args, ([a, b]) => (toNumber(a as KqlValue) ?? 0) ** (toNumber(b as KqlValue) ?? 0)); }],
  ['iif', iif],
  ['iff', iif],
  ['case', caseFn],
  ['coalesce', coalesce],
  ['min_of', minMaxOf('min_of', (a, b) => a < b)],
  ['max_of', minMaxOf('max_of', (a, b) => a > b)],
  ['isnull', (args, env, pos) => { arity('isnull', args, 1, 1, env, pos); return derived('bool', args, ([v]) => v === null); }],
  ['isnotnull', (args, env, pos) => { arity('isnotnull', args, 1, 1, env, pos); return derived('bool', args, ([v]) => v !== null); }],
  ['isempty', (args, env, pos) => { arity('isempty', args, 1, 1, env, pos); return derived('bool', args, ([v]) => v === null || v === ''); }],
  ['isnotempty', (args, env, pos) => { arity('isnotempty', args, 1, 1, env, pos); return derived('bool', args, ([v]) => v !== null && v !== ''); }],
  ['not', (args, env, pos) => {
    arity('not', args, 1, 1, env, pos);
    requireType('not', args[0], ['bool'], 0, env, pos);
    return derived('bool', args, ([v]) => (v === null ? null : !v));
  }],
  ['now', (args, env, pos) => {
    arity('now', args, 0, 1, env, pos);
    return derived('datetime', args, ([offset]) => env.now + (toNumber(offset ?? 0) ?? 0));
  }],
  ['ago', (args, env, pos) => {
    arity('ago', args, 1, 1, env, pos);
    requireType('ago', args[0], ['timespan'], 0, env, pos);
    return nullPropagating('datetime', args, ([span]) => env.now - (span as number));
  }],
  ['datetime_add', datetimeAdd],
  ['datetime_diff', datetimeDiff],
  ['startofday', dateFn('startofday', 'datetime', (ms, o) => Math.floor(ms / MS_PER_DAY) * MS_PER_DAY + o * MS_PER_DAY)],
  ['endofday', dateFn('endofday', 'datetime', (ms, o) => Math.floor(ms / MS_PER_DAY) * MS_PER_DAY + (o + 1) * MS_PER_DAY - 0.0001)],
  ['startofweek', dateFn('startofweek', 'datetime', (ms, o) => startOfWeek(ms) + o * 7 * MS_PER_DAY)],
  ['startofmonth', dateFn('startofmonth', 'datetime', startOfMonth)],
  ['startofyear', dateFn('startofyear', 'datetime', startOfYear)],
  ['dayofweek', dateFn('dayofweek', 'timespan', (ms) => new Date(ms).getUTCDay() * MS_PER_DAY)],
  ['dayofmonth', dateFn('dayofmonth', 'int', (ms) => new Date(ms).getUTCDate())],
  ['hourofday', dateFn('hourofday', 'int', (ms) => new Date(ms).getUTCHours())],
  ['getmonth', dateFn('getmonth', 'int', (ms) => new Date(ms).getUTCMonth() + 1)],
  ['monthofyear', dateFn('monthofyear', 'int', (ms) => new Date(ms).getUTCMonth() + 1)],
  ['getyear', dateFn('getyear', 'int', (ms) => new Date(ms).getUTCFullYear())],
  ['format_datetime', (args, env, pos) => {
    arity('format_datetime', args, 2, 2, env, pos);
    requireType('format_datetime', args[0], ['datetime'], 0, env, pos);
    return nullPropagating('string', args, ([v, f]) => formatDatetimeWith(v as number, String(f)));
  }],
  ['unixtime_seconds_todatetime', (args, env, pos) => { arity('unixtime_seconds_todatetime', args, 1, 1, env, pos); return nullPropagating('datetime', args, ([v]) => (toNumber(v as KqlValue) ?? 0) * 1000); }],
  ['unixtime_milliseconds_todatetime', (args, env, pos) => { arity('unixtime_milliseconds_todatetime', args, 1, 1, env, pos); return nullPropagating('datetime', args, ([v]) => toNumber(v as KqlValue) ?? 0); }],
  ['array_length', arrayLength],
  ['bag_pack', pack],
  ['pack', pack],
  ['pack_array', packArray],
  ['__has_any', hasList(false)],
  ['__has_all', hasList(true)],
]);

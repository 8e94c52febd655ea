import { createHmac } from 'node:crypto';
import { clientText } from './text.ts';

/**
 * The one redaction policy of the audit log, for arguments and every
 * free-text field alike (query text, user agent, tool name, ...):
 * declared-sensitive arguments and anything that looks like a credential are
 * replaced by their length and, when a fingerprint key is configured, a keyed
 * hash (so analysts can correlate equal values without seeing them; a plain
 * hash of a short value could be brute-forced). Everything else is cut and
 * has its control characters escaped (text.ts).
 *
 * Bounded and total: the walk is depth-, breadth- and byte-limited, never
 * recurses further than MAX_DEPTH, never calls JSON.stringify on the input,
 * survives cycles, getters and proxies that throw, and never throws itself.
 * Strings are cut before any regex sees them.
 */

const MAX_STRING = 200;
const MAX_ARRAY = 20;
const MAX_KEYS = 50;
const MAX_KEY = 64;
const MAX_DEPTH = 4;
export const MAX_SUMMARY = 4096;
/** Secret patterns see this much beyond what is kept, so nothing kept is unscanned and a secret across the cut is still caught. */
const SCAN_MARGIN = 512;
/** A fingerprint hashes at most this much of a value (its JSON text for non-strings), plus its length when longer. */
export const MAX_FINGERPRINT_INPUT = 65_536;

/** One pass for all patterns (every field of every record goes through it). */
const SECRET_PATTERN = new RegExp(
  [
    /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/.source, // JWT
    /\bbearer\s+[\w.~+/-]{16,}/.source,
    /(?:accountkey|sharedaccesskey|password|pwd|client_secret|secret)\s*[=:]\s*\S{6,}/.source,
    /[?&]sig=[\w%+/=]{16,}/.source, // SAS signature
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/.source,
  ].join('|'),
  'i',
);

/** Whether the first `window` characters of `value` look like they hold a credential. */
function secretLike(value: string, window: number): boolean {
  return SECRET_PATTERN.test(value.length > window ? value.slice(0, window) : value);
}

/** Whether `value` looks like it holds a credential (looks at its first 64 KiB). */
export function looksLikeSecret(value: string): boolean {
  return secretLike(value, 65_536);
}

export type Fingerprinter = ((value: string) => string) | undefined;

export function fingerprinterFor(key: string | undefined): Fingerprinter {
  if (!key) return undefined;
  return (value) => createHmac('sha256', key).update(value).digest('hex').slice(0, 16);
}

/**
 * A value's JSON text, built iteratively and cut at `limit` characters: the
 * same text as JSON.stringify for plain JSON data, but no recursion, no
 * throw (cycles are `"[cycle]"`, unreadable properties `"[unreadable]"`,
 * bigints strings) and no work past the limit.
 */
export function boundedJson(root: unknown, limit: number): { text: string; complete: boolean } {
  type Frame =
    | { kind: 'array'; target: object; length: number; index: number }
    | { kind: 'object'; target: object; keys: string[]; index: number; wrote: boolean };
  const parts: string[] = [];
  let size = 0;
  const push = (text: string) => {
    parts.push(text);
    size += text.length;
  };
  const stack: Frame[] = [];
  const ancestors = new Set<object>();
  let failed = false;
  const read = (target: object, key: string | number): unknown => {
    try {
      const value = (target as Record<string | number, unknown>)[key];
      if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return (value as { toJSON(key: string): unknown }).toJSON(String(key));
      }
      return value;
    } catch {
      return '[unreadable]';
    }
  };
  /** JSON text of a primitive, `undefined` for values JSON leaves out, `null` for an object to open. */
  const primitive = (value: unknown): string | undefined | null => {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value.length > limit - size ? value.slice(0, Math.max(0, limit - size)) : value);
      case 'number':
        return Number.isFinite(value) ? String(value) : 'null';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return `"${value}"`;
      case 'object':
        return value === null ? 'null' : null;
      default:
        return undefined;
    }
  };
  const write = (value: unknown, inArray: boolean) => {
    const text = primitive(value);
    if (text !== null) return push(text ?? (inArray ? 'null' : ''));
    const target = value as object;
    if (ancestors.has(target)) return push('"[cycle]"');
    try {
      if (Array.isArray(target)) {
        const length = target.length;
        push('[');
        stack.push({ kind: 'array', target, length, index: 0 });
      } else {
        const keys = Object.keys(target);
        push('{');
        stack.push({ kind: 'object', target, keys, index: 0, wrote: false });
      }
      ancestors.add(target);
    } catch {
      push('"[unreadable]"');
    }
  };
  try {
    const first = primitive(root);
    if (first === undefined) return { text: '', complete: true };
    write(root, true);
    while (stack.length > 0 && size < limit) {
      const frame = stack[stack.length - 1] as Frame;
      if (frame.kind === 'array') {
        if (frame.index >= frame.length) {
          push(']');
          stack.pop();
          ancestors.delete(frame.target);
          continue;
        }
        if (frame.index > 0) push(',');
        write(read(frame.target, frame.index++), true);
      } else {
        if (frame.index >= frame.keys.length) {
          push('}');
          stack.pop();
          ancestors.delete(frame.target);
          continue;
        }
        const key = frame.keys[frame.index++] as string;
        const value = read(frame.target, key);
        if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
        push(`${frame.wrote ? ',' : ''}${JSON.stringify(key.length > limit ? key.slice(0, limit) : key)}:`);
        frame.wrote = true;
        write(value, false);
      }
    }
  } catch {
    failed = true;
  }
  const text = parts.join('');
  const complete = !failed && stack.length === 0 && text.length <= limit;
  return { text: complete ? text : text.slice(0, limit), complete };
}

/** `[redacted <why> len=<n> fp=<fingerprint>]`; for a value over 64 KiB, `len>=65536` for a non-string, and the fingerprint covers its first 64 KiB (plus, for a string, its length). */
function redacted(value: unknown, why: string, fingerprint: Fingerprinter): string {
  let text: string;
  let length: string;
  if (typeof value === 'string') {
    length = String(value.length);
    text = value.length > MAX_FINGERPRINT_INPUT ? `${value.slice(0, MAX_FINGERPRINT_INPUT)}\u0000${value.length}` : value;
  } else {
    const json = boundedJson(value, MAX_FINGERPRINT_INPUT);
    length = json.complete ? String(json.text.length) : `>=${MAX_FINGERPRINT_INPUT}`;
    text = json.text;
  }
  let fp = '';
  try {
    fp = fingerprint ? ` fp=${fingerprint(text)}` : '';
  } catch {
    fp = ' fp=unavailable';
  }
  return `[redacted ${why} len=${length}${fp}]`;
}

/**
 * The policy for one piece of client text: redacted when it looks like a
 * credential, else control characters escaped and cut to `max` characters.
 * Only the first `max` + 512 characters are ever scanned. `max` should be at
 * least 64, the length of the longest redaction marker.
 */
export function redactText(value: string, max: number, fingerprint: Fingerprinter): string {
  if (secretLike(value, max + SCAN_MARGIN)) return clientText(redacted(value, 'secret-like', fingerprint), max);
  return clientText(value, max);
}

interface Walk {
  fingerprint: Fingerprinter;
  /** Characters of summary still allowed; the walk stops adding when it is spent. */
  budget: number;
  /** Objects on the path from the root: a cycle is named, not followed. */
  ancestors: Set<object>;
}

function readProperty(target: object, key: string | number): unknown {
  try {
    return (target as Record<string | number, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}

function summarize(value: unknown, walk: Walk, depth: number): unknown {
  if (walk.budget <= 0) return '…';
  switch (typeof value) {
    case 'string': {
      const text = redactText(value, MAX_STRING, walk.fingerprint);
      walk.budget -= text.length + 3;
      return text;
    }
    case 'number':
    case 'boolean':
      walk.budget -= 6;
      return value;
    case 'bigint':
      walk.budget -= 6;
      return String(value);
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (walk.ancestors.has(value)) return '[cycle]';
  walk.ancestors.add(value);
  walk.budget -= 2;
  try {
    if (Array.isArray(value)) {
      const length = value.length;
      const items: unknown[] = [];
      for (let i = 0; i < length && i < MAX_ARRAY && walk.budget > 0; i++) {
        const item = summarize(readProperty(value, i), walk, depth + 1);
        items.push(item === undefined ? null : item);
      }
      if (length > items.length) items.push(`…[+${length - items.length} items]`);
      return items;
    }
    return summarizeEntries(value, Object.keys(value), walk, (_key, item) => summarize(item, walk, depth + 1));
  } catch {
    return '[unreadable]';
  } finally {
    walk.ancestors.delete(value);
  }
}

/** The first MAX_KEYS entries of `target` (as far as the budget goes), keys redacted and cut like values. */
function summarizeEntries(target: object, keys: readonly string[], walk: Walk, summarizeValue: (key: string, value: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let shown = 0;
  for (const key of keys) {
    if (shown >= MAX_KEYS || walk.budget <= 0) break;
    shown++;
    let name = redactText(key, MAX_KEY, walk.fingerprint);
    // Keys that are equal once cut stay apart.
    if (Object.hasOwn(out, name)) name = `${clientText(name, MAX_KEY - 8)}#${shown}`;
    walk.budget -= name.length + 4;
    const item = summarizeValue(key, readProperty(target, key));
    if (item === undefined) continue;
    // A key `__proto__` is just a key (plain assignment would set the prototype).
    if (name === '__proto__') Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
    else out[name] = item;
  }
  if (keys.length > shown) out['…'] = `[+${keys.length - shown} keys]`;
  return out;
}

/**
 * A JSON summary of a call's arguments, at most MAX_SUMMARY characters:
 * sensitive arguments (top-level names) redacted whole, secret-like strings
 * redacted wherever they are, strings cut at 200 characters, arrays at 20
 * items, objects at 50 keys, nesting at 4 levels. Never throws.
 */
export function summarizeArguments(args: unknown, sensitive: readonly string[], fingerprint: Fingerprinter): string {
  try {
    const walk: Walk = { fingerprint, budget: MAX_SUMMARY, ancestors: new Set() };
    let summary: unknown;
    if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
      walk.ancestors.add(args);
      summary = summarizeEntries(args, Object.keys(args), walk, (name, value) => {
        if (!sensitive.includes(name)) return summarize(value, walk, 1);
        const text = redacted(value, 'sensitive', fingerprint);
        walk.budget -= text.length + 3;
        return text;
      });
    } else {
      summary = summarize(args, walk, 0);
    }
    // The summary is small, acyclic, at most MAX_DEPTH deep and of plain values: safe to stringify.
    return clientText(JSON.stringify(summary) ?? '', MAX_SUMMARY);
  } catch (error) {
    return `"[unsummarizable: ${clientText((error as Error | undefined)?.name ?? typeof error, 40)}]"`;
  }
}

import { createHmac } from 'node:crypto';

/**
 * Turns tool arguments into a compact, safe summary for the audit log:
 * declared-sensitive arguments and anything that looks like a credential are
 * replaced by their length and, when a fingerprint key is configured, a keyed
 * hash (so analysts can correlate equal values without seeing them; a plain
 * hash of a short value could be brute-forced). Long strings are cut.
 */

const MAX_STRING = 200;
const MAX_ARRAY = 20;
const MAX_DEPTH = 4;
const MAX_SUMMARY = 4096;

const SECRET_PATTERNS: readonly RegExp[] = [
  /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/, // JWT
  /\bbearer\s+[\w.~+/-]{16,}/i,
  /(accountkey|sharedaccesskey|password|pwd|client_secret|secret)\s*[=:]\s*\S{6,}/i,
  /[?&]sig=[\w%+/=]{16,}/i, // SAS signature
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

export function looksLikeSecret(value: string): boolean {
  return SECRET_PATTERNS.some((pattern) => pattern.test(value));
}

export type Fingerprinter = ((value: string) => string) | undefined;

export function fingerprinterFor(key: string | undefined): Fingerprinter {
  if (!key) return undefined;
  return (value) => createHmac('sha256', key).update(value).digest('hex').slice(0, 16);
}

function redacted(value: unknown, why: string, fingerprint: Fingerprinter): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const fp = fingerprint ? ` fp=${fingerprint(text)}` : '';
  return `[redacted ${why} len=${text.length}${fp}]`;
}

function summarize(value: unknown, fingerprint: Fingerprinter, depth: number): unknown {
  if (typeof value === 'string') {
    if (looksLikeSecret(value)) return redacted(value, 'secret-like', fingerprint);
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…[+${value.length - MAX_STRING} chars]` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY).map((item) => summarize(item, fingerprint, depth + 1));
    if (value.length > MAX_ARRAY) items.push(`…[+${value.length - MAX_ARRAY} items]`);
    return items;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, summarize(v, fingerprint, depth + 1)]));
}

export function summarizeArguments(
  args: unknown,
  sensitive: readonly string[],
  fingerprint: Fingerprinter,
): string {
  let summary: unknown;
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
    summary = Object.fromEntries(
      Object.entries(args).map(([name, value]) => [
        name,
        sensitive.includes(name) ? redacted(value, 'sensitive', fingerprint) : summarize(value, fingerprint, 1),
      ]),
    );
  } else {
    summary = summarize(args, fingerprint, 0);
  }
  const text = JSON.stringify(summary) ?? '';
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY)}…[+${text.length - MAX_SUMMARY} chars]` : text;
}

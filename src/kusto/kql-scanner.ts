/**
 * A KQL lexer that follows Kusto's own lexical rules (`Kusto.Language`'s
 * TextFacts and TokenParser): its whitespace set (which includes the
 * zero-width space U+200B, the Mongolian vowel separator U+180E and the
 * no-break space U+00A0), its line breaks (CR LF, CR, LF, U+2028, U+2029),
 * `//` comments to the next line start, `#` directive lines, and every
 * string form (`'…'`, `"…"` with escapes, `@'…'` verbatim, `h`-prefixed,
 * and the ```` ``` ```` / `~~~` multi-line strings).
 *
 * It does not parse KQL; it finds where tokens begin and end, so that
 * the read-only check sees statements exactly where Kusto does. Where
 * lexers could disagree (an unterminated string, an invalid escape, a
 * character that some parsers take for a line break), it reports a
 * problem instead of guessing, and the check refuses the query.
 */

export type TokenKind =
  /** `;` `(` `)` `[` `]` `{` `}` `,` `|` `=` `.` `..` `@` and other punctuation. */
  | 'punct'
  | 'ident'
  | 'number'
  | 'string'
  /** A `#…` line (a Kusto Explorer client directive such as `#connect`). */
  | 'directive'
  /** A control, format or separator character that Kusto does not count as whitespace (e.g. U+2060). */
  | 'invisible'
  /** Any other single character. */
  | 'other';

export interface KqlToken {
  kind: TokenKind;
  start: number;
  end: number;
  text: string;
}

export interface ScanProblem {
  offset: number;
  message: string;
}

export interface ScanResult {
  tokens: KqlToken[];
  /** `[start, end)` of each `//` comment, without the line break that ends it. */
  comments: Array<[number, number]>;
  problems: ScanProblem[];
}

/** `Kusto.Language.Parsing.TextFacts.IsWhitespace`. */
const KUSTO_WHITESPACE = new Set([
  0x09, 0x20, 0x0d, 0x0a, 0x0c, 0xa0, 0x1680, 0x180e, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x200b, 0x202f, 0x205f, 0x3000, 0xfeff,
]);

export const isKustoWhitespace = (code: number): boolean => KUSTO_WHITESPACE.has(code);

/** `TextFacts.IsLineBreakStart`: CR, LF, line separator, paragraph separator. */
const isLineBreakStart = (code: number) => code === 0x0d || code === 0x0a || code === 0x2028 || code === 0x2029;

/** Characters some other parser could take for a line break; refused inside comments and strings. */
const AMBIGUOUS_BREAKS = /[\u000b\u000c\u0085\u2028\u2029]/;

/** Invisible characters outside Kusto's whitespace set: never significant to the read-only check. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/u;

const isAsciiLetter = (code: number) => (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
const isIdentifierStart = (code: number) => isAsciiLetter(code) || code === 0x5f || code === 0x24;
const isIdentifierPart = (code: number) => isAsciiLetter(code) || isDigit(code) || code === 0x5f;
const isHex = (code: number) => isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);

/** Index just past the line break that ends the line containing `from`, or the text length. */
function nextLineStart(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isLineBreakStart(code)) continue;
    return code === 0x0d && text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
  }
  return text.length;
}

function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (isLineBreakStart(text.charCodeAt(i))) return i;
  return text.length;
}

/** `TokenParser.ScanStringEscape`: length of a valid escape at `i` (which holds `\`), or -1. */
function escapeLength(text: string, i: number): number {
  const next = text[i + 1];
  if (next !== undefined && `\\'"abfnrtv`.includes(next)) return 2;
  const hexRun = (count: number) => {
    for (let k = 0; k < count; k++) if (!isHex(text.charCodeAt(i + 2 + k))) return -1;
    return count + 2;
  };
  if (next === 'u') return hexRun(4);
  if (next === 'U') return hexRun(8);
  if (next === 'x') return hexRun(2);
  const octal = (k: number) => {
    const code = text.charCodeAt(i + k);
    return code >= 0x30 && code <= 0x37;
  };
  if (!octal(1)) return -1;
  if (!octal(2)) return 2;
  return octal(3) && text.charCodeAt(i + 1) <= 0x33 ? 4 : 3;
}

const PUNCTUATION_PAIRS = ['..', '==', '!=', '<=', '>=', '=~', '!~', '=>', '<|', '<>'];

export function scanKql(text: string): ScanResult {
  const tokens: KqlToken[] = [];
  const comments: Array<[number, number]> = [];
  const problems: ScanProblem[] = [];
  const push = (kind: TokenKind, start: number, end: number) => tokens.push({ kind, start, end, text: text.slice(start, end) });
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    const ch = text[i] as string;
    if (KUSTO_WHITESPACE.has(code)) {
      i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const end = lineEnd(text, i);
      if (AMBIGUOUS_BREAKS.test(text.slice(i, end))) problems.push({ offset: i, message: 'a comment contains a character that some parsers read as a line break (U+000B, U+000C or U+0085)' });
      comments.push([i, end]);
      // The line break after it is whitespace (Kusto's comment runs to the next line start).
      i = nextLineStart(text, end);
      continue;
    }
    if (ch === '#') {
      const end = lineEnd(text, i);
      push('directive', i, end);
      i = end;
      continue;
    }
    if (text.startsWith('```', i) || text.startsWith('~~~', i)) {
      const quote = text.slice(i, i + 3);
      const close = text.indexOf(quote, i + 3);
      if (close < 0) problems.push({ offset: i, message: `the multi-line string ${quote}… is not closed` });
      const end = close < 0 ? text.length : close + 3;
      push('string', i, end);
      i = end;
      continue;
    }
    if (ch === '"' || ch === "'" || (ch === '@' && (text[i + 1] === '"' || text[i + 1] === "'"))) {
      const end = scanQuoted(text, i, problems);
      push('string', i, end);
      i = end;
      continue;
    }
    if (isIdentifierStart(code)) {
      let end = i + 1;
      while (end < text.length && isIdentifierPart(text.charCodeAt(end))) end++;
      push('ident', i, end);
      i = end;
      continue;
    }
    if (isDigit(code)) {
      const match = /^\d+(?:\.(?!\.)\d*)?(?:[eE][+-]?\d+)?[A-Za-z0-9_]*/.exec(text.slice(i, i + 200));
      const end = i + (match?.[0].length ?? 1);
      push('number', i, end);
      i = end;
      continue;
    }
    const pair = PUNCTUATION_PAIRS.find((p) => text.startsWith(p, i));
    if (pair) {
      push('punct', i, i + pair.length);
      i += pair.length;
      continue;
    }
    if (';()[]{},|=.<>+-*/%!:?@~'.includes(ch)) {
      push('punct', i, i + 1);
      i++;
      continue;
    }
    // Astral characters are one token, not two halves.
    const width = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
    push(INVISIBLE.test(text.slice(i, i + width)) ? 'invisible' : 'other', i, i + width);
    i += width;
  }
  return { tokens, comments, problems };
}

/** `TokenParser.ParseStringLiteral` for `'…'`, `"…"` and `@'…'`: ends at the quote, a line break, or an invalid escape. */
function scanQuoted(text: string, start: number, problems: ScanProblem[]): number {
  const verbatim = text[start] === '@';
  const open = verbatim ? start + 1 : start;
  const quote = text[open] as string;
  let i = open + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    const code = text.charCodeAt(i);
    if (ch === quote) {
      if (verbatim && text[i + 1] === quote) {
        i += 2;
        continue;
      }
      const body = text.slice(open + 1, i);
      if (AMBIGUOUS_BREAKS.test(body)) problems.push({ offset: start, message: 'a string contains a raw line or paragraph separator; write it as an escape such as \\u2028' });
      return i + 1;
    }
    if (code === 0x0d || code === 0x0a) break;
    if (ch === '\\' && !verbatim) {
      const length = escapeLength(text, i);
      if (length < 0) {
        problems.push({ offset: i, message: `the string has an invalid escape "\\${text[i + 1] ?? ''}" (double the backslash, or use a verbatim string @"…")` });
        return i;
      }
      i += length;
      continue;
    }
    i++;
  }
  problems.push({ offset: start, message: 'a string is not closed on its line' });
  return i;
}

/** 1-based line and 0-based position of an offset, counting Kusto's line breaks. */
export function lineAndPosition(text: string, offset: number): { line: number; position: number } {
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < offset && i < text.length) {
    const code = text.charCodeAt(i);
    if (isLineBreakStart(code)) {
      i += code === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      line++;
      lineStart = i;
      continue;
    }
    i++;
  }
  return { line, position: offset - lineStart };
}

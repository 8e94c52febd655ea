/**
 * Tokenizer for the KQL subset. Keywords are not reserved here: KQL treats
 * most of them as contextual, so the parser decides by token text.
 */
import { syntaxError } from './kql-errors.ts';

/** `typed` is a literal such as `datetime(2024-01-01)`: its text is the raw content between the parentheses. */
export type TokenKind = 'ident' | 'number' | 'timespan' | 'string' | 'typed' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text (for strings: the decoded value; for numbers: the digits). */
  text: string;
  /** Decoded number (ms for timespans). */
  num?: number;
  /** Numbers written without fraction or exponent are `long`, the others `real`. */
  isInteger?: boolean;
  /** For `typed` tokens: the type keyword as written (`datetime`, `time`, `long`, …). */
  typeName?: string;
  start: number;
  end: number;
}

const TIMESPAN_UNITS_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
};

// Longest first, so `<=` wins over `<`.
const OPERATORS = ['==', '!=', '<>', '<=', '>=', '=~', '!~', '..', '=>', '|', ';', ',', '(', ')', '[', ']', '{', '}',
  '.', '=', '<', '>', '+', '-', '*', '/', '%', '!', ':', '?', '~'];

/**
 * Literal constructors whose argument is raw text, not tokens: `datetime(2024-01-01T10:00)` would not
 * tokenize as an expression, so the lexer captures the text up to the matching parenthesis.
 */
const TYPED_LITERALS = new Set(['datetime', 'date', 'timespan', 'time', 'guid', 'uuid', 'uniqueid', 'dynamic', 'long',
  'int', 'int64', 'int32', 'real', 'double', 'bool', 'boolean', 'decimal']);

/**
 * Kusto's whitespace (`Kusto.Language` TextFacts.IsWhitespace): besides the
 * ASCII spaces, the no-break space pasted from web pages, the zero-width
 * space, the Mongolian vowel separator, the byte order mark and the Unicode
 * spaces. Line breaks are CR, LF, U+2028 and U+2029; a `//` comment ends at any.
 */
const WHITESPACE = new Set([0x09, 0x20, 0x0d, 0x0a, 0x0c, 0xa0, 0x1680, 0x180e, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x200b, 0x202f, 0x205f, 0x3000, 0xfeff]);
export const isWhitespace = (code: number) => WHITESPACE.has(code);
const isLineBreak = (code: number) => code === 0x0d || code === 0x0a || code === 0x2028 || code === 0x2029;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$');
const isIdentPart = (c: string | undefined) => isIdentStart(c) || isDigit(c);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (isWhitespace(text.charCodeAt(i))) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && !isLineBreak(text.charCodeAt(i))) i++;
      continue;
    }
    const start = i;
    if (isStringStart(text, i)) {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', text: value, start, end });
      i = end;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1]) && !isIdentPart(text[i - 1]) && text[i - 1] !== ')')) {
      const token = readNumber(text, i);
      tokens.push(token);
      i = token.end;
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(text[i])) i++;
      const word = text.slice(start, i);
      const open = skipSpaces(text, i);
      const previous = tokens[tokens.length - 1];
      const afterDot = previous?.kind === 'op' && previous.text === '.';
      if (TYPED_LITERALS.has(word.toLowerCase()) && text[open] === '(' && !afterDot) {
        const close = findClosingParen(text, open);
        tokens.push({ kind: 'typed', typeName: word, text: text.slice(open + 1, close), start, end: close + 1 });
        i = close + 1;
        continue;
      }
      tokens.push({ kind: 'ident', text: word, start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw syntaxError(text, i, `unexpected character '${c}'`);
    tokens.push({ kind: 'op', text: op, start, end: i + op.length });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '<end of query>', start: text.length, end: text.length });
  return tokens;
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

function findClosingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw syntaxError(text, open, "missing ')' after literal");
}

function isStringStart(text: string, i: number): boolean {
  const c = text[i];
  if (c === '"' || c === "'") return true;
  if ((c === '`' && text.startsWith('```', i)) || (c === '~' && text.startsWith('~~~', i))) return true;
  // Verbatim @"..." and obfuscated h"..." / h@"..." strings.
  if (c === '@' && (text[i + 1] === '"' || text[i + 1] === "'")) return true;
  if ((c === 'h' || c === 'H') && !isIdentPart(text[i - 1])) {
    const n = text[i + 1];
    if (n === '"' || n === "'") return true;
    if (n === '@' && (text[i + 2] === '"' || text[i + 2] === "'")) return true;
  }
  return false;
}

function readString(text: string, i: number): { value: string; end: number } {
  const start = i;
  if (text[i] === 'h' || text[i] === 'H') i++;
  if (text.startsWith('```', i) || text.startsWith('~~~', i)) {
    const close = text.indexOf(text.slice(i, i + 3), i + 3);
    if (close < 0) throw syntaxError(text, start, 'unterminated multi-line string literal');
    return { value: text.slice(i + 3, close), end: close + 3 };
  }
  const verbatim = text[i] === '@';
  if (verbatim) i++;
  const quote = text[i] as string;
  i++;
  let value = '';
  while (i < text.length) {
    const c = text[i] as string;
    // Kusto ends every single-line string at a line break, verbatim or not.
    if (c === '\n' || c === '\r') break;
    if (c === quote) {
      if (verbatim && text[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    if (c === '\\' && !verbatim) {
      const { char, length } = readEscape(text, i);
      value += char;
      i += length;
      continue;
    }
    value += c;
    i++;
  }
  throw syntaxError(text, start, 'unterminated string literal');
}

function readEscape(text: string, i: number): { char: string; length: number } {
  const n = text[i + 1];
  switch (n) {
    case 'n':
      return { char: '\n', length: 2 };
    case 't':
      return { char: '\t', length: 2 };
    case 'r':
      return { char: '\r', length: 2 };
    case '0':
      return { char: '\0', length: 2 };
    case '\\':
    case '"':
    case "'":
      return { char: n, length: 2 };
    case 'u': {
      const hex = text.slice(i + 2, i + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) return { char: String.fromCharCode(parseInt(hex, 16)), length: 6 };
      break;
    }
    case 'x': {
      const hex = text.slice(i + 2, i + 4);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) return { char: String.fromCharCode(parseInt(hex, 16)), length: 4 };
      break;
    }
  }
  throw syntaxError(text, i, `invalid escape sequence '\\${n ?? ''}'`);
}

function readNumber(text: string, i: number): Token {
  const start = i;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    i += 2;
    while (/[0-9a-fA-F]/.test(text[i] ?? '')) i++;
    const digits = text.slice(start, i);
    return { kind: 'number', text: digits, num: Number(digits), isInteger: true, start, end: i };
  }
  let isInteger = true;
  while (isDigit(text[i])) i++;
  // `1..5` is a range, not `1.` followed by `.5`.
  if (text[i] === '.' && text[i + 1] !== '.') {
    isInteger = false;
    i++;
    while (isDigit(text[i])) i++;
  }
  if ((text[i] === 'e' || text[i] === 'E') && (isDigit(text[i + 1]) || /[+-]/.test(text[i + 1] ?? ''))) {
    isInteger = false;
    i += 2;
    while (isDigit(text[i])) i++;
  }
  const digits = text.slice(start, i);
  if (isIdentStart(text[i])) {
    let j = i;
    while (isIdentPart(text[j])) j++;
    const unit = text.slice(i, j).toLowerCase();
    const factor = TIMESPAN_UNITS_MS[unit];
    if (factor === undefined) throw syntaxError(text, i, `unknown timespan unit '${text.slice(i, j)}'`);
    return { kind: 'timespan', text: text.slice(start, j), num: Number(digits) * factor, start, end: j };
  }
  return { kind: 'number', text: digits, num: Number(digits), isInteger, start, end: i };
}

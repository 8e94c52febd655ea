import { scanKql, type KqlToken, type ScanResult } from './kql-scanner.ts';

/**
 * A query split into its statements at top-level `;`, on the tokens of
 * kql-scanner.ts (Kusto's lexical rules), so that `let`, comments and
 * strings such as "x; .drop" are never mistaken for statement boundaries
 * or commands. It never rejects KQL on its own: read-only-check.ts does,
 * and the service parses the query.
 */

export interface Statement {
  /** The statement with comments blanked out and outer whitespace trimmed. */
  code: string;
  /** The statement as written (comments kept). */
  text: string;
  /** Its significant tokens (offsets into the whole query). */
  tokens: KqlToken[];
  /** The first word (`let`, `set`, `declare`, …, or the table name), lower-cased; '' when it starts otherwise. */
  keyword: string;
}

/** Statements that bind or configure; every other statement returns a result table. */
const NON_TABULAR = new Set(['let', 'set', 'declare', 'alias', 'pattern', 'restrict']);

export const isTabular = (statement: Statement): boolean => !NON_TABULAR.has(statement.keyword);

/** Tokens that carry meaning: everything but invisible characters. */
export function significant(scan: ScanResult): KqlToken[] {
  return scan.tokens.filter((token) => token.kind !== 'invisible');
}

/** Replaces comments by spaces, keeping offsets. */
export function blankComments(query: string, scan: ScanResult): string {
  let out = '';
  let at = 0;
  for (const [start, end] of scan.comments) {
    out += query.slice(at, start) + ' '.repeat(end - start);
    at = end;
  }
  return out + query.slice(at);
}

/** Splits on top-level `;` (not inside strings, comments, (), [] or {} such as function bodies). */
export function splitStatements(query: string, scan: ScanResult = scanKql(query)): Statement[] {
  const code = blankComments(query, scan);
  const tokens = significant(scan);
  const statements: Statement[] = [];
  let depth = 0;
  let begin = 0;
  let pending: KqlToken[] = [];
  const push = (end: number) => {
    const piece = code.slice(begin, end);
    if (piece.trim() === '' && pending.length === 0) return;
    const first = pending[0];
    statements.push({
      code: piece.trim(),
      text: query.slice(begin, end).trim(),
      tokens: pending,
      keyword: first?.kind === 'ident' ? first.text.toLowerCase() : '',
    });
  };
  for (const token of tokens) {
    if (token.kind === 'punct') {
      if (token.text === '(' || token.text === '[' || token.text === '{') depth++;
      else if ((token.text === ')' || token.text === ']' || token.text === '}') && depth > 0) depth--;
      else if (token.text === ';' && depth === 0) {
        push(token.start);
        begin = token.end;
        pending = [];
        continue;
      }
    }
    pending.push(token);
  }
  push(code.length);
  return statements;
}

/** True when the statement is a management (control) command such as `.drop table`. */
export function isControlCommand(statement: Statement): boolean {
  const first = statement.tokens[0];
  return first?.kind === 'punct' && (first.text === '.' || first.text === '..');
}

/** Top-level operators that make one statement return several tables (the count would be wrong). */
const MULTI_TABLE_OPERATORS = new Set(['fork', 'facet']);

/**
 * A query that counts the rows `statement` returns: the bindings before it
 * (`let`, `declare`, `set`, … but no other result-producing statement) and
 * `(<statement> ) | count`, without a trailing `render`. Undefined when a
 * count would not mean "rows of this table" (the statement returns several
 * tables, or is not a tabular statement).
 */
export function countQuery(statements: readonly Statement[], index: number, query: string): string | undefined {
  const target = statements[index];
  if (!target || !isTabular(target)) return undefined;
  let depth = 0;
  let cut: number | undefined;
  const tokens = target.tokens;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as KqlToken;
    if (token.kind === 'punct' && '([{'.includes(token.text)) depth++;
    else if (token.kind === 'punct' && ')]}'.includes(token.text)) depth = Math.max(0, depth - 1);
    else if (depth === 0 && token.kind === 'punct' && token.text === '|') {
      const next = tokens[i + 1]?.text.toLowerCase();
      if (next && MULTI_TABLE_OPERATORS.has(next)) return undefined;
      if (next === 'render' && cut === undefined) cut = token.start;
    }
  }
  const scan = scanKql(query);
  const code = blankComments(query, scan);
  const first = tokens[0];
  if (!first) return undefined;
  const body = code.slice(first.start, cut ?? (tokens.at(-1) as KqlToken).end).trim();
  const bindings = statements.slice(0, index).filter((s) => !isTabular(s)).map((s) => s.code);
  return [...bindings, `(${body})\n| count`].join(';\n');
}

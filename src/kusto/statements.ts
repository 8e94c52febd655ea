/**
 * A small KQL scanner: just enough lexing (comments, every string literal
 * form, nesting) to split a query into statements and look at how each one
 * starts. It never rejects KQL on its own: the service parses the query. It
 * exists so that `let`, comments and strings such as "x.drop" are never
 * mistaken for commands, the mistake regex guards make.
 */

export interface Statement {
  /** The statement with comments blanked out and outer whitespace trimmed. */
  code: string;
  /** The statement as written (comments kept). */
  text: string;
}

/** Replaces comments by spaces, keeping offsets; strings are left intact. */
function blankComments(query: string): string {
  let out = '';
  let i = 0;
  while (i < query.length) {
    const ch = query[i] as string;
    const next = query[i + 1];
    if (ch === '/' && next === '/') {
      while (i < query.length && query[i] !== '\n') {
        out += ' ';
        i++;
      }
      continue;
    }
    const end = stringEnd(query, i);
    if (end > i) {
      out += query.slice(i, end);
      i = end;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** If a string literal starts at `i`, the index just past it; otherwise `i`. */
function stringEnd(query: string, i: number): number {
  if (query.startsWith('```', i)) {
    const close = query.indexOf('```', i + 3);
    return close < 0 ? query.length : close + 3;
  }
  let start = i;
  let verbatim = false;
  // Prefixes: @ (verbatim), h/H (obfuscated), and their combinations.
  while (start < query.length && /[@hH]/.test(query[start] as string) && start - i < 2) {
    if (query[start] === '@') verbatim = true;
    start++;
  }
  const quote = query[start];
  if (quote !== '"' && quote !== "'") return i;
  if (start > i && i > 0 && /[\w]/.test(query[i - 1] as string)) return i; // part of an identifier such as `path'`
  let j = start + 1;
  while (j < query.length) {
    const ch = query[j];
    if (!verbatim && ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === quote) {
      if (verbatim && query[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    if (ch === '\n' && !verbatim) return j; // unterminated on this line; let the service report it
    j++;
  }
  return query.length;
}

/** Splits on top-level `;` (not inside strings, comments, (), [] or {} such as function bodies). */
export function splitStatements(query: string): Statement[] {
  const code = blankComments(query);
  const statements: Statement[] = [];
  let depth = 0;
  let begin = 0;
  let i = 0;
  const push = (end: number) => {
    const piece = code.slice(begin, end);
    if (piece.trim()) statements.push({ code: piece.trim(), text: query.slice(begin, end).trim() });
  };
  while (i < code.length) {
    const end = stringEnd(code, i);
    if (end > i) {
      i = end;
      continue;
    }
    const ch = code[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    else if (ch === ';' && depth === 0) {
      push(i);
      begin = i + 1;
    }
    i++;
  }
  push(code.length);
  return statements;
}

/** True when the statement is a management (control) command such as `.drop table`. */
export function isControlCommand(statement: Statement): boolean {
  return statement.code.startsWith('.');
}

/** `set` options that would lift the budgets this server enforces. */
const BUDGET_OPTIONS = new Set([
  'notruncation',
  'truncationmaxrecords',
  'truncationmaxsize',
  'query_take_max_records',
  'norequesttimeout',
  'servertimeout',
  'maxmemoryconsumptionperiterator',
  'max_memory_consumption_per_query_per_node',
]);

/** Names of `set` statements that try to override budgets (refused with an explanation). */
export function budgetOverrides(statements: readonly Statement[]): string[] {
  const found: string[] = [];
  for (const statement of statements) {
    const match = /^set\s+([\w.]+)/i.exec(statement.code);
    if (match?.[1] && BUDGET_OPTIONS.has(match[1].toLowerCase())) found.push(match[1]);
  }
  return found;
}

/**
 * The query with its last statement wrapped as `(…) | count`: counts the
 * rows the full query would return, to report truncation honestly.
 */
export function countQuery(statements: readonly Statement[]): string | undefined {
  const last = statements.at(-1);
  if (!last || /^(let|set|declare|alias|pattern|restrict)\b/i.test(last.code)) return undefined;
  const body = last.code.replace(/\|\s*render\b[\s\S]*$/i, '');
  return [...statements.slice(0, -1).map((s) => s.code), `(${body})\n| count`].join(';\n');
}

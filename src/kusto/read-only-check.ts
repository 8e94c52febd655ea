import { isKustoWhitespace, lineAndPosition, scanKql, type KqlToken } from './kql-scanner.ts';
import { blankComments, significant } from './statements.ts';

/**
 * Layer 1 of read-only: user text that is, or could be read as, a
 * management command, a client directive, or a `set` statement that
 * changes what the server set, is refused before any request is made.
 * The cluster-side layers (request_readonly, the query endpoint) hold
 * on their own as well; this one must not depend on them.
 *
 * Command detection follows Kusto's parser (`KustoCode.GetKind`: the
 * first token, after trivia and directive lines, is a dot), applied to
 * every statement, and is stricter where parsers could differ: invisible
 * characters outside Kusto's whitespace set are skipped too, and text
 * whose tokens could be split differently by another lexer is refused.
 */

export interface Refusal {
  reason: string;
  nextStep: string;
}

/**
 * `set` options a query may use: they only shape the query's own
 * computation (its clock, time scope, `bin_auto` defaults, use of cached
 * results). Everything else, notably the budgets (`notruncation`,
 * `truncationmax*`, `query_take_max_records`), error reporting
 * (`deferpartialqueryfailures`, `results_error_reporting_placement`) and
 * confinement (`request_*`), is the server's to set.
 */
export const ALLOWED_SET_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['query_now', 'the value of now() for this query'],
  ['query_datetimescope_column', 'the column the datetime scope applies to'],
  ['query_datetimescope_from', 'the start of the datetime scope'],
  ['query_datetimescope_to', 'the end of the datetime scope'],
  ['query_bin_auto_size', 'the bin size of bin_auto()'],
  ['query_bin_auto_at', 'the alignment of bin_auto()'],
  ['query_results_cache_max_age', 'how old a cached result may be'],
]);

const READ_ONLY_ALTERNATIVES =
  'Use a query instead: kusto_table_schema or `T | getschema` for schemas, kusto_list_tables for tables, kusto_list_databases for databases.';

/** Tokens after which a new statement starts. */
const isStatementStart = (previous: KqlToken | undefined) =>
  previous === undefined || previous.kind === 'directive' || (previous.kind === 'punct' && (previous.text === ';' || previous.text === '{'));

/** Text as a model can read it back: invisible and unusual space characters written as \uXXXX. */
export const visible = (text: string): string => text.replace(/[^\P{C}\t\n\r]|[\p{Z}\u00a0\u180e]/gu, (ch) => (ch === ' ' ? ch : `\\u${ch.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`));

/**
 * `set` is a keyword: as a name it must be bracketed (`['set']`), except
 * when assigned (`print set = 1`). Kusto's parser reads it as a set
 * statement at a statement start, and, recovering from errors, in other
 * places too (`T | project set notruncation`); so any other `set` is
 * treated as one.
 */
function isSetStatement(token: KqlToken, previous: KqlToken | undefined, next: KqlToken | undefined): boolean {
  if (token.text.toLowerCase() !== 'set') return false;
  if (isStatementStart(previous) || next?.kind === 'ident') return true;
  return token.text === 'set' && !(next?.kind === 'punct' && next.text === '=');
}

const where = (text: string, offset: number) => {
  const { line, position } = lineAndPosition(text, offset);
  return `line ${line}, position ${position}`;
};

/** The refusal for `text`, or undefined when it may be sent as a read-only query. */
export function checkUserQuery(text: string): Refusal | undefined {
  const scan = scanKql(text);
  const tokens = significant(scan);
  const code = blankComments(text, scan);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as KqlToken;
    const previous = tokens[i - 1];
    if (token.kind === 'punct' && (token.text === '.' || token.text === '..') && isStatementStart(previous)) {
      const verb = /^\.+[\w-]*/.exec(text.slice(token.start).replace(/^(\.+)\s+/, '$1'))?.[0] ?? '.';
      return {
        reason: `Refused: "${visible(verb)}" at ${where(text, token.start)} starts a management command, and this server only runs read-only queries.`,
        nextStep: READ_ONLY_ALTERNATIVES,
      };
    }
    if (token.kind === 'directive') {
      return {
        reason: `Refused: "${visible(token.text.slice(0, 40))}" at ${where(text, token.start)} is a client directive (a Kusto Explorer #-line); this server sends queries only.`,
        nextStep: 'Remove the #-line; choose the cluster and database with the cluster and database arguments.',
      };
    }
    if (token.kind === 'ident' && isSetStatement(token, previous, tokens[i + 1])) {
      const refusal = setRefusal(text, code, tokens, i);
      if (refusal) return refusal;
    }
  }
  const [problem] = scan.problems;
  if (problem) {
    return {
      reason: `Refused: at ${where(text, problem.offset)}, ${problem.message}, so the query's statements cannot be told apart with certainty.`,
      nextStep: 'Fix that string or comment and run the query again.',
    };
  }
  return undefined;
}

function setRefusal(text: string, code: string, tokens: readonly KqlToken[], index: number): Refusal | undefined {
  const name = tokens[index + 1];
  // Only Kusto whitespace (and comments) may separate the keyword and the name; anything else and parsers may read another name.
  const gap = name ? code.slice((tokens[index] as KqlToken).end, name.start) : '';
  const plainGap = [...gap].every((ch) => isKustoWhitespace(ch.charCodeAt(0)));
  const statementEnd = tokens.findIndex((token, i) => i > index && token.kind === 'punct' && token.text === ';');
  const statement = text.slice((tokens[index] as KqlToken).start, statementEnd < 0 ? text.length : (tokens[statementEnd] as KqlToken).start).trim();
  const allowed = [...ALLOWED_SET_OPTIONS.keys()].join(', ');
  if (name?.kind === 'ident' && plainGap && ALLOWED_SET_OPTIONS.has(name.text)) return undefined;
  return {
    reason:
      `Refused: \`${visible(statement.slice(0, 120))}\` would change a request property this server sets (its result and time budgets, error reporting and confinement are fixed). ` +
      `Allowed set statements: ${allowed}.`,
    nextStep: 'Remove the set statement; use maxRows and timeoutSeconds for budgets. Confinement (read-only, no other clusters, no external data or callouts) cannot be changed.',
  };
}

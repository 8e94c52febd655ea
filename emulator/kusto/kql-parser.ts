/**
 * Recursive-descent parser for the KQL subset described in README.md.
 * Anything it recognizes as real KQL outside the subset raises an
 * "unsupported" error; anything it cannot recognize raises SYN0002.
 */
import type { Expr, NamedExpr, Operator, QueryParameterDecl, QueryScript, SortKey, Source, Statement, Tabular } from './kql-ast.ts';
import { KqlError, syntaxError, unsupported } from './kql-errors.ts';
import { tokenize, type Token } from './kql-lexer.ts';
import {
  isGuidText,
  parseDatetimeText,
  parseTimespanText,
  parseTypeName,
  type KqlType,
  type KqlValue,
} from './kql-types.ts';

/** Tabular operators KQL has but this emulator does not implement (reported as unsupported, not as syntax errors). */
const KNOWN_UNSUPPORTED_OPERATORS = new Set([
  'join', 'lookup', 'mv-expand', 'mv-apply', 'parse', 'parse-where', 'parse-kv', 'evaluate', 'make-series', 'sample',
  'sample-distinct', 'search', 'fork', 'facet', 'invoke', 'scan', 'top-nested', 'top-hitters', 'reduce', 'partition',
  'find', 'externaldata', 'consume', 'execute-and-cache', 'project-keep', 'extend-keep', 'graph-match', 'make-graph',
  'assert-schema', 'macro-expand',
]);
const KNOWN_UNSUPPORTED_SOURCES = new Set(['search', 'find', 'evaluate', 'externaldata', 'external_table',
  'materialized_view', 'cluster', 'macro-expand', 'graph']);

const STRING_OPERATORS = new Set([
  'has', 'has_cs', 'contains', 'contains_cs', 'startswith', 'startswith_cs', 'endswith', 'endswith_cs', 'hasprefix',
  'hasprefix_cs', 'hassuffix', 'hassuffix_cs', 'has_any', 'has_all', 'matches',
]);
const NEGATABLE = new Set([...STRING_OPERATORS, 'in', 'between']);
const COMPARISON_OPS = new Set(['==', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~']);

export function parseQuery(text: string): QueryScript {
  return new Parser(text).parseScript();
}

/** Parses a parameter value given as KQL literal text (e.g. `datetime(2024-01-01)`, `true`, `1h`). */
export function parseLiteralText(text: string): Expr {
  const parser = new Parser(text);
  const expr = parser.parseStandaloneExpr();
  return expr;
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  // ---- token helpers -------------------------------------------------------

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  private isOp(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'op' && t.text === text;
  }

  private isWord(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'ident' && t.text === word;
  }

  private expectOp(text: string): Token {
    if (!this.isOp(text)) throw this.fail(`expected '${text}'`);
    return this.next();
  }

  private expectWord(word: string): Token {
    if (!this.isWord(word)) throw this.fail(`expected '${word}'`);
    return this.next();
  }

  private expectIdent(what = 'a name'): Token {
    const t = this.peek();
    if (t.kind === 'ident') return this.next();
    if (this.isOp('[') && this.peek(1).kind === 'string' && this.isOp(']', 2)) {
      this.next();
      const name = this.next();
      this.next();
      return { ...name, kind: 'ident' };
    }
    throw this.fail(`expected ${what}`);
  }

  private fail(detail: string, token = this.peek()): KqlError {
    const found = token.kind === 'eof' ? 'the end of the query' : `'${token.text}'`;
    return syntaxError(this.text, token.start, `${detail}, found ${found}`);
  }

  // ---- statements ----------------------------------------------------------

  parseScript(): QueryScript {
    const statements: Statement[] = [];
    while (this.peek().kind !== 'eof') {
      if (this.isOp(';')) {
        this.next();
        continue;
      }
      statements.push(this.parseStatement());
      if (this.peek().kind !== 'eof') this.expectOp(';');
    }
    if (statements.length === 0) throw syntaxError(this.text, 0, 'the query is empty');
    return { statements };
  }

  parseStandaloneExpr(): Expr {
    const expr = this.parseExpr();
    if (this.peek().kind !== 'eof') throw this.fail('expected the end of the literal');
    return expr;
  }

  private parseStatement(): Statement {
    const t = this.peek();
    if (t.kind === 'ident') {
      if (t.text === 'let') return this.parseLet();
      if (t.text === 'declare') return this.parseDeclare();
      if (t.text === 'set' && this.peek(1).kind === 'ident') return this.parseSet();
      if (t.text === 'alias' || t.text === 'restrict' || t.text === 'pattern') throw unsupported(`${t.text} statement`, t.start);
    }
    const value = this.parseTabularOrExpr();
    if ('source' in value) return { kind: 'query', pos: value.pos, query: value };
    if (value.kind === 'tabular') return { kind: 'query', pos: value.pos, query: value.query };
    return { kind: 'expr', pos: value.pos, expr: value };
  }

  private parseLet(): Statement {
    const letToken = this.next();
    const name = this.expectIdent('a let name').text;
    this.expectOp('=');
    if (this.isWord('view')) throw unsupported('let … = view', this.peek().start);
    if (this.isOp('(') && (this.isOp(')', 1) || (this.peek(1).kind === 'ident' && this.isOp(':', 2)))) {
      throw unsupported('user-defined functions (let f = (…) { … })', this.peek().start);
    }
    const value = this.parseTabularOrExpr();
    if ('source' in value) return { kind: 'let', pos: letToken.start, name, value, tabular: true };
    if (value.kind === 'tabular') return { kind: 'let', pos: letToken.start, name, value: value.query, tabular: true };
    return { kind: 'let', pos: letToken.start, name, value, tabular: false };
  }

  private parseDeclare(): Statement {
    const declareToken = this.next();
    if (!this.isWord('query_parameters')) throw unsupported(`declare ${this.peek().text}`, this.peek().start);
    this.next();
    this.expectOp('(');
    const parameters: QueryParameterDecl[] = [];
    while (!this.isOp(')')) {
      const nameToken = this.expectIdent('a parameter name');
      this.expectOp(':');
      const type = this.parseTypeName();
      let defaultValue: Expr | undefined;
      if (this.isOp('=')) {
        this.next();
        defaultValue = this.parseExpr();
      }
      parameters.push({ name: nameToken.text, type, defaultValue, pos: nameToken.start });
      if (!this.isOp(')')) this.expectOp(',');
    }
    this.expectOp(')');
    return { kind: 'declare', pos: declareToken.start, parameters };
  }

  private parseSet(): Statement {
    const setToken = this.next();
    const name = this.next().text;
    let value: KqlValue | undefined;
    if (this.isOp('=')) {
      this.next();
      const expr = this.parseUnary();
      if (expr.kind === 'literal') value = expr.value;
      else if (expr.kind === 'name') value = expr.name;
      else throw syntaxError(this.text, expr.pos, 'expected a literal value for set');
    }
    return { kind: 'set', pos: setToken.start, name, value };
  }

  private parseTypeName(): KqlType {
    const t = this.next();
    if (t.kind !== 'ident') throw this.fail('expected a type name', t);
    if (t.text === 'decimal') throw unsupported('decimal type', t.start);
    const type = parseTypeName(t.text);
    if (!type) throw syntaxError(this.text, t.start, `unknown type '${t.text}'`);
    return type;
  }

  // ---- tabular expressions -------------------------------------------------

  /** A tabular expression, or a scalar one when no pipe or tabular keyword shows it is tabular. */
  private parseTabularOrExpr(): Tabular | Expr {
    const t = this.peek();
    if (t.kind === 'ident' && this.startsTabularSource(t)) {
      const source = this.parseKeywordSource();
      return { pos: t.start, source, operators: this.parseOperators() };
    }
    const after = this.peek(1);
    const looksLikeSource = after.kind === 'ident' || after.kind === 'string' || (after.kind === 'op' && after.text === '(');
    if (t.kind === 'ident' && KNOWN_UNSUPPORTED_SOURCES.has(t.text) && looksLikeSource) {
      throw unsupported(t.text === 'cluster' ? 'cluster() cross-cluster queries' : t.text, t.start);
    }
    const expr = this.parseExpr();
    if (!this.isOp('|')) return expr;
    const source = this.exprToSource(expr);
    return { pos: expr.pos, source, operators: this.parseOperators() };
  }

  private startsTabularSource(t: Token): boolean {
    switch (t.text) {
      case 'print':
        return !this.isOp('|', 1) && !this.isOp(';', 1) && !this.isOp('(', 1);
      case 'range':
        return this.peek(1).kind === 'ident' && this.isWord('from', 2);
      case 'datatable':
        return this.isOp('(', 1);
      case 'union':
        return !this.isOp('|', 1) && !this.isOp(';', 1) && this.peek(1).kind !== 'eof';
      default:
        return false;
    }
  }

  private parseKeywordSource(): Source {
    const t = this.next();
    switch (t.text) {
      case 'print':
        return { kind: 'print', pos: t.start, items: this.parseNamedList() };
      case 'range': {
        const column = this.expectIdent().text;
        this.expectWord('from');
        const from = this.parseExpr();
        this.expectWord('to');
        const to = this.parseExpr();
        this.expectWord('step');
        return { kind: 'range', pos: t.start, column, from, to, step: this.parseExpr() };
      }
      case 'datatable':
        return this.parseDatatable(t);
      default:
        return { kind: 'union', pos: t.start, sources: this.parseUnionArgs() };
    }
  }

  private parseDatatable(t: Token): Source {
    this.expectOp('(');
    const columns: Array<{ name: string; type: KqlType }> = [];
    while (!this.isOp(')')) {
      const name = this.expectIdent('a column name').text;
      this.expectOp(':');
      columns.push({ name, type: this.parseTypeName() });
      if (!this.isOp(')')) this.expectOp(',');
    }
    this.expectOp(')');
    this.expectOp('[');
    const values: Expr[] = [];
    while (!this.isOp(']')) {
      values.push(this.parseExpr());
      if (!this.isOp(']')) this.expectOp(',');
    }
    this.expectOp(']');
    return { kind: 'datatable', pos: t.start, columns, values };
  }

  private parseUnionArgs(): Tabular[] {
    while (this.peek().kind === 'ident' && this.isOp('=', 1)) {
      const option = this.next();
      this.next();
      const value = this.next();
      if (option.text === 'withsource') throw unsupported('union withsource=', option.start);
      if (option.text !== 'kind' && option.text !== 'isfuzzy') throw this.fail('unknown union parameter', option);
      if (option.text === 'kind' && value.text !== 'outer' && value.text !== 'inner') throw this.fail("expected 'inner' or 'outer'", value);
    }
    const sources: Tabular[] = [];
    do {
      if (sources.length > 0) this.next();
      const start = this.peek();
      if (this.isOp('(')) {
        this.next();
        const inner = this.parseTabularOrExpr();
        this.expectOp(')');
        sources.push('source' in inner ? inner : { pos: start.start, source: this.exprToSource(inner), operators: [] });
      } else {
        const expr = this.parsePostfix();
        if (this.isOp('*') && this.peek().start === start.end) throw unsupported('wildcard table names in union', start.start);
        sources.push({ pos: start.start, source: this.exprToSource(expr), operators: [] });
      }
    } while (this.isOp(','));
    return sources;
  }

  /** Turns `T`, `database('db').T`, `table('T')`, `materialize(…)` or `(pipeline)` into a pipeline source. */
  private exprToSource(expr: Expr): Source {
    switch (expr.kind) {
      case 'name':
        return { kind: 'tableRef', pos: expr.pos, name: expr.name };
      case 'tabular':
        return { kind: 'nested', pos: expr.pos, query: expr.query };
      case 'call': {
        const arg = expr.args[0];
        if (expr.name === 'table' && expr.args.length === 1 && arg?.kind === 'literal' && typeof arg.value === 'string') {
          return { kind: 'tableRef', pos: expr.pos, name: arg.value };
        }
        if (expr.name === 'materialize' && expr.args.length === 1 && arg) return this.exprToSource(arg);
        if (expr.name === 'cluster') throw unsupported('cluster() cross-cluster queries', expr.pos);
        break;
      }
      case 'member': {
        const target = expr.target;
        if (target.kind === 'call' && target.name === 'database' && target.args[0]?.kind === 'literal') {
          return { kind: 'tableRef', pos: expr.pos, name: expr.key, database: String(target.args[0].value) };
        }
        if (target.kind === 'member' || (target.kind === 'call' && target.name === 'cluster')) {
          throw unsupported('cluster() cross-cluster queries', expr.pos);
        }
        break;
      }
    }
    throw syntaxError(this.text, expr.pos, 'expected a tabular expression before \'|\'');
  }

  private parseOperators(): Operator[] {
    const operators: Operator[] = [];
    while (this.isOp('|')) {
      this.next();
      operators.push(this.parseOperator());
    }
    return operators;
  }

  /** Reads an operator name, joining hyphenated names such as `project-away` written without spaces. */
  private readOperatorName(): Token {
    const first = this.peek();
    if (first.kind !== 'ident') throw this.fail('expected a query operator');
    this.next();
    let name = first.text;
    let end = first.end;
    while (this.isOp('-') && this.peek().start === end && this.peek(1).kind === 'ident' && this.peek(1).start === end + 1) {
      this.next();
      const part = this.next();
      name += `-${part.text}`;
      end = part.end;
    }
    return { ...first, text: name, end };
  }

  private parseOperator(): Operator {
    const t = this.readOperatorName();
    const pos = t.start;
    switch (t.text) {
      case 'where':
      case 'filter':
        return { kind: 'where', pos, predicate: this.parseExpr() };
      case 'take':
      case 'limit':
        return { kind: 'take', pos, count: this.parseExpr(), opName: t.text };
      case 'project':
        return { kind: 'project', pos, items: this.parseNamedList() };
      case 'project-away':
        return { kind: 'project-away', pos, names: this.parseNameList() };
      case 'project-reorder':
        return { kind: 'project-reorder', pos, names: this.parseNameList() };
      case 'project-rename':
        return { kind: 'project-rename', pos, renames: this.parseRenames() };
      case 'extend':
        return { kind: 'extend', pos, items: this.parseNamedList() };
      case 'summarize':
        return this.parseSummarize(pos);
      case 'sort':
      case 'order':
        this.expectWord('by');
        return { kind: 'sort', pos, keys: this.parseSortKeys(), opName: t.text };
      case 'top': {
        const count = this.parseExpr();
        this.expectWord('by');
        const [key] = this.parseSortKeys(true);
        return { kind: 'top', pos, count, key: key as SortKey };
      }
      case 'count':
        return { kind: 'count', pos };
      case 'distinct':
        if (this.isOp('*')) {
          this.next();
          return { kind: 'distinct', pos, items: [] };
        }
        return { kind: 'distinct', pos, items: this.parseNamedList() };
      case 'getschema':
        return { kind: 'getschema', pos };
      case 'union':
        return { kind: 'union', pos, sources: this.parseUnionArgs() };
      case 'render':
        return this.parseRender(pos);
      case 'as':
        return { kind: 'as', pos, name: this.expectIdent('a result name').text };
      case 'serialize':
        if (this.peek().kind === 'ident') throw unsupported('serialize with columns', this.peek().start);
        return { kind: 'serialize', pos };
      default:
        if (KNOWN_UNSUPPORTED_OPERATORS.has(t.text)) throw unsupported(`${t.text} operator`, pos);
        throw syntaxError(this.text, pos, `unknown query operator '${t.text}'`);
    }
  }

  private parseSummarize(pos: number): Operator {
    if (this.peek().kind === 'ident' && this.peek().text.startsWith('hint') && this.isOp('.', 1)) {
      throw unsupported('summarize hints', this.peek().start);
    }
    const aggregates = this.isWord('by') ? [] : this.parseNamedList();
    let by: NamedExpr[] = [];
    if (this.isWord('by')) {
      this.next();
      by = this.parseNamedList();
    }
    if (aggregates.length === 0 && by.length === 0) throw this.fail('expected an aggregation or a by clause');
    return { kind: 'summarize', pos, aggregates, by };
  }

  private parseRender(pos: number): Operator {
    const visualization = this.expectIdent('a visualization').text;
    const properties: Record<string, KqlValue> = {};
    if (this.isWord('with')) {
      this.next();
      this.expectOp('(');
      while (!this.isOp(')')) {
        const key = this.expectIdent('a render property').text;
        this.expectOp('=');
        const value = this.parsePrimary();
        if (value.kind === 'literal') properties[key] = value.value;
        else if (value.kind === 'name') properties[key] = value.name;
        else if (value.kind === 'tabular') throw this.fail('expected a literal');
        if (!this.isOp(')')) this.expectOp(',');
      }
      this.expectOp(')');
    }
    return { kind: 'render', pos, visualization, properties };
  }

  private parseNamedList(): NamedExpr[] {
    const items: NamedExpr[] = [];
    do {
      if (items.length > 0) this.next();
      const start = this.peek();
      if (this.isOp('(') && this.peek(1).kind === 'ident' && this.isOp(',', 2)) {
        throw unsupported('tuple assignment (a, b) = …', start.start);
      }
      let name: string | undefined;
      if (start.kind === 'ident' && this.isOp('=', 1)) {
        name = this.next().text;
        this.next();
      } else if (this.isOp('[') && this.peek(1).kind === 'string' && this.isOp(']', 2) && this.isOp('=', 3)) {
        this.next();
        name = this.next().text;
        this.next();
        this.next();
      }
      items.push({ name, expr: this.parseExpr(), pos: start.start });
    } while (this.isOp(','));
    return items;
  }

  private parseNameList(): Array<{ name: string; pos: number }> {
    const names: Array<{ name: string; pos: number }> = [];
    do {
      if (names.length > 0) this.next();
      const t = this.expectIdent('a column name');
      if (this.isOp('*') && this.peek().start === t.end) throw unsupported('column name wildcards', t.start);
      names.push({ name: t.text, pos: t.start });
    } while (this.isOp(','));
    return names;
  }

  private parseRenames(): Array<{ to: string; from: string; pos: number }> {
    const renames: Array<{ to: string; from: string; pos: number }> = [];
    do {
      if (renames.length > 0) this.next();
      const to = this.expectIdent('a new column name');
      this.expectOp('=');
      renames.push({ to: to.text, from: this.expectIdent('a column name').text, pos: to.start });
    } while (this.isOp(','));
    return renames;
  }

  private parseSortKeys(single = false): SortKey[] {
    const keys: SortKey[] = [];
    do {
      if (keys.length > 0) this.next();
      const expr = this.parseExpr();
      let descending = true;
      if (this.isWord('asc') || this.isWord('desc')) descending = this.next().text === 'desc';
      let nullsFirst: boolean | undefined;
      if (this.isWord('nulls')) {
        this.next();
        if (!this.isWord('first') && !this.isWord('last')) throw this.fail("expected 'first' or 'last'");
        nullsFirst = this.next().text === 'first';
      }
      keys.push({ expr, descending, nullsFirst });
    } while (!single && this.isOp(','));
    return keys;
  }

  // ---- scalar expressions --------------------------------------------------

  parseExpr(): Expr {
    return this.parseOr();
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      const t = this.next();
      left = { kind: 'binary', pos: t.start, op: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseComparison();
    while (this.isWord('and')) {
      const t = this.next();
      left = { kind: 'binary', pos: t.start, op: 'and', left, right: this.parseComparison() };
    }
    return left;
  }

  private parseComparison(): Expr {
    let left = this.parseAdditive();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && COMPARISON_OPS.has(t.text)) {
        this.next();
        const op = t.text === '<>' ? '!=' : t.text;
        left = { kind: 'binary', pos: t.start, op, left, right: this.parseAdditive() };
        continue;
      }
      let negated = false;
      let opToken = t;
      if (t.kind === 'op' && t.text === '!' && this.peek(1).kind === 'ident' && NEGATABLE.has(this.peek(1).text)) {
        negated = true;
        this.next();
        opToken = this.peek();
      } else if (!(t.kind === 'ident' && NEGATABLE.has(t.text))) {
        return left;
      }
      this.next();
      left = this.parseWordOperator(left, opToken, negated);
    }
  }

  private parseWordOperator(left: Expr, t: Token, negated: boolean): Expr {
    const pos = t.start;
    if (t.text === 'in') {
      let caseInsensitive = false;
      if (this.isOp('~') && this.peek().start === t.end) {
        this.next();
        caseInsensitive = true;
      }
      this.expectOp('(');
      const list: Expr[] = [];
      while (!this.isOp(')')) {
        const item = this.parseTabularOrExpr();
        list.push('source' in item ? { kind: 'tabular', pos: item.pos, query: item } : item);
        if (!this.isOp(')')) this.expectOp(',');
      }
      this.expectOp(')');
      return { kind: 'in', pos, negated, caseInsensitive, left, list };
    }
    if (t.text === 'between') {
      this.expectOp('(');
      const low = this.parseAdditive();
      this.expectOp('..');
      const high = this.parseAdditive();
      this.expectOp(')');
      return { kind: 'between', pos, negated, left, low, high };
    }
    if (t.text === 'matches') {
      this.expectWord('regex');
      const right = this.parseAdditive();
      return { kind: 'binary', pos, op: negated ? '!matches regex' : 'matches regex', left, right };
    }
    if (t.text === 'has_any' || t.text === 'has_all') {
      if (negated) throw unsupported(`!${t.text}`, pos);
      this.expectOp('(');
      const list: Expr[] = [];
      while (!this.isOp(')')) {
        list.push(this.parseExpr());
        if (!this.isOp(')')) this.expectOp(',');
      }
      this.expectOp(')');
      return { kind: 'call', pos, name: `__${t.text}`, args: [left, ...list] };
    }
    return { kind: 'binary', pos, op: negated ? `!${t.text}` : t.text, left, right: this.parseAdditive() };
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { kind: 'binary', pos: t.start, op: t.text, left, right: this.parseMultiplicative() };
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      left = { kind: 'binary', pos: t.start, op: t.text, left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      const operand = this.parseUnary();
      if (operand.kind === 'literal' && typeof operand.value === 'number' && t.text === '-') {
        return { ...operand, pos: t.start, value: -operand.value };
      }
      return { kind: 'unary', pos: t.start, op: t.text as '-' | '+', operand };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    let expr = this.parsePrimary();
    for (;;) {
      if (this.isOp('.') && this.peek(1).kind === 'ident') {
        this.next();
        const key = this.next();
        expr = { kind: 'member', pos: key.start, target: expr, key: key.text };
      } else if (this.isOp('.') && this.isOp('[', 1)) {
        this.next();
      } else if (this.isOp('[')) {
        const t = this.next();
        const index = this.parseExpr();
        this.expectOp(']');
        expr = { kind: 'index', pos: t.start, target: expr, index };
      } else {
        return expr;
      }
    }
  }

  parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return numberLiteral(t);
      case 'timespan':
        this.next();
        return { kind: 'literal', pos: t.start, type: 'timespan', value: t.num ?? 0 };
      case 'string': {
        this.next();
        let value = t.text;
        // KQL concatenates adjacent string literals: "a" "b" is "ab".
        while (this.peek().kind === 'string') value += this.next().text;
        return { kind: 'literal', pos: t.start, type: 'string', value };
      }
      case 'typed':
        this.next();
        return this.typedLiteral(t);
      case 'ident':
        return this.parseIdentPrimary();
      case 'op':
        if (t.text === '(') {
          this.next();
          const inner = this.parseTabularOrExpr();
          this.expectOp(')');
          return 'source' in inner ? { kind: 'tabular', pos: t.start, query: inner } : inner;
        }
        if (t.text === '[' && this.peek(1).kind === 'string' && this.isOp(']', 2)) {
          this.next();
          const name = this.next();
          this.next();
          return { kind: 'name', pos: t.start, name: name.text };
        }
        if (t.text === '*') {
          this.next();
          return { kind: 'star', pos: t.start };
        }
        break;
    }
    throw this.fail('expected an expression');
  }

  private parseIdentPrimary(): Expr {
    const t = this.next();
    if (t.text === 'true' || t.text === 'false') return { kind: 'literal', pos: t.start, type: 'bool', value: t.text === 'true' };
    if (t.text === 'null') throw syntaxError(this.text, t.start, "bare 'null' is not a KQL literal; use a typed null such as long(null)");
    if (!this.isOp('(')) return { kind: 'name', pos: t.start, name: t.text };
    this.next();
    const args: Expr[] = [];
    while (!this.isOp(')')) {
      const arg = this.parseTabularOrExpr();
      args.push('source' in arg ? { kind: 'tabular', pos: arg.pos, query: arg } : arg);
      if (!this.isOp(')')) this.expectOp(',');
    }
    this.expectOp(')');
    return { kind: 'call', pos: t.start, name: t.text, args };
  }

  private typedLiteral(t: Token): Expr {
    const typeWord = (t.typeName ?? '').toLowerCase();
    if (typeWord === 'decimal') throw unsupported('decimal type', t.start);
    const type = parseTypeName(typeWord) as KqlType;
    const raw = t.text.trim();
    const value = parseTypedLiteralText(type, raw);
    if (value === undefined) throw syntaxError(this.text, t.start, `failed to parse ${typeWord} literal '${typeWord}(${raw})'`);
    return { kind: 'literal', pos: t.start, type, value };
  }
}

function numberLiteral(t: Token): Expr {
  if (!t.isInteger) return { kind: 'literal', pos: t.start, type: 'real', value: t.num ?? 0 };
  const n = t.num ?? 0;
  const value = Number.isSafeInteger(n) || t.text.startsWith('0x') ? n : BigInt(t.text);
  return { kind: 'literal', pos: t.start, type: 'long', value };
}

const unquote = (raw: string) => (/^(['"]).*\1$/s.test(raw) ? raw.slice(1, -1) : raw);

/** Decodes the text inside `type(...)`; undefined when it is not a valid literal of that type. */
export function parseTypedLiteralText(type: KqlType, raw: string): KqlValue | undefined {
  if (raw === 'null') return type === 'string' ? '' : null;
  switch (type) {
    case 'datetime':
      return parseDatetimeText(unquote(raw));
    case 'timespan':
      return parseTimespanLiteral(unquote(raw));
    case 'guid':
      return isGuidText(unquote(raw)) ? unquote(raw).toLowerCase() : undefined;
    case 'dynamic':
      try {
        return JSON.parse(raw) as KqlValue;
      } catch {
        return undefined;
      }
    case 'long':
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      if (type === 'int') return n >= -2147483648 && n <= 2147483647 ? n : undefined;
      return Number.isSafeInteger(n) ? n : BigInt(raw);
    }
    case 'real': {
      const lower = raw.toLowerCase();
      if (lower === 'nan') return NaN;
      if (lower === '+inf' || lower === 'inf') return Infinity;
      if (lower === '-inf') return -Infinity;
      const n = Number(raw);
      return raw !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'bool': {
      const lower = raw.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : undefined;
    }
    case 'string':
      return unquote(raw);
  }
}

const TIMESPAN_WITH_UNIT = /^([+-]?\d+(?:\.\d+)?)\s*(d|h|m|s|ms|microsecond|tick|min|sec|hr|day|days|hour|hours|minute|minutes|second|seconds|millisecond|milliseconds)$/i;
const UNIT_MS: Readonly<Record<string, number>> = {
  d: 86_400_000, day: 86_400_000, days: 86_400_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, s: 1000, sec: 1000, second: 1000, seconds: 1000, ms: 1,
  millisecond: 1, milliseconds: 1, microsecond: 0.001, tick: 0.0001,
};

function parseTimespanLiteral(raw: string): number | undefined {
  const unit = TIMESPAN_WITH_UNIT.exec(raw);
  if (unit) return Number(unit[1]) * (UNIT_MS[(unit[2] as string).toLowerCase()] ?? NaN);
  // A bare number inside time(...) counts days.
  if (/^[+-]?\d+(?:\.\d+)?$/.test(raw)) return Number(raw) * 86_400_000;
  return parseTimespanText(raw);
}

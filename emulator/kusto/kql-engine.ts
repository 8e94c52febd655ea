/**
 * Runs a KQL query script: binds `declare query_parameters` and `let`
 * statements, evaluates each tabular statement into a result table.
 *
 * @example
 * const outcome = runQuery({ text: 'StormEvents | count', catalog, now: Date.now() });
 * outcome.tables[0].rows; // [[3000]]
 */
import type { Expr, QueryParameterDecl, Source, Statement, Tabular } from './kql-ast.ts';
import { toNumber, typeError, type CompiledExpr } from './kql-compiled.ts';
import { compileExpr, EMPTY_SCOPE, type CompileEnv, type Scope } from './kql-compiler.ts';
import { KqlError, requestError, semanticError, unresolvedName } from './kql-errors.ts';
import { convertValue } from './kql-functions.ts';
import { applyOperator, unionRelations, type OperatorContext } from './kql-operators.ts';
import { parseLiteralText, parseQuery, parseTypedLiteralText } from './kql-parser.ts';
import { isNumericType, type ColumnSchema, type KqlType, type KqlValue, type Relation, type Row } from './kql-types.ts';

export interface EngineTable {
  name: string;
  columns: ColumnSchema[];
  /** All rows; the engine never mutates them, so a catalog may hand out a cached array. */
  rows(): Row[];
}

export interface EngineCatalog {
  /** A table of the request's database, or of `database` when the query names one (`database('X').T`). */
  table(name: string, database?: string): EngineTable | undefined;
}

export interface QueryRequest {
  text: string;
  catalog: EngineCatalog;
  /** `now()` in ms since the epoch (the service passes its fixed clock or `query_now`). */
  now: number;
  /** The request's `Parameters`: values for `declare query_parameters`. */
  parameters?: Record<string, unknown>;
}

export interface ResultTable {
  name: string;
  columns: ColumnSchema[];
  rows: Row[];
}

export interface QueryOutcome {
  tables: ResultTable[];
  /** From `render`: goes to the `Visualization` row of `@ExtendedProperties`. */
  visualization?: { visualization: string; properties: Record<string, KqlValue> };
  /** Request properties set in the query text (`set notruncation;`). */
  setOptions: Record<string, KqlValue>;
  stats: { rowsTotal: number; rowsScanned: number; tablesScanned: string[] };
}

const MAX_RANGE_ROWS = 10_000_000;

interface LazyTabular {
  query: Tabular;
  bindings: Bindings;
  cached?: Relation;
}

interface Bindings {
  scalars: Map<string, { type: KqlType; value: KqlValue }>;
  tabulars: Map<string, LazyTabular>;
}

export function runQuery(request: QueryRequest): QueryOutcome {
  const script = parseQuery(request.text);
  return new ScriptRunner(request).run(script.statements);
}

class ScriptRunner {
  private bindings: Bindings = { scalars: new Map(), tabulars: new Map() };
  private now: number;
  private readonly outcome: QueryOutcome = { tables: [], setOptions: {}, stats: { rowsTotal: 0, rowsScanned: 0, tablesScanned: [] } };

  constructor(private readonly request: QueryRequest) {
    this.now = request.now;
  }

  run(statements: Statement[]): QueryOutcome {
    for (const statement of statements) this.runStatement(statement);
    if (this.outcome.tables.length === 0) {
      throw semanticError('SEM0001', undefined, 'the query has no tabular expression statement to return', 0);
    }
    return this.outcome;
  }

  private runStatement(statement: Statement): void {
    switch (statement.kind) {
      case 'set':
        this.outcome.setOptions[statement.name] = statement.value ?? true;
        if (statement.name === 'query_now' && typeof statement.value === 'number') this.now = statement.value;
        return;
      case 'declare':
        for (const p of statement.parameters) this.bindScalar(p.name, this.parameterValue(p));
        return;
      case 'let':
        this.runLet(statement);
        return;
      case 'query':
        this.emit(this.evalTabular(statement.query, this.bindings));
        return;
      case 'expr': {
        const source = this.exprAsSource(statement.expr, this.bindings);
        if (!source) throw typeError(undefined, 'a query statement must be a tabular expression (use print for scalar values)', statement.pos);
        this.emit(this.evalTabular({ pos: statement.pos, source, operators: [] }, this.bindings));
        return;
      }
    }
  }

  private emit(relation: Relation): void {
    this.outcome.tables.push({ name: relation.name ?? 'PrimaryResult', columns: relation.columns, rows: relation.rows });
  }

  private bindScalar(name: string, value: { type: KqlType; value: KqlValue }): void {
    const scalars = new Map(this.bindings.scalars).set(name, value);
    const tabulars = new Map(this.bindings.tabulars);
    tabulars.delete(name);
    this.bindings = { scalars, tabulars };
  }

  private runLet(statement: Extract<Statement, { kind: 'let' }>): void {
    const { name, value } = statement;
    const tabular: Tabular | undefined =
      'source' in value ? value : (() => {
        const source = this.exprAsSource(value, this.bindings);
        return source ? { pos: value.pos, source, operators: [] } : undefined;
      })();
    if (tabular) {
      const scalars = new Map(this.bindings.scalars);
      scalars.delete(name);
      // The let captures the bindings visible at its definition; evaluation waits for first use.
      const tabulars = new Map(this.bindings.tabulars).set(name, { query: tabular, bindings: this.bindings });
      this.bindings = { scalars, tabulars };
      return;
    }
    const compiled = compileExpr(value as Expr, this.env(EMPTY_SCOPE, 'let', this.bindings));
    this.bindScalar(name, { type: compiled.type, value: compiled.eval([]) });
  }

  /** A bare expression that names a table (or `database('db').T`, `table('T')`), if it does. */
  private exprAsSource(expr: Expr, bindings: Bindings): Source | undefined {
    if (expr.kind === 'name') {
      if (bindings.scalars.has(expr.name)) return undefined;
      return { kind: 'tableRef', pos: expr.pos, name: expr.name };
    }
    if (expr.kind === 'tabular') return { kind: 'nested', pos: expr.pos, query: expr.query };
    if (expr.kind === 'call' && (expr.name === 'table' || expr.name === 'materialize') && expr.args.length === 1) {
      const [arg] = expr.args as [Expr];
      if (expr.name === 'table' && arg.kind === 'literal') return { kind: 'tableRef', pos: expr.pos, name: String(arg.value) };
      if (expr.name === 'materialize') return this.exprAsSource(arg, bindings);
    }
    if (expr.kind === 'member' && expr.target.kind === 'call' && expr.target.name === 'database' && expr.target.args[0]?.kind === 'literal') {
      return { kind: 'tableRef', pos: expr.pos, name: expr.key, database: String(expr.target.args[0].value) };
    }
    return undefined;
  }

  // ---- parameters ----------------------------------------------------------------

  private parameterValue(p: QueryParameterDecl): { type: KqlType; value: KqlValue } {
    const supplied = this.request.parameters?.[p.name];
    if (supplied === undefined || supplied === null) {
      if (!p.defaultValue) {
        throw requestError(`Request is invalid and cannot be processed: query parameter '${p.name}' (${p.type}) was declared without a default and no value was supplied`);
      }
      return { type: p.type, value: this.coerceConstant(compileExpr(p.defaultValue, this.env(EMPTY_SCOPE, 'declare', this.bindings)), p) };
    }
    const value = decodeParameter(p.type, supplied);
    if (value === undefined) {
      throw requestError(`Request is invalid and cannot be processed: query parameter '${p.name}' of type ${p.type} has an invalid value '${String(supplied)}'`);
    }
    return { type: p.type, value };
  }

  private coerceConstant(compiled: CompiledExpr, p: QueryParameterDecl): KqlValue {
    const value = compiled.eval([]);
    if (compiled.type === p.type) return value;
    if (isNumericType(compiled.type) && isNumericType(p.type)) return convertValue(value, compiled.type, p.type);
    throw typeError('declare', `the default of query parameter '${p.name}' is ${compiled.type}, expected ${p.type}`, p.pos);
  }

  // ---- tabular evaluation -------------------------------------------------------

  private env(scope: Scope, operator: string, bindings: Bindings): CompileEnv {
    return {
      scope,
      operator,
      now: this.now,
      lookupScalar: (name) => bindings.scalars.get(name),
      evalTabular: (query) => this.evalTabular(query, bindings),
    };
  }

  evalTabular(query: Tabular, bindings: Bindings): Relation {
    const firstOperator = query.operators[0]?.kind;
    let relation = this.evalSource(query.source, bindings, firstOperator);
    const ctx: OperatorContext = {
      env: (scope, operator) => this.env(scope, operator, bindings),
      evalTabular: (q) => this.evalTabular(q, bindings),
      render: (visualization, properties) => {
        this.outcome.visualization = { visualization, properties };
      },
    };
    for (const op of query.operators) relation = applyOperator(relation, op, ctx);
    return relation;
  }

  private evalSource(source: Source, bindings: Bindings, firstOperator: string | undefined): Relation {
    switch (source.kind) {
      case 'tableRef':
        return this.resolveTable(source, bindings, firstOperator);
      case 'nested':
        return this.evalTabular(source.query, bindings);
      case 'union':
        return unionRelations(source.sources.map((s) => this.evalTabular(s, bindings)));
      case 'print': {
        const env = this.env(EMPTY_SCOPE, 'print', bindings);
        const compiled = source.items.map((item, i) => ({ name: item.name ?? `print_${i}`, compiled: compileExpr(item.expr, env) }));
        return {
          columns: compiled.map((c) => ({ name: c.name, type: c.compiled.type })),
          rows: [compiled.map((c) => c.compiled.eval([]))],
        };
      }
      case 'range':
        return this.range(source, bindings);
      case 'datatable':
        return this.datatable(source, bindings);
    }
  }

  private resolveTable(source: Extract<Source, { kind: 'tableRef' }>, bindings: Bindings, firstOperator: string | undefined): Relation {
    const lazy = source.database === undefined ? bindings.tabulars.get(source.name) : undefined;
    if (lazy) {
      lazy.cached ??= this.evalTabular(lazy.query, lazy.bindings);
      return lazy.cached;
    }
    const table = this.request.catalog.table(source.name, source.database);
    if (!table) {
      if (bindings.scalars.has(source.name)) {
        throw typeError(firstOperator, `'${source.name}' is a scalar value, not a table`, source.pos);
      }
      throw unresolvedName(firstOperator, source.name, 'table or column', source.pos);
    }
    const rows = table.rows();
    const stats = this.outcome.stats;
    stats.rowsTotal += rows.length;
    stats.rowsScanned += rows.length;
    stats.tablesScanned.push(table.name);
    return { columns: table.columns, rows };
  }

  private range(source: Extract<Source, { kind: 'range' }>, bindings: Bindings): Relation {
    const env = this.env(EMPTY_SCOPE, 'range', bindings);
    const [from, to, step] = [source.from, source.to, source.step].map((e) => compileExpr(e, env)) as [CompiledExpr, CompiledExpr, CompiledExpr];
    if (!from.constant || !to.constant || !step.constant) throw typeError('range', 'range bounds must be constants', source.pos);
    const a = toNumber(from.eval([]));
    const b = toNumber(to.eval([]));
    const s = toNumber(step.eval([]));
    if (a === null || b === null || s === null || s === 0) return { columns: [{ name: source.column, type: from.type }], rows: [] };
    const count = Math.floor((b - a) / s) + 1;
    if (count > MAX_RANGE_ROWS) throw typeError('range', `the emulator caps range at ${MAX_RANGE_ROWS} rows`, source.pos);
    const type = from.type === 'int' ? 'long' : from.type;
    const rows: Row[] = [];
    for (let i = 0; i < count; i++) rows.push([a + i * s]);
    return { columns: [{ name: source.column, type }], rows };
  }

  private datatable(source: Extract<Source, { kind: 'datatable' }>, bindings: Bindings): Relation {
    const width = source.columns.length;
    if (width === 0 || source.values.length % width !== 0) {
      throw typeError('datatable', `the number of values (${source.values.length}) is not a multiple of the number of columns (${width})`, source.pos);
    }
    const env = this.env(EMPTY_SCOPE, 'datatable', bindings);
    const rows: Row[] = [];
    for (let i = 0; i < source.values.length; i += width) {
      rows.push(source.columns.map((column, j) => {
        const expr = source.values[i + j] as Expr;
        const compiled = compileExpr(expr, env);
        return coerceLiteral(compiled, column.type, expr.pos);
      }));
    }
    return { columns: source.columns, rows };
  }
}

function coerceLiteral(compiled: CompiledExpr, type: KqlType, pos: number): KqlValue {
  const value = compiled.eval([]);
  if (compiled.type === type || value === null) return value ?? (type === 'string' ? '' : null);
  if ((isNumericType(compiled.type) && isNumericType(type)) || type === 'dynamic') return convertValue(value, compiled.type, type);
  throw typeError('datatable', `a ${compiled.type} value cannot go into a ${type} column`, pos);
}

/**
 * Decodes a request parameter: strings and longs come as-is; other types as KQL
 * literal text (`datetime(2024-01-01)`), JSON booleans and numbers also accepted.
 */
export function decodeParameter(type: KqlType, supplied: unknown): KqlValue | undefined {
  if (type === 'string') return typeof supplied === 'string' ? supplied : typeof supplied === 'object' ? undefined : String(supplied);
  if (typeof supplied === 'number') {
    if (type === 'real') return supplied;
    if ((type === 'long' || type === 'int') && Number.isInteger(supplied)) return supplied;
    return undefined;
  }
  if (typeof supplied === 'boolean') return type === 'bool' ? supplied : undefined;
  if (typeof supplied !== 'string') return type === 'dynamic' ? (supplied as KqlValue) : undefined;
  const direct = parseTypedLiteralText(type, supplied.trim());
  if (direct !== undefined && !(type === 'timespan' && /^\d+$/.test(supplied.trim()))) return direct;
  try {
    const expr = parseLiteralText(supplied);
    const compiled = compileExpr(expr, {
      scope: EMPTY_SCOPE,
      operator: 'declare',
      now: 0,
      lookupScalar: () => undefined,
      evalTabular: () => {
        throw requestError('a query parameter value cannot contain a tabular expression');
      },
    });
    if (!compiled.constant) return undefined;
    if (compiled.type === type) return compiled.eval([]);
    if (isNumericType(compiled.type) && isNumericType(type)) return convertValue(compiled.eval([]), compiled.type, type);
    return undefined;
  } catch (error) {
    if (error instanceof KqlError) return undefined;
    throw error;
  }
}

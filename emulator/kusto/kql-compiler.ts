/**
 * Compiles scalar expressions against a row schema: resolves names, checks
 * types (so `where State > 5` fails like the service instead of returning
 * nothing) and produces closures over rows.
 */
import { AGGREGATES, UNSUPPORTED_AGGREGATES } from './kql-aggregates.ts';
import type { Expr, Tabular } from './kql-ast.ts';
import { constant, derived, toNumber, typeError, widerNumeric, type CompiledExpr } from './kql-compiled.ts';
import { unresolvedName, unsupported } from './kql-errors.ts';
import { convertValue, hasTerm, SCALAR_FUNCTIONS, type FunctionEnv } from './kql-functions.ts';
import {
  isNumericType,
  stringifyJson,
  valueToString,
  type ColumnSchema,
  type KqlType,
  type KqlValue,
  type Relation,
  type Row,
} from './kql-types.ts';

export interface Scope {
  columns: ColumnSchema[];
  index: Map<string, number>;
}

export function makeScope(columns: ColumnSchema[]): Scope {
  return { columns, index: new Map(columns.map((c, i) => [c.name, i])) };
}

export const EMPTY_SCOPE: Scope = makeScope([]);

export type CallExpr = Extract<Expr, { kind: 'call' }>;

export interface CompileEnv extends FunctionEnv {
  scope: Scope;
  /** Scalar `let` values and query parameters. */
  lookupScalar(name: string): { type: KqlType; value: KqlValue } | undefined;
  evalTabular(query: Tabular): Relation;
  /** Set inside `summarize`: turns an aggregate call into a reader of its per-group result. */
  aggregate?: (call: CallExpr, env: CompileEnv) => CompiledExpr;
}

export function compileExpr(expr: Expr, env: CompileEnv): CompiledExpr {
  switch (expr.kind) {
    case 'literal':
      return constant(expr.type, expr.value);
    case 'name':
      return compileName(expr.name, expr.pos, env);
    case 'call':
      return compileCall(expr, env);
    case 'unary':
      return compileUnary(expr.op, compileExpr(expr.operand, env), env, expr.pos);
    case 'binary':
      return compileBinary(expr.op, expr.left, expr.right, env, expr.pos);
    case 'in':
      return compileIn(expr, env);
    case 'between':
      return compileBetween(expr, env);
    case 'member':
      return compileDynamicAccess(compileExpr(expr.target, env), constant('string', expr.key), env, expr.pos);
    case 'index':
      return compileDynamicAccess(compileExpr(expr.target, env), compileExpr(expr.index, env), env, expr.pos);
    case 'star':
      throw typeError(env.operator, "'*' is not valid here", expr.pos);
    case 'tabular':
      throw typeError(env.operator, 'a tabular expression was used where a scalar is expected (wrap it in toscalar())', expr.pos);
  }
}

function compileName(name: string, pos: number, env: CompileEnv): CompiledExpr {
  const i = env.scope.index.get(name);
  if (i !== undefined) {
    const column = env.scope.columns[i] as ColumnSchema;
    return { type: column.type, constant: false, eval: (row) => row[i] as KqlValue };
  }
  const scalar = env.lookupScalar(name);
  if (scalar) return constant(scalar.type, scalar.value);
  throw unresolvedName(env.operator, name, 'scalar', pos);
}

function compileCall(call: CallExpr, env: CompileEnv): CompiledExpr {
  const { name, args, pos } = call;
  if (AGGREGATES.has(name)) {
    if (env.aggregate) return env.aggregate(call, env);
    throw typeError(env.operator, `'${name}' is an aggregation function and can only be used in summarize`, pos);
  }
  if (UNSUPPORTED_AGGREGATES.has(name)) throw unsupported(`${name}() aggregation`, pos);
  if (name === 'toscalar') return compileToScalar(call, env);
  if (name === 'column_ifexists') return compileColumnIfExists(call, env);
  const binder = SCALAR_FUNCTIONS.get(name);
  if (!binder) throw unsupported(`${name}() function`, pos);
  return binder(args.map((a) => compileExpr(a, env)), env, pos);
}

function compileToScalar(call: CallExpr, env: CompileEnv): CompiledExpr {
  const [arg] = call.args;
  if (call.args.length !== 1 || !arg) throw typeError(env.operator, 'toscalar() expects one argument', call.pos);
  if (arg.kind === 'tabular' || arg.kind === 'name') {
    const query: Tabular = arg.kind === 'tabular' ? arg.query : { pos: arg.pos, source: { kind: 'tableRef', pos: arg.pos, name: arg.name }, operators: [] };
    if (arg.kind === 'name' && (env.scope.index.has(arg.name) || env.lookupScalar(arg.name))) return compileExpr(arg, env);
    const relation = env.evalTabular(query);
    const column = relation.columns[0];
    if (!column) return constant('dynamic', null);
    return constant(column.type, (relation.rows[0]?.[0] ?? (column.type === 'string' ? '' : null)) as KqlValue);
  }
  return compileExpr(arg, env);
}

function compileColumnIfExists(call: CallExpr, env: CompileEnv): CompiledExpr {
  const [nameArg, fallback] = call.args;
  if (call.args.length !== 2 || nameArg?.kind !== 'literal' || typeof nameArg.value !== 'string' || !fallback) {
    throw typeError(env.operator, 'column_ifexists() expects a constant column name and a default value', call.pos);
  }
  return env.scope.index.has(nameArg.value) ? compileName(nameArg.value, call.pos, env) : compileExpr(fallback, env);
}

function compileUnary(op: '-' | '+', operand: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  if (!isNumericType(operand.type) && operand.type !== 'timespan' && operand.type !== 'dynamic') {
    throw typeError(env.operator, `unary '${op}' is not defined for type ${operand.type}`, pos);
  }
  if (op === '+') return operand;
  const type = operand.type === 'dynamic' ? 'real' : operand.type;
  return derived(type, [operand], ([v]) => {
    if (v === null || v === undefined) return null;
    return typeof v === 'bigint' ? -v : -(toNumber(v) ?? 0);
  });
}

// ---- binary operators --------------------------------------------------------

const STRING_PREDICATES: Readonly<Record<string, (h: string, n: string) => boolean>> = {
  has: (h, n) => hasTerm(h, n, false),
  has_cs: (h, n) => hasTerm(h, n, true),
  hasprefix: (h, n) => hasTerm(h, n, false, 'prefix'),
  hasprefix_cs: (h, n) => hasTerm(h, n, true, 'prefix'),
  hassuffix: (h, n) => hasTerm(h, n, false, 'suffix'),
  hassuffix_cs: (h, n) => hasTerm(h, n, true, 'suffix'),
  contains: (h, n) => h.toLowerCase().includes(n.toLowerCase()),
  contains_cs: (h, n) => h.includes(n),
  startswith: (h, n) => h.toLowerCase().startsWith(n.toLowerCase()),
  startswith_cs: (h, n) => h.startsWith(n),
  endswith: (h, n) => h.toLowerCase().endsWith(n.toLowerCase()),
  endswith_cs: (h, n) => h.endsWith(n),
  '=~': (h, n) => h.toLowerCase() === n.toLowerCase(),
};

function compileBinary(op: string, leftExpr: Expr, rightExpr: Expr, env: CompileEnv, pos: number): CompiledExpr {
  if (leftExpr.kind === 'star') return compileStarPredicate(op, rightExpr, env, pos);
  const left = compileExpr(leftExpr, env);
  const right = compileExpr(rightExpr, env);
  if (op === 'and' || op === 'or') return compileLogical(op, left, right, env, pos);
  if (op === 'matches regex' || op === '!matches regex') return compileRegexMatch(op, left, right, env, pos);
  const negated = op.startsWith('!') && op !== '!=';
  const baseOp = op === '!~' ? '=~' : negated ? op.slice(1) : op;
  const predicate = STRING_PREDICATES[baseOp];
  if (predicate) return compileStringPredicate(predicate, negated, left, right);
  if (['==', '!=', '<', '<=', '>', '>='].includes(op)) return compileComparison(op, left, right, env, pos);
  if (['+', '-', '*', '/', '%'].includes(op)) return compileArithmetic(op, left, right, env, pos);
  throw unsupported(`operator ${op}`, pos);
}

/** `* has "x"`: the predicate over every column's text; true when any column matches (negated: when none does). */
function compileStarPredicate(op: string, rightExpr: Expr, env: CompileEnv, pos: number): CompiledExpr {
  const negated = op.startsWith('!') && op !== '!=';
  const predicate = STRING_PREDICATES[op === '!~' ? '=~' : negated ? op.slice(1) : op];
  if (!predicate) throw typeError(env.operator, `'*' can only be searched with a string operator such as has, not '${op}'`, pos);
  const right = compileExpr(rightExpr, env);
  if (!right.constant) throw typeError(env.operator, `'* ${op}' expects a constant string`, pos);
  const needle = valueToString(right.eval([]), right.type);
  const columns = env.scope.columns.map((column, i) => (row: Row) => valueToString(row[i] as KqlValue, column.type));
  return { type: 'bool', constant: false, eval: (row) => columns.some((text) => predicate(text(row), needle)) !== negated };
}

function compileLogical(op: 'and' | 'or', left: CompiledExpr, right: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  for (const side of [left, right]) {
    if (side.type !== 'bool' && side.type !== 'dynamic') {
      throw typeError(env.operator, `'${op}' expects bool operands, got ${side.type}`, pos);
    }
  }
  const l = left.eval;
  const r = right.eval;
  // Three-valued logic: null and false is false, null or true is true.
  const evaluate =
    op === 'and'
      ? (row: Row) => {
          const a = l(row);
          if (a === false) return false;
          const b = r(row);
          if (b === false) return false;
          return a === null || b === null ? null : true;
        }
      : (row: Row) => {
          const a = l(row);
          if (a === true) return true;
          const b = r(row);
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
  if (left.constant && right.constant) return constant('bool', evaluate([]));
  return { type: 'bool', constant: false, eval: evaluate };
}

function asText(e: CompiledExpr): (row: Row) => string {
  const read = e.eval;
  if (e.type === 'string') return read as (row: Row) => string;
  return (row) => valueToString(read(row), e.type);
}

function compileStringPredicate(
  predicate: (h: string, n: string) => boolean,
  negated: boolean,
  left: CompiledExpr,
  right: CompiledExpr,
): CompiledExpr {
  const l = asText(left);
  const r = asText(right);
  if (right.constant) {
    const needle = r([]);
    const evaluate = (row: Row) => predicate(l(row), needle) !== negated;
    return left.constant ? constant('bool', evaluate([])) : { type: 'bool', constant: false, eval: evaluate };
  }
  return { type: 'bool', constant: false, eval: (row) => predicate(l(row), r(row)) !== negated };
}

function compileRegexMatch(op: string, left: CompiledExpr, right: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  if (!right.constant) throw typeError(env.operator, "'matches regex' expects a constant pattern", pos);
  let regex: RegExp;
  try {
    regex = new RegExp(String(right.eval([])));
  } catch {
    throw typeError(env.operator, `invalid regular expression '${String(right.eval([]))}'`, pos);
  }
  const l = asText(left);
  const negated = op.startsWith('!');
  return { type: 'bool', constant: false, eval: (row) => regex.test(l(row)) !== negated };
}

/** Brings a dynamic operand to the static type of the other side, as Kusto does implicitly. */
function alignDynamic(left: CompiledExpr, right: CompiledExpr): [CompiledExpr, CompiledExpr] {
  const cast = (e: CompiledExpr, to: KqlType): CompiledExpr => {
    const read = e.eval;
    return { type: to, constant: e.constant, eval: (row) => convertValue(read(row), 'dynamic', to) };
  };
  if (left.type === 'dynamic' && right.type !== 'dynamic') return [cast(left, right.type), right];
  if (right.type === 'dynamic' && left.type !== 'dynamic') return [left, cast(right, left.type)];
  return [left, right];
}

type Comparer = (a: KqlValue, b: KqlValue) => number;

function comparerFor(left: KqlType, right: KqlType, env: CompileEnv, pos: number): Comparer {
  if (isNumericType(left) && isNumericType(right)) return (a, b) => (a! < b! ? -1 : a! > b! ? 1 : 0);
  const textual = (t: KqlType) => t === 'string' || t === 'guid';
  if (textual(left) && textual(right)) {
    const fold = left !== right;
    return (a, b) => {
      const x = fold ? String(a).toLowerCase() : (a as string);
      const y = fold ? String(b).toLowerCase() : (b as string);
      return x < y ? -1 : x > y ? 1 : 0;
    };
  }
  if (left === right && left !== 'dynamic') return (a, b) => (a! < b! ? -1 : a! > b! ? 1 : 0);
  if (left === 'dynamic' && right === 'dynamic') {
    return (a, b) => {
      if (typeof a === 'number' && typeof b === 'number') return a - b;
      const x = typeof a === 'string' ? a : stringifyJson(a);
      const y = typeof b === 'string' ? b : stringifyJson(b);
      return x < y ? -1 : x > y ? 1 : 0;
    };
  }
  throw typeError(env.operator, `Cannot compare values of types ${left} and ${right}. Try adding explicit casts`, pos);
}

function compileComparison(op: string, leftIn: CompiledExpr, rightIn: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  const [left, right] = alignDynamic(leftIn, rightIn);
  const compare = comparerFor(left.type, right.type, env, pos);
  const test: (c: number) => boolean =
    op === '==' ? (c) => c === 0 : op === '!=' ? (c) => c !== 0 : op === '<' ? (c) => c < 0 : op === '<=' ? (c) => c <= 0 : op === '>' ? (c) => c > 0 : (c) => c >= 0;
  const l = left.eval;
  const r = right.eval;
  if (right.constant) {
    const b = r([]);
    const evaluate = (row: Row) => {
      const a = l(row);
      return a === null || b === null ? null : test(compare(a, b));
    };
    return left.constant ? constant('bool', evaluate([])) : { type: 'bool', constant: false, eval: evaluate };
  }
  return {
    type: 'bool',
    constant: false,
    eval: (row) => {
      const a = l(row);
      const b = r(row);
      return a === null || b === null ? null : test(compare(a, b));
    },
  };
}

function arithmeticResult(op: string, l: KqlType, r: KqlType): KqlType | undefined {
  const num = (t: KqlType) => isNumericType(t) || t === 'dynamic';
  if (num(l) && num(r)) return l === 'dynamic' || r === 'dynamic' ? 'real' : widerNumeric(l, r);
  if (l === 'datetime' && r === 'datetime' && op === '-') return 'timespan';
  if (l === 'datetime' && r === 'timespan' && (op === '+' || op === '-')) return 'datetime';
  if (l === 'timespan' && r === 'datetime' && op === '+') return 'datetime';
  if (l === 'timespan' && r === 'timespan') return op === '/' ? 'real' : op === '*' ? undefined : 'timespan';
  if (l === 'timespan' && num(r) && (op === '*' || op === '/')) return 'timespan';
  if (num(l) && r === 'timespan' && op === '*') return 'timespan';
  return undefined;
}

function compileArithmetic(op: string, left: CompiledExpr, right: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  const type = arithmeticResult(op, left.type, right.type);
  if (!type) throw typeError(env.operator, `Operator '${op}' is not defined for types ${left.type} and ${right.type}`, pos);
  const integral = type === 'long' || type === 'int';
  const apply: (a: number, b: number) => number | null =
    op === '+' ? (a, b) => a + b
    : op === '-' ? (a, b) => a - b
    : op === '*' ? (a, b) => a * b
    : op === '/' ? (integral ? (a, b) => (b === 0 ? null : Math.trunc(a / b)) : (a, b) => a / b)
    : (a, b) => (b === 0 && integral ? null : a % b);
  const l = left.eval;
  const r = right.eval;
  const evaluate = (row: Row): KqlValue => {
    const a = toNumber(l(row));
    if (a === null) return null;
    const b = toNumber(r(row));
    return b === null ? null : apply(a, b);
  };
  if (left.constant && right.constant) return constant(type, evaluate([]));
  return { type, constant: false, eval: evaluate };
}

// ---- in, between, dynamic access ---------------------------------------------

function compileIn(expr: Extract<Expr, { kind: 'in' }>, env: CompileEnv): CompiledExpr {
  const left = compileExpr(expr.left, env);
  const items: CompiledExpr[] = [];
  for (const item of expr.list) {
    if (item.kind === 'tabular') {
      const relation = env.evalTabular(item.query);
      const column = relation.columns[0];
      if (column) for (const row of relation.rows) items.push(constant(column.type, row[0] as KqlValue));
    } else {
      items.push(compileExpr(item, env));
    }
  }
  const fold = expr.caseInsensitive;
  const keyOf = (v: KqlValue, t: KqlType): unknown => {
    if (v === null) return null;
    if (t === 'string' || t === 'guid') return fold ? (v as string).toLowerCase() : v;
    if (t === 'dynamic') return typeof v === 'object' ? stringifyJson(v) : fold && typeof v === 'string' ? v.toLowerCase() : v;
    return typeof v === 'bigint' ? Number(v) : v;
  };
  const leftKey = (v: KqlValue) => keyOf(v, left.type);
  const negated = expr.negated;
  const read = left.eval;
  if (items.every((i) => i.constant)) {
    const set = new Set(items.flatMap((i) => expandDynamicList(i.eval([]), i.type)).map(([v, t]) => keyOf(v, t)));
    const evaluate = (row: Row) => {
      const v = read(row);
      if (v === null) return negated ? true : false;
      return set.has(leftKey(v)) !== negated;
    };
    return left.constant ? constant('bool', evaluate([])) : { type: 'bool', constant: false, eval: evaluate };
  }
  return {
    type: 'bool',
    constant: false,
    eval: (row) => {
      const v = leftKey(read(row));
      return items.some((i) => keyOf(i.eval(row), i.type) === v) !== negated;
    },
  };
}

/** `x in (dynamic(["a","b"]))` tests against the array's elements. */
function expandDynamicList(v: KqlValue, t: KqlType): Array<[KqlValue, KqlType]> {
  if (t === 'dynamic' && Array.isArray(v)) return v.map((x) => [x as KqlValue, typeof x === 'string' ? 'string' : 'dynamic'] as [KqlValue, KqlType]);
  return [[v, t]];
}

function compileBetween(expr: Extract<Expr, { kind: 'between' }>, env: CompileEnv): CompiledExpr {
  const [left, low] = alignDynamic(compileExpr(expr.left, env), compileExpr(expr.low, env));
  const high = compileExpr(expr.high, env);
  let highReader = high;
  // `Timestamp between (t0 .. 1h)` means t0 up to t0 + 1h.
  if (left.type === 'datetime' && high.type === 'timespan') {
    highReader = derived('datetime', [low, high], ([a, b]) => (a === null || b === null ? null : (a as number) + (b as number)));
  }
  const compareLow = comparerFor(left.type, low.type, env, expr.pos);
  const compareHigh = comparerFor(left.type, highReader.type, env, expr.pos);
  const l = left.eval;
  const lo = low.eval;
  const hi = highReader.eval;
  const negated = expr.negated;
  return {
    type: 'bool',
    constant: false,
    eval: (row) => {
      const v = l(row);
      const a = lo(row);
      const b = hi(row);
      if (v === null || a === null || b === null) return null;
      return (compareLow(v, a) >= 0 && compareHigh(v, b) <= 0) !== negated;
    },
  };
}

function compileDynamicAccess(target: CompiledExpr, key: CompiledExpr, env: CompileEnv, pos: number): CompiledExpr {
  if (target.type !== 'dynamic') {
    throw typeError(env.operator, `member access requires a dynamic value, got ${target.type}`, pos);
  }
  return derived('dynamic', [target, key], ([obj, k]) => {
    if (obj === null || typeof obj !== 'object') return null;
    if (Array.isArray(obj)) {
      const i = toNumber(k as KqlValue);
      if (i === null) return null;
      return (obj[i < 0 ? obj.length + i : i] ?? null) as KqlValue;
    }
    return (obj[String(k)] ?? null) as KqlValue;
  });
}

// ---- naming ----------------------------------------------------------------------

/** The column name Kusto gives an unnamed expression, or undefined when it would be `ColumnN`. */
export function inferColumnName(expr: Expr): string | undefined {
  switch (expr.kind) {
    case 'name':
      return expr.name;
    case 'member': {
      const base = inferColumnName(expr.target);
      return base ? `${base}_${expr.key}` : undefined;
    }
    case 'index': {
      const base = inferColumnName(expr.target);
      return base && expr.index.kind === 'literal' ? `${base}_${String(expr.index.value)}` : undefined;
    }
    case 'call':
      if (['bin', 'floor', 'bin_at'].includes(expr.name) && expr.args[0]) return inferColumnName(expr.args[0]);
      return undefined;
    default:
      return undefined;
  }
}

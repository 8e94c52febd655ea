/**
 * Tabular operators: each takes a relation and returns a new one. Input rows
 * are shared with the catalog and never mutated; operators that change
 * columns build new row arrays.
 */
import { AGGREGATES, type Accumulator, type BoundAggregate } from './kql-aggregates.ts';
import type { NamedExpr, Operator, SortKey, Tabular } from './kql-ast.ts';
import { toNumber, typeError, type CompiledExpr } from './kql-compiled.ts';
import { compileExpr, EMPTY_SCOPE, inferColumnName, makeScope, type CompileEnv, type Scope } from './kql-compiler.ts';
import { unresolvedName, unsupported } from './kql-errors.ts';
import { DOTNET_TYPE, stringifyJson, type ColumnSchema, type KqlType, type KqlValue, type Relation, type Row } from './kql-types.ts';

export interface OperatorContext {
  /** A compile environment for `operator` over `scope`. */
  env(scope: Scope, operator: string): CompileEnv;
  evalTabular(query: Tabular): Relation;
  render(visualization: string, properties: Record<string, KqlValue>): void;
}

export function applyOperator(input: Relation, op: Operator, ctx: OperatorContext): Relation {
  switch (op.kind) {
    case 'where':
      return where(input, op.predicate, ctx, op.pos);
    case 'take':
      return { ...input, rows: input.rows.slice(0, constantCount(op.count, ctx, op.opName, op.pos)) };
    case 'project':
      return project(input, op.items, ctx);
    case 'project-away':
      return projectAway(input, op.names);
    case 'project-rename':
      return projectRename(input, op.renames);
    case 'project-reorder':
      return projectReorder(input, op.names);
    case 'extend':
      return extend(input, op.items, ctx);
    case 'summarize':
      return summarize(input, op.aggregates, op.by, ctx);
    case 'sort':
      return { ...input, rows: sortRows(input, op.keys, ctx, op.opName) };
    case 'top':
      return { ...input, rows: sortRows(input, [op.key], ctx, 'top').slice(0, constantCount(op.count, ctx, 'top', op.pos)) };
    case 'count':
      return { columns: [{ name: 'Count', type: 'long' }], rows: [[input.rows.length]] };
    case 'distinct':
      return distinct(op.items.length === 0 ? input : project(input, op.items, ctx, 'distinct'));
    case 'getschema':
      return getschema(input);
    case 'union':
      return unionRelations([input, ...op.sources.map((s) => ctx.evalTabular(s))]);
    case 'render':
      ctx.render(op.visualization, op.properties);
      return input;
    case 'as':
      return { ...input, name: op.name };
    case 'serialize':
      return input;
  }
}

function constantCount(expr: Parameters<typeof compileExpr>[0], ctx: OperatorContext, operator: string, pos: number): number {
  const compiled = compileExpr(expr, ctx.env(EMPTY_SCOPE, operator));
  const n = compiled.constant ? toNumber(compiled.eval([])) : null;
  if (n === null || !['long', 'int', 'real'].includes(compiled.type)) {
    throw typeError(operator, 'the number of rows must be a constant integer', pos);
  }
  return Math.max(0, Math.trunc(n));
}

function where(input: Relation, predicate: Parameters<typeof compileExpr>[0], ctx: OperatorContext, pos: number): Relation {
  const compiled = compileExpr(predicate, ctx.env(makeScope(input.columns), 'where'));
  if (compiled.type !== 'bool' && compiled.type !== 'dynamic') {
    throw typeError('where', `the predicate must be a bool expression, got ${compiled.type}`, pos);
  }
  const test = compiled.eval;
  if (compiled.constant) return { ...input, rows: test([]) === true ? input.rows : [] };
  return { ...input, rows: input.rows.filter((row) => test(row) === true) };
}

/** Picks a name not already used: Kusto appends a number to clashing generated names. */
function uniqueName(name: string, taken: Set<string>): string {
  if (!taken.has(name)) return name;
  for (let i = 1; ; i++) if (!taken.has(`${name}${i}`)) return `${name}${i}`;
}

interface NamedCompiled {
  name: string;
  compiled: CompiledExpr;
}

function compileNamedList(items: NamedExpr[], env: CompileEnv): NamedCompiled[] {
  let unnamed = 0;
  const taken = new Set<string>();
  return items.map((item) => {
    if (item.expr.kind === 'star') throw unsupported('project *', item.pos);
    const compiled = compileExpr(item.expr, env);
    const name = uniqueName(item.name ?? inferColumnName(item.expr) ?? `Column${++unnamed}`, taken);
    taken.add(name);
    return { name, compiled };
  });
}

function project(input: Relation, items: NamedExpr[], ctx: OperatorContext, operator = 'project'): Relation {
  const list = compileNamedList(items, ctx.env(makeScope(input.columns), operator));
  const evals = list.map((i) => i.compiled.eval);
  return {
    ...input,
    columns: list.map((i) => ({ name: i.name, type: i.compiled.type })),
    rows: input.rows.map((row) => evals.map((e) => e(row))),
  };
}

function columnIndex(input: Relation, name: string, operator: string, pos: number): number {
  const i = input.columns.findIndex((c) => c.name === name);
  if (i < 0) throw unresolvedName(operator, name, 'scalar', pos);
  return i;
}

function reorder(input: Relation, order: number[], columns: ColumnSchema[]): Relation {
  return { ...input, columns, rows: input.rows.map((row) => order.map((i) => row[i] as KqlValue)) };
}

function projectAway(input: Relation, names: Array<{ name: string; pos: number }>): Relation {
  const drop = new Set(names.map((n) => columnIndex(input, n.name, 'project-away', n.pos)));
  const keep = input.columns.map((_, i) => i).filter((i) => !drop.has(i));
  return reorder(input, keep, keep.map((i) => input.columns[i] as ColumnSchema));
}

function projectReorder(input: Relation, names: Array<{ name: string; pos: number }>): Relation {
  const first = names.map((n) => columnIndex(input, n.name, 'project-reorder', n.pos));
  const order = [...first, ...input.columns.map((_, i) => i).filter((i) => !first.includes(i))];
  return reorder(input, order, order.map((i) => input.columns[i] as ColumnSchema));
}

function projectRename(input: Relation, renames: Array<{ to: string; from: string; pos: number }>): Relation {
  const columns = input.columns.map((c) => ({ ...c }));
  for (const r of renames) (columns[columnIndex(input, r.from, 'project-rename', r.pos)] as ColumnSchema).name = r.to;
  return { ...input, columns };
}

function extend(input: Relation, items: NamedExpr[], ctx: OperatorContext): Relation {
  const columns = [...input.columns];
  const steps: Array<{ index: number; eval: CompiledExpr['eval'] }> = [];
  let unnamed = 0;
  for (const item of items) {
    // Later items may use earlier ones, so each compiles against the schema so far.
    const compiled = compileExpr(item.expr, ctx.env(makeScope(columns), 'extend'));
    const name = item.name ?? inferColumnName(item.expr) ?? `Column${++unnamed}`;
    let index = columns.findIndex((c) => c.name === name);
    if (index < 0) index = columns.push({ name, type: compiled.type }) - 1;
    else columns[index] = { name, type: compiled.type };
    steps.push({ index, eval: compiled.eval });
  }
  const rows = input.rows.map((row) => {
    const next = row.slice();
    for (const step of steps) next[step.index] = step.eval(next);
    return next;
  });
  return { ...input, columns, rows };
}

// ---- summarize ---------------------------------------------------------------

interface AggregateItem {
  name: string;
  type: KqlType;
  /** Evaluated over the array of slot results of one group. */
  finish: (slots: KqlValue[]) => KqlValue;
}

function aggregateName(item: NamedExpr): string | undefined {
  if (item.name) return item.name;
  const e = item.expr;
  if (e.kind !== 'call' || !AGGREGATES.has(e.name)) return undefined;
  const fn = e.name === 'any' ? 'any' : e.name;
  const arg = e.args[0];
  const argName = arg ? inferColumnName(arg) : undefined;
  return argName && fn !== 'countif' ? `${fn}_${argName}` : `${fn}_`;
}

function bindAggregates(items: NamedExpr[], input: Scope, ctx: OperatorContext): { slots: BoundAggregate[]; outputs: AggregateItem[] } {
  const slots: BoundAggregate[] = [];
  const inputEnv = ctx.env(input, 'summarize');
  const outerEnv: CompileEnv = {
    ...ctx.env(EMPTY_SCOPE, 'summarize'),
    aggregate: (call) => {
      const binder = AGGREGATES.get(call.name);
      if (!binder) throw unsupported(`${call.name}() aggregation`, call.pos);
      const args = call.args.map((a) => (a.kind === 'star' ? undefined : compileExpr(a, inputEnv))).filter((a) => a !== undefined);
      const slot = slots.push(binder(args, 'summarize', call.pos)) - 1;
      const bound = slots[slot] as BoundAggregate;
      return { type: bound.type, constant: false, eval: (values) => values[slot] as KqlValue };
    },
  };
  let unnamed = 0;
  const outputs = items.map((item): AggregateItem => {
    const compiled = compileExpr(item.expr, outerEnv);
    const name = aggregateName(item) ?? `Column${++unnamed}`;
    return { name, type: compiled.type, finish: compiled.eval };
  });
  if (slots.length === 0 && items.length > 0) throw typeError('summarize', 'expected an aggregation function such as count()', items[0]?.pos);
  return { slots, outputs };
}

/** Group key: numbers and strings as themselves, anything else through a tagged string. */
function keyPart(v: KqlValue): unknown {
  return v !== null && typeof v === 'object' ? `\u0001${stringifyJson(v)}` : v;
}

interface Group {
  keys: KqlValue[];
  accumulators: Accumulator[];
}

function summarize(input: Relation, aggregates: NamedExpr[], by: NamedExpr[], ctx: OperatorContext): Relation {
  const scope = makeScope(input.columns);
  const keys = compileNamedList(by, ctx.env(scope, 'summarize'));
  const { slots, outputs } = bindAggregates(aggregates, scope, ctx);
  const groups = new Map<unknown, Group>();
  const newGroup = (keyValues: KqlValue[]): Group => ({ keys: keyValues, accumulators: slots.map((s) => s.create()) });
  const keyEvals = keys.map((k) => k.compiled.eval);
  const single = keyEvals.length === 1 ? keyEvals[0] : undefined;
  for (const row of input.rows) {
    let group: Group | undefined;
    if (single) {
      // Fast path for the common single key (e.g. bin(Timestamp, 1h)): no arrays per row.
      const v = single(row);
      const key = keyPart(v);
      group = groups.get(key);
      if (!group) groups.set(key, (group = newGroup([v])));
    } else {
      const values = keyEvals.map((e) => e(row));
      const key = keyEvals.length === 0 ? '' : values.map((v) => `${typeof v}:${String(keyPart(v))}`).join('\u0002');
      group = groups.get(key);
      if (!group) groups.set(key, (group = newGroup(values)));
    }
    for (const acc of group.accumulators) acc.add(row);
  }
  // Without `by`, summarize returns one row even for empty input (count() = 0).
  if (keys.length === 0 && groups.size === 0) groups.set('', newGroup([]));
  const rows: Row[] = [];
  for (const group of groups.values()) {
    const results = group.accumulators.map((a) => a.result());
    rows.push([...group.keys, ...outputs.map((o) => o.finish(results))]);
  }
  const taken = new Set<string>();
  const columns = [
    ...keys.map((k) => ({ name: k.name, type: k.compiled.type })),
    ...outputs.map((o) => ({ name: o.name, type: o.type })),
  ].map((c) => {
    const name = uniqueName(c.name, taken);
    taken.add(name);
    return { ...c, name };
  });
  return { columns, rows };
}

// ---- sort, distinct, getschema, union --------------------------------------------

export function compareForSort(a: KqlValue, b: KqlValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'object' || typeof b === 'object') {
    const x = stringifyJson(a);
    const y = stringifyJson(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

/** A comparator specialized to the static type, so sorting 100k rows avoids per-pair type checks. */
function comparatorFor(type: KqlType): (a: KqlValue, b: KqlValue) => number {
  switch (type) {
    case 'int':
    case 'real':
    case 'datetime':
    case 'timespan':
      return (a, b) => (a as number) - (b as number);
    case 'bool':
      return (a, b) => Number(a) - Number(b);
    case 'dynamic':
      return compareForSort;
    default:
      // strings, guids and longs (which may be bigint): relational operators work for all of them.
      return (a, b) => (a! < b! ? -1 : a! > b! ? 1 : 0);
  }
}

function sortRows(input: Relation, keys: SortKey[], ctx: OperatorContext, operator: string): Row[] {
  const env = ctx.env(makeScope(input.columns), operator);
  const rows = input.rows;
  const compiled = keys.map((k) => {
    const expr = compileExpr(k.expr, env);
    const values = rows.map((row) => expr.eval(row));
    return {
      values,
      compare: comparatorFor(expr.type),
      direction: k.descending ? -1 : 1,
      // Kusto puts nulls first when ascending and last when descending, unless told otherwise.
      nullsFirst: k.nullsFirst ?? !k.descending,
    };
  });
  const order = rows.map((_, i) => i);
  order.sort((x, y) => {
    for (const k of compiled) {
      const a = k.values[x] as KqlValue;
      const b = k.values[y] as KqlValue;
      if (a === b) continue;
      if (a === null || b === null) return (a === null) === k.nullsFirst ? -1 : 1;
      const c = k.compare(a, b);
      if (c !== 0) return c * k.direction;
    }
    return x - y;
  });
  return order.map((i) => rows[i] as Row);
}

function distinct(input: Relation): Relation {
  const seen = new Set<string>();
  const rows = input.rows.filter((row) => {
    const key = stringifyJson(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { ...input, rows };
}

function getschema(input: Relation): Relation {
  return {
    columns: [
      { name: 'ColumnName', type: 'string' },
      { name: 'ColumnOrdinal', type: 'int' },
      { name: 'DataType', type: 'string' },
      { name: 'ColumnType', type: 'string' },
    ],
    rows: input.columns.map((c, i) => [c.name, i, DOTNET_TYPE[c.type], c.type]),
  };
}

/** Outer union by column name; a name used with two types becomes `name_type` columns, as in Kusto. */
export function unionRelations(relations: Relation[]): Relation {
  const typesByName = new Map<string, Set<KqlType>>();
  for (const r of relations) for (const c of r.columns) (typesByName.get(c.name) ?? typesByName.set(c.name, new Set()).get(c.name))!.add(c.type);
  const outName = (c: ColumnSchema) => ((typesByName.get(c.name)?.size ?? 0) > 1 ? `${c.name}_${c.type}` : c.name);
  const columns: ColumnSchema[] = [];
  const position = new Map<string, number>();
  for (const r of relations) {
    for (const c of r.columns) {
      const name = outName(c);
      if (!position.has(name)) position.set(name, columns.push({ name, type: c.type }) - 1);
    }
  }
  const empty: Row = columns.map((c) => (c.type === 'string' ? '' : null));
  const rows: Row[] = [];
  for (const r of relations) {
    const targets = r.columns.map((c) => position.get(outName(c)) as number);
    for (const row of r.rows) {
      const out = empty.slice();
      for (let i = 0; i < targets.length; i++) out[targets[i] as number] = row[i] as KqlValue;
      rows.push(out);
    }
  }
  return { columns, rows };
}

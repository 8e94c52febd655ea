/**
 * Aggregation functions for `summarize`. Each aggregate is bound once per
 * operator (types checked, result type fixed) and then creates one small
 * accumulator per group.
 */
import { toNumber, typeError, type CompiledExpr } from './kql-compiled.ts';
import { isNumericType, stringifyJson, type KqlType, type KqlValue, type Row } from './kql-types.ts';

export interface Accumulator {
  add(row: Row): void;
  result(): KqlValue;
}

export interface BoundAggregate {
  type: KqlType;
  create(): Accumulator;
}

type AggregateBinder = (args: CompiledExpr[], operator: string, pos: number) => BoundAggregate;

function expectArgs(name: string, args: CompiledExpr[], min: number, max: number, operator: string, pos: number): void {
  if (args.length < min || args.length > max) {
    throw typeError(operator, `aggregate '${name}' expects ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`, pos);
  }
}

function expectNumeric(name: string, arg: CompiledExpr, operator: string, pos: number, allowTimespan = false): void {
  if (isNumericType(arg.type) || arg.type === 'dynamic' || (allowTimespan && arg.type === 'timespan')) return;
  throw typeError(operator, `aggregate '${name}' expects a numeric argument, got ${arg.type}`, pos);
}

const count: AggregateBinder = (args, operator, pos) => {
  expectArgs('count', args, 0, 1, operator, pos);
  return {
    type: 'long',
    create: () => {
      let n = 0;
      return { add: () => void n++, result: () => n };
    },
  };
};

const countif: AggregateBinder = (args, operator, pos) => {
  expectArgs('countif', args, 1, 1, operator, pos);
  const predicate = (args[0] as CompiledExpr).eval;
  return {
    type: 'long',
    create: () => {
      let n = 0;
      return { add: (row) => void (predicate(row) === true && n++), result: () => n };
    },
  };
};

/** The numeric argument (and, for the `…if` forms, the predicate) of sum/avg, type-checked. */
function numericArgument(name: string, conditional: boolean, args: Parameters<AggregateBinder>[0], operator: Parameters<AggregateBinder>[1], pos: Parameters<AggregateBinder>[2]) {
  expectArgs(name, args, conditional ? 2 : 1, conditional ? 2 : 1, operator, pos);
  const arg = args[0] as CompiledExpr;
  expectNumeric(name, arg, operator, pos, true);
  return { arg, read: arg.eval, predicate: conditional ? (args[1] as CompiledExpr).eval : undefined };
}

function sumBinder(conditional: boolean): AggregateBinder {
  return (args, operator, pos) => {
    const { arg, read, predicate } = numericArgument(conditional ? 'sumif' : 'sum', conditional, args, operator, pos);
    const type: KqlType = arg.type === 'real' || arg.type === 'dynamic' ? 'real' : arg.type === 'timespan' ? 'timespan' : 'long';
    return {
      type,
      create: () => {
        let total = 0;
        let seen = false;
        return {
          add: (row) => {
            if (predicate && predicate(row) !== true) return;
            const n = toNumber(read(row));
            if (n === null) return;
            total += n;
            seen = true;
          },
          result: () => (seen ? total : conditional ? 0 : null),
        };
      },
    };
  };
}

function avgBinder(conditional: boolean): AggregateBinder {
  return (args, operator, pos) => {
    const { arg, read, predicate } = numericArgument(conditional ? 'avgif' : 'avg', conditional, args, operator, pos);
    return {
      type: arg.type === 'timespan' ? 'timespan' : 'real',
      create: () => {
        let total = 0;
        let n = 0;
        return {
          add: (row) => {
            if (predicate && predicate(row) !== true) return;
            const v = toNumber(read(row));
            if (v === null) return;
            total += v;
            n++;
          },
          result: () => (n === 0 ? null : total / n),
        };
      },
    };
  };
}

function extremum(name: string, better: (a: KqlValue, b: KqlValue) => boolean): AggregateBinder {
  return (args, operator, pos) => {
    expectArgs(name, args, 1, 1, operator, pos);
    const arg = args[0] as CompiledExpr;
    if (arg.type === 'dynamic' || arg.type === 'guid') throw typeError(operator, `aggregate '${name}' does not accept ${arg.type}`, pos);
    const read = arg.eval;
    const skip = (v: KqlValue) => v === null || (arg.type === 'string' && v === '');
    return {
      type: arg.type,
      create: () => {
        let best: KqlValue = null;
        return {
          add: (row) => {
            const v = read(row);
            if (!skip(v) && (best === null || better(v, best))) best = v;
          },
          result: () => (best === null && arg.type === 'string' ? '' : best),
        };
      },
    };
  };
}

/** Distinct-value key: strings and numbers stay apart (`"1"` vs `1`), objects compare by JSON. */
function distinctKey(v: KqlValue): unknown {
  return v !== null && typeof v === 'object' ? `\u0001${stringifyJson(v)}` : v;
}

const dcount: AggregateBinder = (args, operator, pos) => {
  expectArgs('dcount', args, 1, 2, operator, pos);
  const read = (args[0] as CompiledExpr).eval;
  return {
    type: 'long',
    create: () => {
      const seen = new Set<unknown>();
      return {
        add: (row) => {
          const v = read(row);
          if (v !== null) seen.add(distinctKey(v));
        },
        result: () => seen.size,
      };
    },
  };
};

function makeCollection(name: string, distinct: boolean): AggregateBinder {
  return (args, operator, pos) => {
    expectArgs(name, args, 1, 2, operator, pos);
    const read = (args[0] as CompiledExpr).eval;
    const limitArg = args[1];
    const limit = limitArg ? (toNumber(limitArg.eval([])) ?? 1_048_576) : 1_048_576;
    return {
      type: 'dynamic',
      create: () => {
        const values: KqlValue[] = [];
        const seen = new Set<unknown>();
        return {
          add: (row) => {
            if (values.length >= limit) return;
            const v = read(row);
            if (v === null) return;
            if (distinct) {
              const key = distinctKey(v);
              if (seen.has(key)) return;
              seen.add(key);
            }
            values.push(v);
          },
          result: () => values,
        };
      },
    };
  };
}

const takeAny: AggregateBinder = (args, operator, pos) => {
  expectArgs('take_any', args, 1, 1, operator, pos);
  const arg = args[0] as CompiledExpr;
  return {
    type: arg.type,
    create: () => {
      let value: KqlValue = null;
      let taken = false;
      return {
        add: (row) => {
          if (taken) return;
          value = arg.eval(row);
          taken = true;
        },
        result: () => value,
      };
    },
  };
};

/** Exact percentile by nearest rank; the real service estimates, so tests should not depend on exact values. */
const percentile: AggregateBinder = (args, operator, pos) => {
  expectArgs('percentile', args, 2, 2, operator, pos);
  const arg = args[0] as CompiledExpr;
  expectNumeric('percentile', arg, operator, pos, true);
  const p = toNumber((args[1] as CompiledExpr).eval([])) ?? 50;
  return {
    type: arg.type === 'dynamic' ? 'real' : arg.type,
    create: () => {
      const values: number[] = [];
      return {
        add: (row) => {
          const v = toNumber(arg.eval(row));
          if (v !== null) values.push(v);
        },
        result: () => {
          if (values.length === 0) return null;
          values.sort((a, b) => a - b);
          return values[Math.max(0, Math.ceil((p / 100) * values.length) - 1)] as number;
        },
      };
    },
  };
};

function variance(name: string, sqrt: boolean): AggregateBinder {
  return (args, operator, pos) => {
    expectArgs(name, args, 1, 1, operator, pos);
    const arg = args[0] as CompiledExpr;
    expectNumeric(name, arg, operator, pos);
    return {
      type: 'real',
      create: () => {
        // Welford's online algorithm: one pass, numerically stable.
        let n = 0;
        let mean = 0;
        let m2 = 0;
        return {
          add: (row) => {
            const v = toNumber(arg.eval(row));
            if (v === null) return;
            n++;
            const delta = v - mean;
            mean += delta / n;
            m2 += delta * (v - mean);
          },
          result: () => (n < 2 ? 0 : sqrt ? Math.sqrt(m2 / (n - 1)) : m2 / (n - 1)),
        };
      },
    };
  };
}

export const AGGREGATES: ReadonlyMap<string, AggregateBinder> = new Map<string, AggregateBinder>([
  ['count', count],
  ['countif', countif],
  ['sum', sumBinder(false)],
  ['sumif', sumBinder(true)],
  ['avg', avgBinder(false)],
  ['avgif', avgBinder(true)],
  ['min', extremum('min', (a, b) => (a as number) < (b as number))],
  ['max', extremum('max', (a, b) => (a as number) > (b as number))],
  ['dcount', dcount],
  ['make_set', makeCollection('make_set', true)],
  ['make_list', makeCollection('make_list', false)],
  ['take_any', takeAny],
  ['any', takeAny],
  ['percentile', percentile],
  ['stdev', variance('stdev', true)],
  ['variance', variance('variance', false)],
]);

/** Aggregates that exist in KQL but not here: reported as unsupported rather than unknown. */
export const UNSUPPORTED_AGGREGATES = new Set([
  'arg_max', 'arg_min', 'percentiles', 'percentiles_array', 'make_bag', 'make_set_if', 'make_list_if', 'dcountif',
  'hll', 'hll_merge', 'tdigest', 'tdigest_merge', 'binary_all_and', 'binary_all_or', 'buildschema',
  'maxif', 'minif', 'stdevif', 'varianceif', 'make_list_with_nulls', 'count_distinct', 'count_distinctif',
]);

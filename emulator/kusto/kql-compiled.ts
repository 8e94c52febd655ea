/**
 * Compiled scalar expressions: a static type plus a closure over a row.
 * Compiling once per operator (instead of interpreting the tree per row)
 * keeps `summarize … by bin(Timestamp, 1h)` over 100k rows in a few ms.
 */
import { semanticError } from './kql-errors.ts';
import type { KqlType, KqlValue, Row } from './kql-types.ts';

export interface CompiledExpr {
  type: KqlType;
  eval: (row: Row) => KqlValue;
  /** True when the value does not depend on the row; such expressions are folded once. */
  constant: boolean;
}

const EMPTY_ROW: Row = [];

export function constant(type: KqlType, value: KqlValue): CompiledExpr {
  return { type, eval: () => value, constant: true };
}

/**
 * Builds a row-wise expression from argument expressions and a function of their values.
 * Folds it to a constant when every argument is constant.
 */
export function derived(type: KqlType, args: CompiledExpr[], impl: (values: KqlValue[]) => KqlValue): CompiledExpr {
  const evals = args.map((a) => a.eval);
  let evaluate: (row: Row) => KqlValue;
  if (evals.length === 1) {
    const [a] = evals as [(row: Row) => KqlValue];
    evaluate = (row) => impl([a(row)]);
  } else if (evals.length === 2) {
    const [a, b] = evals as [(row: Row) => KqlValue, (row: Row) => KqlValue];
    evaluate = (row) => impl([a(row), b(row)]);
  } else if (evals.length === 3) {
    const [a, b, c] = evals as [(row: Row) => KqlValue, (row: Row) => KqlValue, (row: Row) => KqlValue];
    evaluate = (row) => impl([a(row), b(row), c(row)]);
  } else {
    evaluate = (row) => impl(evals.map((e) => e(row)));
  }
  if (args.every((a) => a.constant)) return constant(type, evaluate(EMPTY_ROW));
  return { type, eval: evaluate, constant: false };
}

/** Same as `derived` but returns null (or '' for strings) as soon as an argument is null. */
export function nullPropagating(type: KqlType, args: CompiledExpr[], impl: (values: KqlValue[]) => KqlValue): CompiledExpr {
  const nullResult = type === 'string' ? '' : null;
  return derived(type, args, (values) => {
    for (const v of values) if (v === null) return nullResult;
    return impl(values);
  });
}

export function typeError(operator: string | undefined, detail: string, pos?: number): Error {
  return semanticError('SEM0002', operator, detail, pos);
}

/** The numeric type an arithmetic result takes: real beats long beats int. */
export function widerNumeric(a: KqlType, b: KqlType): KqlType {
  if (a === 'real' || b === 'real') return 'real';
  if (a === 'long' || b === 'long') return 'long';
  return 'int';
}

export function toNumber(v: KqlValue): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v);
    return v.trim() !== '' && !Number.isNaN(n) ? n : null;
  }
  return null;
}

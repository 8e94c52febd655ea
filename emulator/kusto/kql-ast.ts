/**
 * Syntax tree of the KQL subset. Every node carries `pos`, the offset of its
 * first character, so later errors can point at the query text.
 */
import type { KqlType, KqlValue } from './kql-types.ts';

export type Expr =
  | { kind: 'literal'; pos: number; type: KqlType; value: KqlValue }
  | { kind: 'name'; pos: number; name: string }
  | { kind: 'call'; pos: number; name: string; args: Expr[] }
  | { kind: 'binary'; pos: number; op: string; left: Expr; right: Expr }
  | { kind: 'unary'; pos: number; op: '-' | '+'; operand: Expr }
  | { kind: 'in'; pos: number; negated: boolean; caseInsensitive: boolean; left: Expr; list: Expr[] }
  | { kind: 'between'; pos: number; negated: boolean; left: Expr; low: Expr; high: Expr }
  | { kind: 'member'; pos: number; target: Expr; key: string }
  | { kind: 'index'; pos: number; target: Expr; index: Expr }
  | { kind: 'star'; pos: number }
  /** A parenthesized pipeline used as a value: `toscalar(T | count)`, `x in (T | project y)`. */
  | { kind: 'tabular'; pos: number; query: Tabular };

/** `Name = expr` or a bare `expr` in project/extend/summarize/print lists. */
export interface NamedExpr {
  name?: string;
  expr: Expr;
  pos: number;
}

export interface SortKey {
  expr: Expr;
  descending: boolean;
  nullsFirst?: boolean;
}

export type Operator =
  | { kind: 'where'; pos: number; predicate: Expr }
  | { kind: 'take'; pos: number; count: Expr; opName: string }
  | { kind: 'project'; pos: number; items: NamedExpr[] }
  | { kind: 'project-away'; pos: number; names: Array<{ name: string; pos: number }> }
  | { kind: 'project-rename'; pos: number; renames: Array<{ to: string; from: string; pos: number }> }
  | { kind: 'project-reorder'; pos: number; names: Array<{ name: string; pos: number }> }
  | { kind: 'extend'; pos: number; items: NamedExpr[] }
  | { kind: 'summarize'; pos: number; aggregates: NamedExpr[]; by: NamedExpr[] }
  | { kind: 'sort'; pos: number; keys: SortKey[]; opName: string }
  | { kind: 'top'; pos: number; count: Expr; key: SortKey }
  | { kind: 'count'; pos: number; name?: string }
  | { kind: 'distinct'; pos: number; items: NamedExpr[] }
  | { kind: 'getschema'; pos: number }
  | { kind: 'union'; pos: number; sources: Tabular[] }
  | { kind: 'render'; pos: number; visualization: string; properties: Record<string, KqlValue> }
  | { kind: 'as'; pos: number; name: string }
  | { kind: 'serialize'; pos: number };

export type Source =
  | { kind: 'tableRef'; pos: number; name: string; database?: string }
  | { kind: 'print'; pos: number; items: NamedExpr[] }
  | { kind: 'range'; pos: number; column: string; from: Expr; to: Expr; step: Expr }
  | { kind: 'datatable'; pos: number; columns: Array<{ name: string; type: KqlType }>; values: Expr[] }
  | { kind: 'union'; pos: number; sources: Tabular[] }
  | { kind: 'nested'; pos: number; query: Tabular };

export interface Tabular {
  pos: number;
  source: Source;
  operators: Operator[];
}

export interface QueryParameterDecl {
  name: string;
  type: KqlType;
  defaultValue?: Expr;
  pos: number;
}

export type Statement =
  | { kind: 'let'; pos: number; name: string; value: Expr | Tabular; tabular: boolean }
  | { kind: 'declare'; pos: number; parameters: QueryParameterDecl[] }
  | { kind: 'set'; pos: number; name: string; value?: KqlValue }
  | { kind: 'query'; pos: number; query: Tabular }
  /** A bare expression statement such as `T` or `x`: tabular or scalar is decided when names resolve. */
  | { kind: 'expr'; pos: number; expr: Expr };

export interface QueryScript {
  statements: Statement[];
}

import { cellLimit, renderRows, type RenderedRows } from './format.ts';
import { isTruncation, type KustoInlineError, type KustoTable } from './frames.ts';

/**
 * The budget arithmetic of a query result, kept pure so it can be tested
 * on its own: which rows of each result table are shown (maxRows, the
 * table's share of the byte budget, capped cells), whether rows are
 * missing and why, and the sentence that says so.
 */

export interface Budget {
  /** Rows per table, as the caller asked (already capped by the server). */
  maxRows: number;
  /** The server's cap on maxRows (KUSTO_MAX_ROWS), to say how far maxRows may go. */
  maxRowsCap: number;
  /** Bytes of rendered rows for the whole result; shared evenly by the tables. */
  maxBytes: number;
}

export interface TablePlan {
  table: KustoTable;
  rendered: RenderedRows;
  /** Bytes this table may use. */
  byteBudget: number;
  /** The longest value shown, in characters. */
  cellChars: number;
  /** The query returns more rows than came back: maxRows, or the engine's record limit. */
  rowLimited: boolean;
  /** Rows that came back but did not fit the byte budget. */
  byteLimited: boolean;
  truncated: boolean;
}

/**
 * Which tables the engine cut. Kusto reports truncation in the table where
 * it happened (an error row or TableCompletion errors); the tables after it
 * are incomplete too. Reported only for the whole result (completion
 * information, DataSetCompletion), it is put on the last table with rows.
 */
function engineCut(tables: readonly KustoTable[], partialErrors: readonly KustoInlineError[]): boolean[] {
  const first = tables.findIndex((table) => (table.errors ?? []).some(isTruncation));
  if (first >= 0) return tables.map((_, i) => i >= first);
  if (!partialErrors.some(isTruncation)) return tables.map(() => false);
  let last = tables.length - 1;
  while (last > 0 && (tables[last] as KustoTable).rows.length === 0) last--;
  return tables.map((_, i) => i >= last);
}

export function planTables(tables: readonly KustoTable[], partialErrors: readonly KustoInlineError[], budget: Budget): TablePlan[] {
  const cut = engineCut(tables, partialErrors);
  const byteBudget = Math.floor(budget.maxBytes / Math.max(1, tables.length));
  const cellChars = cellLimit(byteBudget);
  return tables.map((table, i) => {
    const rendered = renderRows(table, budget.maxRows, byteBudget, cellChars);
    const rowLimited = table.rows.length > budget.maxRows || Boolean(cut[i]);
    const byteLimited = rendered.shown < Math.min(budget.maxRows, table.rows.length);
    return { table, rendered, byteBudget, cellChars, rowLimited, byteLimited, truncated: rowLimited || byteLimited || rendered.cellsCut > 0 };
  });
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * "showing 5 of 3,000 rows (maxRows 5); add filters, …": every limit that
 * applied, with what to do about each. `totalRows` is the full count when
 * known (undefined: "more than N").
 */
export function truncationText(plan: TablePlan, totalRows: number | undefined, budget: Budget): string | undefined {
  if (!plan.truncated) return undefined;
  const shown = plan.rendered.shown;
  const of = !plan.rowLimited
    ? `${count(shown)} of ${count(plan.table.rows.length)}`
    : totalRows !== undefined
      ? `${count(shown)} of ${count(totalRows)}`
      : `${count(shown)} of more than ${count(Math.max(shown, Math.min(plan.table.rows.length, budget.maxRows)))}`;
  const bytes = `the ${count(plan.byteBudget)}-byte result budget`;
  const cells =
    plan.rendered.cellsCut > 0
      ? `${count(plan.rendered.cellsCut)} value${plan.rendered.cellsCut === 1 ? '' : 's'} longer than ${count(plan.cellChars)} characters ${plan.rendered.cellsCut === 1 ? 'was' : 'were'} shortened; use substring() or project that column alone to see more`
      : undefined;
  const raise = budget.maxRows < budget.maxRowsCap ? `, or raise maxRows (at most ${budget.maxRowsCap})` : '';
  let sentence: string | undefined;
  if (plan.rowLimited && plan.byteLimited) {
    sentence = `showing ${of} rows (maxRows ${budget.maxRows} and ${bytes}); add filters, summarize, or project fewer or shorter columns (e.g. substring())${raise}`;
  } else if (plan.rowLimited) {
    sentence = `showing ${of} rows (maxRows ${budget.maxRows}); add filters, summarize, or project fewer columns${raise}`;
  } else if (plan.byteLimited) {
    sentence = `showing ${of} rows: ${bytes} was reached; project fewer or shorter columns (e.g. substring()) or summarize`;
  }
  if (sentence && cells) return `${sentence}; ${cells}`;
  return sentence ?? `all ${count(shown)} row${shown === 1 ? '' : 's'}, but ${cells}`;
}

import type { DatabaseSchema, TableSchema } from './schema-cache.ts';

/**
 * Lexical relevance of tables and columns to a natural-language question,
 * from names (split on case and underscores), docstrings and column names,
 * weighted by how rare each word is across the database (IDF). No model
 * download and no per-instance database: it runs on the schema cache.
 */

const STOP_WORDS = new Set(
  'a an and are as at be by do does for from get give had has have how i in is it last me my of on or per show the their there this to was were what when where which who why with would all any each many much over than that these those top'.split(' '),
);

function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('es') && !word.endsWith('ses')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word))
    .map(stem);
}

export interface RankedColumn {
  name: string;
  type: string;
  docString?: string;
  score: number;
}

export interface RankedTable {
  name: string;
  folder?: string;
  docString?: string;
  score: number;
  columns: RankedColumn[];
  columnCount: number;
}

interface Weights {
  tableName: number;
  tableDoc: number;
  columnName: number;
  columnDoc: number;
}
const WEIGHTS: Weights = { tableName: 3, tableDoc: 1.5, columnName: 2, columnDoc: 0.75 };

export function rankSchema(schema: DatabaseSchema, question: string, maxTables: number, maxColumns = 15): RankedTable[] {
  const terms = [...new Set(tokenize(question))];
  const tables = [...schema.tables.values()];
  // Document frequency over tables: a word in every table says little.
  const documentFrequency = new Map<string, number>();
  for (const table of tables) {
    const words = new Set([...tokenize(table.name), ...tokenize(table.docString ?? ''), ...table.columns.flatMap((c) => [...tokenize(c.name), ...tokenize(c.docString ?? '')])]);
    for (const word of words) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  }
  const idf = (term: string) => Math.log(1 + tables.length / (1 + (documentFrequency.get(term) ?? 0)));
  const score = (words: readonly string[], weight: number) => terms.reduce((sum, term) => sum + (words.includes(term) ? weight * idf(term) : 0), 0);

  const ranked: RankedTable[] = tables.map((table: TableSchema) => {
    const columns = table.columns.map((column) => ({
      name: column.name,
      type: column.type,
      ...(column.docString && { docString: column.docString }),
      score: score(tokenize(column.name), WEIGHTS.columnName) + score(tokenize(column.docString ?? ''), WEIGHTS.columnDoc),
    }));
    const columnScore = columns.reduce((sum, column) => sum + column.score, 0);
    const tableScore = score(tokenize(table.name), WEIGHTS.tableName) + score(tokenize(table.docString ?? ''), WEIGHTS.tableDoc) + columnScore * 0.5;
    // Keep schema order for ties so time and key columns (usually first) stay visible.
    const shown = columns.length <= maxColumns ? columns : [...columns].sort((a, b) => b.score - a.score).slice(0, maxColumns).sort((a, b) => columns.indexOf(a) - columns.indexOf(b));
    return {
      name: table.name,
      ...(table.folder && { folder: table.folder }),
      ...(table.docString && { docString: table.docString }),
      score: Math.round(tableScore * 1000) / 1000,
      columns: shown,
      columnCount: columns.length,
    };
  });
  return ranked
    .filter((table) => table.score > 0)
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name))
    .slice(0, maxTables);
}

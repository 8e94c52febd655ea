import type { DownstreamIdentity } from '../azure/downstream-identity.ts';
import type { KustoCluster } from './clusters.ts';
import { showDatabaseSchema, showTablesDetails } from './commands.ts';
import { rowObjects } from './frames.ts';
import type { KustoGateway } from './gateway.ts';

/**
 * Per-database schema, in memory with a TTL. When the TTL runs out the cache
 * asks `.show database X schema if_later_than "vM.N" as json`: an unchanged
 * schema costs an empty answer, a changed one is fetched whole. A failed
 * lookup of a name forces that version check at once (`refresh`).
 *
 * What a schema lists is what the identity that fetched it may see, so
 * entries are kept per identity (`identity.partition`: the app, or one
 * user acting through on-behalf-of): one user never gets another's table
 * names from the cache. At most `maxEntries` schemas are kept, least
 * recently used first out.
 */

export interface ColumnSchema {
  name: string;
  type: string;
  docString?: string;
}

export interface TableSchema {
  name: string;
  folder?: string;
  docString?: string;
  columns: ColumnSchema[];
}

export interface DatabaseSchema {
  database: string;
  version?: string;
  tables: Map<string, TableSchema>;
}

/** .NET type names in `schema as json` when `CslType` is absent. */
const DOTNET_TO_KQL: Record<string, string> = {
  'System.String': 'string',
  'System.Int64': 'long',
  'System.Int32': 'int',
  'System.Double': 'real',
  'System.Boolean': 'bool',
  'System.DateTime': 'datetime',
  'System.TimeSpan': 'timespan',
  'System.Guid': 'guid',
  'System.Object': 'dynamic',
  'System.Data.SqlTypes.SqlDecimal': 'decimal',
  'System.SByte': 'bool',
};

type Json = Record<string, unknown>;

function parseSchemaJson(text: unknown, database: string): DatabaseSchema | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const databases = (JSON.parse(text) as Json).Databases as Record<string, Json> | undefined;
  const entry = databases?.[database] ?? Object.values(databases ?? {})[0];
  if (!entry) return undefined;
  const tables = new Map<string, TableSchema>();
  for (const table of Object.values((entry.Tables ?? {}) as Record<string, Json>)) {
    const columns = ((table.OrderedColumns ?? []) as Json[]).map((column) => ({
      name: String(column.Name),
      type: String(column.CslType ?? DOTNET_TO_KQL[String(column.Type)] ?? column.Type ?? 'dynamic'),
      ...(column.DocString ? { docString: String(column.DocString) } : {}),
    }));
    tables.set(String(table.Name), {
      name: String(table.Name),
      ...(table.Folder ? { folder: String(table.Folder) } : {}),
      ...(table.DocString ? { docString: String(table.DocString) } : {}),
      columns,
    });
  }
  const version = entry.MajorVersion !== undefined ? `v${entry.MajorVersion}.${entry.MinorVersion ?? 0}` : undefined;
  return { database: String(entry.Name ?? database), ...(version && { version }), tables };
}

export interface SchemaCacheOptions {
  gateway: KustoGateway;
  ttlMs: number;
  now?: () => number;
  newRequestId: (purpose: string) => string;
  /** Schemas kept (per identity, cluster and database); default 2,000. */
  maxEntries?: number;
}

export interface SchemaCache {
  /** The schema of `database` as `identity` sees it. */
  get(identity: DownstreamIdentity, cluster: KustoCluster, database: string): Promise<DatabaseSchema>;
  /** Checks the version now (after a name was not found); resolves to the current schema. */
  refresh(identity: DownstreamIdentity, cluster: KustoCluster, database: string): Promise<DatabaseSchema>;
}

const DEFAULT_MAX_ENTRIES = 2000;

export function createSchemaCache(options: SchemaCacheOptions): SchemaCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  type Entry = { schema: DatabaseSchema; checkedAt: number; pending?: Promise<DatabaseSchema> };
  const entries = new Map<string, Entry>();
  // The partition first: entries of different identities never share a key.
  const keyOf = (identity: DownstreamIdentity, cluster: KustoCluster, database: string) => `${identity.partition}\n${cluster.url}/${database.toLowerCase()}`;
  /** Sets an entry as the most recently used, dropping the least recently used beyond the bound. */
  const put = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  };

  async function fetchSchema(identity: DownstreamIdentity, cluster: KustoCluster, database: string, since?: string): Promise<DatabaseSchema | undefined> {
    const [table] = await options.gateway.command({
      identity,
      cluster,
      database,
      command: showDatabaseSchema(database, since),
      clientRequestId: options.newRequestId('schema'),
    });
    const cell = table?.rows[0]?.[0];
    return parseSchemaJson(cell, database);
  }

  async function load(identity: DownstreamIdentity, cluster: KustoCluster, database: string, force: boolean): Promise<DatabaseSchema> {
    const key = keyOf(identity, cluster, database);
    const entry = entries.get(key);
    if (entry?.pending) return entry.pending;
    if (entry && !force && now() - entry.checkedAt < options.ttlMs) {
      put(key, entry);
      return entry.schema;
    }
    const pending = (async () => {
      const changed = await fetchSchema(identity, cluster, database, entry?.schema.version);
      const schema = changed ?? entry?.schema ?? { database, tables: new Map() };
      put(key, { schema, checkedAt: now() });
      return schema;
    })();
    put(key, { schema: entry?.schema ?? { database, tables: new Map() }, checkedAt: entry?.checkedAt ?? 0, pending });
    try {
      return await pending;
    } catch (error) {
      if (entry) put(key, entry);
      else entries.delete(key);
      throw error;
    }
  }

  return {
    get: (identity, cluster, database) => load(identity, cluster, database, false),
    refresh: (identity, cluster, database) => load(identity, cluster, database, true),
  };
}

/** Row counts per table from `.show tables details` (cheap metadata; absent on failure). */
export async function tableRowCounts(gateway: KustoGateway, identity: DownstreamIdentity, cluster: KustoCluster, database: string, clientRequestId: string): Promise<Map<string, number>> {
  const [table] = await gateway.command({ identity, cluster, database, command: showTablesDetails(), clientRequestId });
  const counts = new Map<string, number>();
  for (const row of rowObjects(table)) {
    const count = Number(row.TotalRowCount);
    if (typeof row.TableName === 'string' && Number.isFinite(count)) counts.set(row.TableName, count);
  }
  return counts;
}

/** Names close to `name` (case-insensitive edit distance), for "did you mean" hints. */
export function closeMatches(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const target = name.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    const threshold = Math.max(2, Math.floor(target.length / 3));
    if (distance <= threshold || candidate.toLowerCase().includes(target) || target.includes(candidate.toLowerCase())) scored.push([candidate, distance]);
  }
  return scored.sort((a, b) => a[1] - b[1]).slice(0, limit).map(([candidate]) => candidate);
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] as number;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] as number;
      previous[j] = Math.min(above + 1, (previous[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length] as number;
}

/**
 * Hints for a name Kusto could not resolve: the tables that have a column
 * of exactly that name (it may belong to another table than the one
 * queried), a different-case match (names are case-sensitive), and close
 * names.
 */
export function unknownNameHints(schema: DatabaseSchema, name: string): string[] {
  const tables = [...schema.tables.values()];
  const hints: string[] = [];
  const owners = tables.filter((table) => table.columns.some((column) => column.name === name)).map((table) => table.name);
  if (owners.length > 0) {
    hints.push(`'${name}' is a column of table${owners.length === 1 ? '' : 's'} ${owners.slice(0, 5).join(', ')}: query ${owners.length === 1 ? 'that table' : 'one of them'}, or join it.`);
  }
  const names = new Set([...schema.tables.keys(), ...tables.flatMap((table) => table.columns.map((column) => column.name))]);
  const differentCase = [...names].filter((candidate) => candidate !== name && candidate.toLowerCase() === name.toLowerCase());
  if (differentCase.length > 0 && owners.length === 0) hints.push(`Names are case-sensitive: ${differentCase.slice(0, 3).join(', ')}.`);
  if (owners.length === 0) {
    const near = closeMatches(name, names).filter((candidate) => !differentCase.includes(candidate));
    if (near.length > 0) hints.push(`Did you mean: ${near.join(', ')}?`);
  }
  return hints;
}

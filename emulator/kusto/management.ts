/**
 * Management commands on `/v1/rest/mgmt`: the schema `.show` commands the
 * product uses, `.cancel query`, and detection of write commands (which the
 * emulator never executes). A command may be piped into query operators
 * (`.show tables | where Folder == 'Telemetry'`), as on the real service.
 */
import { isLaterThan, parseSchemaVersion, type CatalogDatabase, type CatalogTable, type KustoCatalog } from './catalog.ts';
import { runQuery } from './kql-engine.ts';
import { KqlError, unsupported } from './kql-errors.ts';
import { DOTNET_TYPE, type ColumnSchema, type KqlType, type KqlValue, type Relation, type Row } from './kql-types.ts';

export type CommandOutcome =
  | { kind: 'table'; relation: Relation }
  | { kind: 'cancel'; clientRequestId: string; reason: string }
  | { kind: 'write'; verb: string }
  | { kind: 'error'; error: KqlError };

export interface CommandContext {
  catalog: KustoCatalog;
  /** The request's database (`db`), may be empty for cluster-level commands. */
  database: string;
  clusterName: string;
  now: number;
  /** Databases the caller may see (denied ones are hidden from `.show databases`). */
  canSee(database: string): boolean;
  /** Throws a forbidden error when the caller may not read the database. */
  requireAccess(database: string): void;
  recentQueries(): Row[];
}

const WRITE_VERBS = /^\.(drop|set-or-append|set-or-replace|set|append|ingest|create-or-alter|create-merge|create|alter-merge|alter|delete|purge|rename|move|replace|clear|undo|enable|disable|execute|attach|detach|merge)\b/i;
const NAME = String.raw`(?:\[\s*(?:'([^']+)'|"([^"]+)")\s*\]|'([^']+)'|"([^"]+)"|([A-Za-z_$][\w.$-]*))`;

/** First non-empty capture among the alternatives of NAME starting at `i`. */
function nameAt(m: RegExpExecArray, i: number): string {
  return (m[i] ?? m[i + 1] ?? m[i + 2] ?? m[i + 3] ?? m[i + 4] ?? '').trim();
}

/** Splits `command | operators` at the first pipe outside quotes. */
export function splitPipe(text: string): { command: string; pipeline?: string } {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '|') return { command: text.slice(0, i).trim(), pipeline: text.slice(i) };
  }
  return { command: text.trim() };
}

export function runCommand(text: string, ctx: CommandContext): CommandOutcome {
  const { command, pipeline } = splitPipe(text.replace(/\/\/[^\n]*/g, ''));
  const normalized = command.replace(/\s+/g, ' ').trim();
  const write = WRITE_VERBS.exec(normalized);
  if (write) return { kind: 'write', verb: `.${(write[1] as string).toLowerCase()}` };
  try {
    const outcome = dispatch(normalized, ctx);
    if (outcome.kind !== 'table' || !pipeline) return outcome;
    const piped = runQuery({
      text: `$command_results ${pipeline}`,
      now: ctx.now,
      catalog: { table: (name) => (name === '$command_results' ? { name, columns: outcome.relation.columns, rows: () => outcome.relation.rows } : undefined) },
    });
    const first = piped.tables[0];
    return { kind: 'table', relation: first ? { columns: first.columns, rows: first.rows } : outcome.relation };
  } catch (error) {
    if (error instanceof KqlError) return { kind: 'error', error };
    throw error;
  }
}

function dispatch(cmd: string, ctx: CommandContext): CommandOutcome {
  let m: RegExpExecArray | null;
  if (/^\.show databases$/i.test(cmd)) return table(showDatabases(ctx));
  if ((m = new RegExp(String.raw`^\.show databases \((.+)\) schema as json(?: with ?\(.*\))?$`, 'i').exec(cmd))) {
    const names = (m[1] as string).split(',').map((n) => n.trim().replace(/^\[?['"]?|['"]?\]?$/g, ''));
    return table(schemaJson(names.map((n) => requireDatabase(n, ctx)), undefined));
  }
  if ((m = new RegExp(String.raw`^\.show database(?: ${NAME})? (cslschema|schema)( details)?(?: if_later_than ["']([^"']+)["'])?( as json)?(?: with ?\(.*\))?$`, 'i').exec(cmd))) {
    const db = requireDatabase(nameAt(m, 1) || ctx.database, ctx);
    const since = m[8] ? parseSchemaVersion(m[8]) : undefined;
    if (m[8] && !since) throw new KqlError('request', 'General_BadRequest', `Request is invalid and cannot be processed: invalid version '${m[8]}' in if_later_than (expected "vMAJOR.MINOR")`);
    if (m[6]?.toLowerCase() === 'cslschema') return table(databaseCslSchema(db));
    return table(m[9] ? schemaJson([db], since) : databaseSchemaRows(db, since));
  }
  if ((m = /^\.show tables(?: ?\((.+)\))?( details)?$/i.exec(cmd))) {
    const db = requireDatabase(ctx.database, ctx);
    const names = m[1]?.split(',').map((n) => n.trim().replace(/^\[?['"]?|['"]?\]?$/g, ''));
    const tables = [...db.tables.values()].filter((t) => !names || names.includes(t.name));
    return table(m[2] ? tablesDetails(db, tables) : showTables(db, tables));
  }
  if ((m = new RegExp(String.raw`^\.show table ${NAME} (cslschema|schema as json|details)$`, 'i').exec(cmd))) {
    const db = requireDatabase(ctx.database, ctx);
    const t = requireTable(db, nameAt(m, 1));
    const what = (m[6] as string).toLowerCase();
    return table(what === 'details' ? tablesDetails(db, [t]) : tableSchema(db, t, what === 'cslschema'));
  }
  if (/^\.show functions$/i.test(cmd) || new RegExp(String.raw`^\.show function ${NAME}$`, 'i').test(cmd)) {
    requireDatabase(ctx.database, ctx);
    return table(relation([['Name', 'string'], ['Parameters', 'string'], ['Body', 'string'], ['Folder', 'string'], ['DocString', 'string']], []));
  }
  if (/^\.show version$/i.test(cmd)) {
    return table(relation([['BuildVersion', 'string'], ['BuildTime', 'datetime'], ['ServiceType', 'string'], ['ProductVersion', 'string']],
      [['1.0.9999.0', Date.UTC(2024, 0, 1), 'Engine', 'KustoEmulator_1.0']]));
  }
  if (/^\.show queries$/i.test(cmd)) {
    return table(relation([['ClientActivityId', 'string'], ['Text', 'string'], ['Database', 'string'], ['StartedOn', 'datetime'],
      ['State', 'string'], ['User', 'string'], ['Application', 'string'], ['FailureReason', 'string']], ctx.recentQueries()));
  }
  if ((m = /^\.cancel query (['"])(.+?)\1(?: with ?\( ?reason ?= ?(['"])(.*?)\3 ?\))?$/i.exec(cmd))) {
    return { kind: 'cancel', clientRequestId: m[2] as string, reason: m[4] ?? 'Cancelled by user' };
  }
  throw unsupported(`command ${cmd.split(' ').slice(0, 3).join(' ')}`);
}

function table(r: Relation): CommandOutcome {
  return { kind: 'table', relation: r };
}

function relation(columns: Array<[string, KqlType]>, rows: Row[]): Relation {
  return { columns: columns.map(([name, type]): ColumnSchema => ({ name, type })), rows };
}

function requireDatabase(name: string, ctx: CommandContext): CatalogDatabase {
  if (!name) throw new KqlError('request', 'General_BadRequest', 'Request is invalid and cannot be processed: this command needs a database (set "db" in the request)');
  const db = ctx.catalog.database(name);
  if (!db) throw new KqlError('semantic', 'SEM0100', `Semantic error: Database '${name}' was not found (entity not found).`);
  ctx.requireAccess(db.name);
  return db;
}

function requireTable(db: CatalogDatabase, name: string): CatalogTable {
  const t = db.tables.get(name);
  if (!t) throw new KqlError('semantic', 'SEM0100', `Semantic error: Table '${name}' was not found in database '${db.name}' (entity not found).`);
  return t;
}

/** Stable fake GUID derived from a name, so ids do not change between runs. */
function stableGuid(name: string): string {
  let h = 2166136261;
  let hex = '';
  for (let round = 0; hex.length < 32; round++) {
    for (const c of `${name}#${round}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function showDatabases(ctx: CommandContext): Relation {
  const rows = ctx.catalog.allDatabases().filter((db) => ctx.canSee(db.name)).map((db): Row => [
    db.name, `https://${ctx.clusterName}.blob.localhost/${db.name.toLowerCase()};impersonate`, db.versionText,
    db.name.toLowerCase() === ctx.database.toLowerCase(), 'ReadWrite', db.prettyName, false, stableGuid(db.name), '',
  ]);
  return relation([['DatabaseName', 'string'], ['PersistentStorage', 'string'], ['Version', 'string'], ['IsCurrent', 'bool'],
    ['DatabaseAccessMode', 'string'], ['PrettyName', 'string'], ['ReservedSlot1', 'bool'], ['DatabaseId', 'guid'], ['InTransitionTo', 'string']], rows);
}

function showTables(db: CatalogDatabase, tables: CatalogTable[]): Relation {
  return relation([['TableName', 'string'], ['DatabaseName', 'string'], ['Folder', 'string'], ['DocString', 'string']],
    tables.map((t) => [t.name, db.name, t.folder, t.docString]));
}

function cslSchema(columns: ColumnSchema[]): string {
  return columns.map((c) => `${/^[A-Za-z_][\w]*$/.test(c.name) ? c.name : `['${c.name}']`}:${c.type}`).join(',');
}

function orderedColumns(t: CatalogTable): unknown[] {
  return t.columns.map((c) => ({ Name: c.name, Type: DOTNET_TYPE[c.type], CslType: c.type, ...(c.docString ? { DocString: c.docString } : {}) }));
}

function tableSchema(db: CatalogDatabase, t: CatalogTable, csl: boolean): Relation {
  const schema = csl ? cslSchema(t.columns) : JSON.stringify({ Name: t.name, OrderedColumns: orderedColumns(t) });
  return relation([['TableName', 'string'], ['Schema', 'string'], ['DatabaseName', 'string'], ['Folder', 'string'], ['DocString', 'string']],
    [[t.name, schema, db.name, t.folder, t.docString]]);
}

function databaseCslSchema(db: CatalogDatabase): Relation {
  return relation([['TableName', 'string'], ['Schema', 'string'], ['DatabaseName', 'string'], ['Folder', 'string'], ['DocString', 'string']],
    [...db.tables.values()].map((t) => [t.name, cslSchema(t.columns), db.name, t.folder, t.docString]));
}

/** `.show database DB schema`: a database row carrying the version, then a row per table and per column. */
function databaseSchemaRows(db: CatalogDatabase, since: ReturnType<typeof parseSchemaVersion>): Relation {
  const columns: Array<[string, KqlType]> = [['DatabaseName', 'string'], ['TableName', 'string'], ['ColumnName', 'string'], ['ColumnType', 'string'],
    ['IsDefaultTable', 'bool'], ['IsDefaultColumn', 'bool'], ['PrettyName', 'string'], ['Version', 'string'], ['Folder', 'string'], ['DocString', 'string']];
  if (since && !isLaterThan(db.version, since)) return relation(columns, []);
  const rows: Row[] = [[db.name, '', '', '', false, false, db.prettyName, db.versionText, '', '']];
  for (const t of db.tables.values()) {
    rows.push([db.name, t.name, '', '', false, false, '', '', t.folder, t.docString]);
    for (const c of t.columns) rows.push([db.name, t.name, c.name, DOTNET_TYPE[c.type], false, false, '', '', '', c.docString ?? '']);
  }
  return relation(columns, rows);
}

/** `… schema as json`: one `DatabaseSchema` cell; no rows when nothing changed since `if_later_than`. */
function schemaJson(dbs: CatalogDatabase[], since: ReturnType<typeof parseSchemaVersion>): Relation {
  const changed = dbs.filter((db) => !since || isLaterThan(db.version, since));
  if (changed.length === 0) return relation([['DatabaseSchema', 'string']], []);
  const databases: Record<string, unknown> = {};
  for (const db of changed) {
    const tables: Record<string, unknown> = {};
    for (const t of db.tables.values()) {
      tables[t.name] = { Name: t.name, EntityType: 'Table', OrderedColumns: orderedColumns(t), Folder: t.folder || null, DocString: t.docString || null };
    }
    databases[db.name] = {
      Name: db.name, Tables: tables, ExternalTables: {}, MaterializedViews: {}, Functions: {}, EntityGroups: {},
      MajorVersion: db.version.major, MinorVersion: db.version.minor, PrettyName: db.prettyName || null, DatabaseAccessMode: 'ReadWrite',
    };
  }
  return relation([['DatabaseSchema', 'string']], [[JSON.stringify({ Databases: databases })]]);
}

const POLICY_NULL: KqlValue = null;

function tablesDetails(db: CatalogDatabase, tables: CatalogTable[]): Relation {
  const columns: Array<[string, KqlType]> = [['TableName', 'string'], ['DatabaseName', 'string'], ['Folder', 'string'], ['DocString', 'string'],
    ['TotalExtents', 'long'], ['TotalExtentSize', 'real'], ['TotalOriginalSize', 'real'], ['TotalRowCount', 'long'], ['HotExtents', 'long'],
    ['HotExtentSize', 'real'], ['HotOriginalSize', 'real'], ['HotRowCount', 'long'], ['AuthorizedPrincipals', 'string'],
    ['RetentionPolicy', 'string'], ['CachingPolicy', 'string'], ['ShardingPolicy', 'string'], ['MergePolicy', 'string'],
    ['StreamingIngestionPolicy', 'string'], ['IngestionBatchingPolicy', 'string'], ['MinExtentsCreationTime', 'datetime'],
    ['MaxExtentsCreationTime', 'datetime'], ['RowOrderPolicy', 'string'], ['TableId', 'string']];
  const rows = tables.map((t): Row => {
    const count = t.rows().length;
    const extents = Math.max(1, Math.ceil(count / 100_000));
    const original = count * t.columns.length * 16;
    const size = Math.round(original / 6);
    return [t.name, db.name, t.folder, t.docString, extents, size, original, count, extents, size, original, count, '[]',
      POLICY_NULL, JSON.stringify({ DataHotSpan: '31.00:00:00' }), POLICY_NULL, POLICY_NULL, POLICY_NULL, POLICY_NULL,
      Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2), POLICY_NULL, stableGuid(`${db.name}.${t.name}`)];
  });
  // Policies are strings that are null when unset; strings cannot be null in KQL, so they go out empty.
  return relation(columns, rows.map((row) => row.map((v, i) => (v === null && columns[i]?.[1] === 'string' ? '' : v))));
}

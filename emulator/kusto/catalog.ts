/**
 * The emulated cluster's databases and tables, with a schema version per
 * database so `.show database … schema if_later_than "vX.Y"` can tell a
 * client whether its cached schema is stale. Tests change the schema with
 * `addTable` / `addColumn`, which bump the minor version.
 */
import type { EngineCatalog, EngineTable } from './kql-engine.ts';
import type { ColumnSchema, KqlType, KqlValue, Row } from './kql-types.ts';

export interface ColumnDefinition extends ColumnSchema {
  docString?: string;
}

export interface TableDefinition {
  name: string;
  folder?: string;
  docString?: string;
  columns: ColumnDefinition[];
  /** Rows, or a generator called on first use (the 100k-row table is built lazily). */
  rows: Row[] | (() => Row[]);
}

export interface DatabaseDefinition {
  name: string;
  prettyName?: string;
  tables: TableDefinition[];
}

export interface SchemaVersion {
  major: number;
  minor: number;
}

export class CatalogTable implements EngineTable {
  readonly name: string;
  folder: string;
  docString: string;
  columns: ColumnDefinition[];
  private source: Row[] | (() => Row[]);
  private cached: Row[] | undefined;

  constructor(def: TableDefinition) {
    this.name = def.name;
    this.folder = def.folder ?? '';
    this.docString = def.docString ?? '';
    this.columns = def.columns.map((c) => ({ ...c }));
    this.source = def.rows;
    this.cached = Array.isArray(def.rows) ? def.rows : undefined;
  }

  rows(): Row[] {
    if (!this.cached) this.cached = (this.source as () => Row[])();
    return this.cached;
  }

  addColumn(column: ColumnDefinition, fill: KqlValue): void {
    const rows = this.rows();
    this.columns = [...this.columns, { ...column }];
    // New arrays: results already handed out keep their shape.
    this.cached = rows.map((row) => [...row, fill]);
    this.source = this.cached;
  }
}

export class CatalogDatabase {
  readonly name: string;
  readonly prettyName: string;
  readonly tables = new Map<string, CatalogTable>();
  version: SchemaVersion = { major: 1, minor: 0 };

  constructor(def: DatabaseDefinition) {
    this.name = def.name;
    this.prettyName = def.prettyName ?? '';
    for (const t of def.tables) this.tables.set(t.name, new CatalogTable(t));
  }

  get versionText(): string {
    return `v${this.version.major}.${this.version.minor}`;
  }

  bumpVersion(): void {
    this.version = { major: this.version.major, minor: this.version.minor + 1 };
  }
}

/** Parses `v12.3`; undefined when malformed. */
export function parseSchemaVersion(text: string): SchemaVersion | undefined {
  const m = /^v?(\d+)\.(\d+)$/i.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function isLaterThan(a: SchemaVersion, b: SchemaVersion): boolean {
  return a.major > b.major || (a.major === b.major && a.minor > b.minor);
}

export class KustoCatalog {
  private readonly databases = new Map<string, CatalogDatabase>();

  constructor(definitions: DatabaseDefinition[]) {
    for (const d of definitions) this.databases.set(d.name, new CatalogDatabase(d));
  }

  /** Database names are case-insensitive in Kusto. */
  database(name: string): CatalogDatabase | undefined {
    const exact = this.databases.get(name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    for (const db of this.databases.values()) if (db.name.toLowerCase() === lower) return db;
    return undefined;
  }

  allDatabases(): CatalogDatabase[] {
    return [...this.databases.values()];
  }

  /** The engine's view: tables of `defaultDatabase`, or of the database a query names. */
  forDatabase(defaultDatabase: string, canRead: (database: string) => void): EngineCatalog {
    return {
      table: (name, database) => {
        const db = this.database(database ?? defaultDatabase);
        if (!db) return undefined;
        if (database !== undefined) canRead(db.name);
        return db.tables.get(name);
      },
    };
  }

  addDatabase(def: DatabaseDefinition): CatalogDatabase {
    const db = new CatalogDatabase(def);
    this.databases.set(def.name, db);
    return db;
  }

  addTable(database: string, def: TableDefinition): CatalogTable {
    const db = this.requireDatabase(database);
    if (db.tables.has(def.name)) throw new Error(`Table '${def.name}' already exists in database '${db.name}'`);
    const table = new CatalogTable(def);
    db.tables.set(def.name, table);
    db.bumpVersion();
    return table;
  }

  /** Adds a column to every row (null, or '' for strings, unless `fill` is given) and bumps the version. */
  addColumn(database: string, tableName: string, column: ColumnDefinition, fill?: KqlValue): void {
    const db = this.requireDatabase(database);
    const table = db.tables.get(tableName);
    if (!table) throw new Error(`Table '${tableName}' not found in database '${db.name}'`);
    if (table.columns.some((c) => c.name === column.name)) throw new Error(`Column '${column.name}' already exists in '${tableName}'`);
    table.addColumn(column, fill ?? defaultFill(column.type));
    db.bumpVersion();
  }

  dropTable(database: string, tableName: string): void {
    const db = this.requireDatabase(database);
    if (db.tables.delete(tableName)) db.bumpVersion();
  }

  private requireDatabase(name: string): CatalogDatabase {
    const db = this.database(name);
    if (!db) throw new Error(`Database '${name}' not found`);
    return db;
  }
}

function defaultFill(type: KqlType): KqlValue {
  return type === 'string' ? '' : null;
}

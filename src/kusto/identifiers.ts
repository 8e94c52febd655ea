/**
 * The one place where names from tool arguments enter KQL or management
 * command text. Every entity name is validated and then always bracket-quoted
 * (`['name']`), so no argument can end the name and start new syntax.
 */

/** Kusto entity names: letters, digits, underscore, space, dot and dash; up to 1024 characters. */
const ENTITY_NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_ .-]{0,1023}$/u;

export class InvalidIdentifierError extends Error {
  constructor(kind: string, value: string) {
    super(
      `Invalid ${kind} name ${JSON.stringify(value.slice(0, 100))}: names contain only letters, digits, "_", " ", "." and "-". ` +
        `Use kusto_list_databases or kusto_list_tables to get exact names.`,
    );
    this.name = 'InvalidIdentifierError';
  }
}

export function validateEntityName(kind: 'database' | 'table' | 'column', value: string): string {
  if (!ENTITY_NAME.test(value) || value !== value.trimEnd()) throw new InvalidIdentifierError(kind, value);
  return value;
}

/** `['name']` with `\` and `'` escaped: safe in queries and commands alike. */
export function bracketName(kind: 'database' | 'table' | 'column', value: string): string {
  validateEntityName(kind, value);
  return `['${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/** Schema versions as `.show database … schema` reports them, e.g. `v12.3`. */
export function schemaVersionLiteral(version: string): string {
  if (!/^v\d{1,9}\.\d{1,9}$/.test(version)) throw new Error(`Unexpected schema version ${JSON.stringify(version)}`);
  return `"${version}"`;
}

/** A client request id in `.cancel query "<id>"`: only the characters our own ids use. */
export function requestIdLiteral(id: string): string {
  if (!/^[\w.;:-]{1,200}$/.test(id)) throw new Error('Unexpected client request id');
  return `"${id}"`;
}

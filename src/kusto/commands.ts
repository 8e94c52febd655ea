import { bracketName, requestIdLiteral, schemaVersionLiteral } from './identifiers.ts';

/**
 * The only management commands this server sends, built here and nowhere
 * else. A `ManagementCommand` cannot be made outside this module (its
 * brand is not exported), so the gateway's command endpoint can only ever
 * receive one of these; names in them pass through identifiers.ts.
 */

declare const built: unique symbol;

export interface ManagementCommand {
  readonly text: string;
  readonly [built]: true;
}

const command = (text: string) => ({ text }) as ManagementCommand;

/** `.show databases`: the databases the caller can see. */
export const showDatabases = (): ManagementCommand => command('.show databases');

/** `.show database ['X'] schema [if_later_than "vM.N"] as json`: empty when unchanged since that version. */
export function showDatabaseSchema(database: string, ifLaterThan?: string): ManagementCommand {
  const condition = ifLaterThan ? ` if_later_than ${schemaVersionLiteral(ifLaterThan)}` : '';
  return command(`.show database ${bracketName('database', database)} schema${condition} as json`);
}

/** `.show tables details`: row counts and sizes (metadata only). */
export const showTablesDetails = (): ManagementCommand => command('.show tables details');

/** `.cancel query "<client request id>"`: best effort; any principal may cancel its own queries. */
export function cancelQuery(clientRequestId: string, reason: string): ManagementCommand {
  if (!/^[\w .,-]{1,100}$/.test(reason)) throw new Error('Unexpected cancel reason');
  return command(`.cancel query ${requestIdLiteral(clientRequestId)} with (reason = "${reason}")`);
}

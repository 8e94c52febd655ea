import type { KustoTable, QueryResult } from './frames.ts';
import type { KustoCommandRequest, KustoGateway, KustoQueryRequest } from './gateway.ts';

/**
 * A KustoGateway for unit tests: answers from a script and records every
 * request, so tool and cache logic can be tested without any I/O.
 * (Test support only; not imported by product code.)
 */
export interface ScriptedGateway extends KustoGateway {
  queries: KustoQueryRequest[];
  commands: KustoCommandRequest[];
}

export function scriptedGateway(script: {
  query?: (request: KustoQueryRequest) => QueryResult | Promise<QueryResult>;
  command?: (request: KustoCommandRequest) => KustoTable[] | Promise<KustoTable[]>;
}): ScriptedGateway {
  const queries: KustoQueryRequest[] = [];
  const commands: KustoCommandRequest[] = [];
  return {
    queries,
    commands,
    async query(request) {
      queries.push(request);
      if (!script.query) throw new Error(`unexpected query: ${request.text}`);
      return script.query(request);
    },
    async command(request) {
      commands.push(request);
      if (!script.command) throw new Error(`unexpected command: ${request.command.text}`);
      return script.command(request);
    },
  };
}

/** A primary result table. */
export function table(columns: Array<[string, string]>, rows: unknown[][], extra: Partial<KustoTable> = {}): KustoTable {
  return { name: 'PrimaryResult', kind: 'PrimaryResult', columns: columns.map(([name, type]) => ({ name, type })), rows, ...extra };
}

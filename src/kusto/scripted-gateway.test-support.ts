import type { DownstreamIdentity } from '../azure/downstream-identity.ts';
import type { KustoSettings } from '../toolsets/kusto/settings.ts';
import type { KustoTable, QueryResult } from './frames.ts';
import type { KustoCommandRequest, KustoGateway, KustoQueryRequest } from './gateway.ts';
import { createSchemaCache } from './schema-cache.ts';
import { kustoSession, type KustoServices } from './services.ts';

/** The app's identity in unit tests: a scripted gateway never asks it for a token. */
export const testAppIdentity: DownstreamIdentity = Object.freeze({
  mode: 'managedIdentity',
  partition: 'app',
  credential: { getToken: () => Promise.reject(new Error('no token in unit tests')) },
});

/** KustoServices over a scripted gateway, every session as `identity` (default: the app's). */
export function scriptedKustoServices(gateway: KustoGateway, settings: KustoSettings, newRequestId: (purpose: string) => string, identity: DownstreamIdentity = testAppIdentity): KustoServices {
  const schemas = createSchemaCache({ gateway, ttlMs: settings.schemaCacheTtlMs, newRequestId });
  return { settings, appName: 'app', newRequestId, session: () => kustoSession(gateway, schemas, identity) };
}

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

import { anonymousPrincipal, createPrincipal } from '../../auth/principal.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryResult } from '../../kusto/frames.ts';
import type { KustoQueryRequest } from '../../kusto/gateway.ts';
import { KustoRequestError } from '../../kusto/request-error.ts';
import { scriptedGateway, scriptedKustoServices, table, type ScriptedGateway } from '../../kusto/scripted-gateway.test-support.ts';
import type { ToolResult } from '../../tools/define-tool.ts';
import { requestDescription, type KustoTarget, type KustoToolContext } from './common.ts';
import { kustoQuery } from './query.ts';
import { runReadOnlyQuery } from './run-query.ts';

/** The query tool's budget arithmetic, counts and hints, against a scripted gateway (no I/O). */

const cluster = { name: 'help', url: 'https://help.kusto.windows.net', defaultDatabase: 'Samples' };
const settings = { clusters: [cluster], defaultCluster: 'help', maxRows: 1000, maxResultBytes: 2000, defaultTimeoutSeconds: 30, maxTimeoutSeconds: 60, schemaCacheTtlMs: 60_000 };

function setup(answer: (request: KustoQueryRequest) => QueryResult, commandRows: unknown[][] = []) {
  const gateway = scriptedGateway({ query: answer, command: () => [table([['DatabaseSchema', 'string']], commandRows)] });
  let n = 0;
  const newRequestId = (purpose: string) => `app.${purpose};${++n}`;
  const kusto = scriptedKustoServices(gateway, settings, newRequestId);
  const progress: string[] = [];
  const ctx = {
    caller: anonymousPrincipal('functionKey'),
    signal: new AbortController().signal,
    progress: (message: string) => progress.push(message),
    inputResponses: undefined,
    requestId: 'req-1',
    protocolVersion: '2025-11-25',
    services: kusto,
    server: { name: 's', version: '1', authMode: 'functionKey', readOnly: true, toolsets: ['kusto'], toolNames: [] },
  } as unknown as KustoToolContext;
  const target: KustoTarget = { kusto, cluster, database: 'Samples', target: `kusto:${cluster.url}/Samples` };
  return { gateway, ctx, target, progress };
}

const run = (target: KustoTarget, ctx: KustoToolContext, text: string, maxRows = 3) => runReadOnlyQuery(target, { tool: 'kusto_query', text, maxRows, timeoutSeconds: 30, includeStats: false }, ctx);
const textOf = (result: ToolResult) => (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');
const data = (result: ToolResult) => result.structuredContent as Record<string, any>;
const countResult = (n: number): QueryResult => ({ primary: [table([['Count', 'long']], [[n]])], partialErrors: [] });
const isCount = (request: KustoQueryRequest) => request.text.endsWith('| count');
const ids = (n: number) => Array.from({ length: n }, (_, i) => [i]);

test('the engine is asked for one row more than maxRows per result table, with a deadline and no confinement left to the tool', async () => {
  const { gateway, ctx, target, progress } = setup(() => ({ primary: [table([['x', 'long']], ids(2))], partialErrors: [] }));
  const result = await run(target, ctx, 'T | take 2', 3);
  const [query] = gateway.queries;
  assert.equal(query?.options?.truncationmaxrecords, 4);
  assert.equal(query?.options?.query_take_max_records, 4);
  assert.equal(query?.timeoutMs, 30_000);
  assert.equal(query?.signal, ctx.signal);
  assert.equal(data(result).truncated, false);
  assert.equal(data(result).totalRows, 2);
  assert.deepEqual(progress, ['query running on help/Samples (time limit 30 s)']);
  await run(target, ctx, 'let x = 1; T | take 2; print 1', 3);
  assert.equal(gateway.queries[1]?.options?.truncationmaxrecords, 8, 'two result statements, two budgets');
});

test('a row cut runs an exact count of that statement alone and says "showing N of M"', async () => {
  const { gateway, ctx, target, progress } = setup((request) => (isCount(request) ? countResult(3000) : { primary: [table([['x', 'long']], ids(4))], partialErrors: [] }));
  const result = await run(target, ctx, 'declare query_parameters(n:long);\nT | where x > n', 3);
  assert.equal(gateway.queries[1]?.text, 'declare query_parameters(n:long);\n(T | where x > n)\n| count');
  assert.equal(gateway.queries[1]?.timeoutMs, 10_000);
  assert.deepEqual([data(result).rowCount, data(result).totalRows, data(result).truncated], [3, 3000, true]);
  assert.equal(data(result).truncation, 'showing 3 of 3,000 rows (maxRows 3); add filters, summarize, or project fewer columns, or raise maxRows (at most 1000)');
  assert.equal(progress[1], 'the result was cut at 3 rows; counting the full result');
});

test('multi-statement queries return every result table, each with its own budget, truncation and count', async () => {
  // The 2-row first table and a count that would read another table's EventId were the "2 of 10,022".
  const { gateway, ctx, target } = setup((request) =>
    isCount(request)
      ? countResult(500)
      : { primary: [table([['EventId', 'int']], [[10022], [10023]]), table([['State', 'string']], [['A'], ['B'], ['C'], ['D']])], partialErrors: [] },
  );
  const result = await run(target, ctx, 'StormEvents | take 2 | project EventId;\nStormEvents | project State', 3);
  assert.equal(gateway.queries.length, 2, 'only the cut table is counted');
  assert.equal(gateway.queries[1]?.text, '(StormEvents | project State)\n| count', 'the count never includes the other result statement');
  assert.deepEqual([data(result).rowCount, data(result).totalRows, data(result).truncation], [2, 2, undefined]);
  assert.equal(data(result).truncated, true, 'some table was cut');
  const [second] = data(result).moreTables as Array<Record<string, unknown>>;
  assert.deepEqual([second?.rowCount, second?.totalRows, second?.truncated], [3, 500, true]);
  assert.match(textOf(result), /^cluster help · database Samples · 2 result tables\ntable 1 \(PrimaryResult\) · 2 rows\ncolumns: EventId:int\n10022\n10023\ntable 2 \(PrimaryResult\) · showing 3 of 500 rows/);
});

test('the count is unknown, not wrong, when it cannot be tied to one statement or does not come back as one Count', async () => {
  const forked = setup(() => ({ primary: [table([['x', 'long']], ids(4)), table([['x', 'long']], ids(1))], partialErrors: [] }));
  const result = await run(forked.target, forked.ctx, 'T | fork (take 10) (take 1)', 3);
  assert.equal(forked.gateway.queries.length, 1, 'no count for a statement with several tables');
  assert.match(String(data(result).truncation), /^showing 3 of more than 3 rows/);
  const odd = setup((request) => (isCount(request) ? { primary: [table([['EventId', 'int']], [[10022]])], partialErrors: [] } : { primary: [table([['x', 'long']], ids(4))], partialErrors: [] }));
  const oddResult = await run(odd.target, odd.ctx, 'T', 3);
  assert.equal(data(oddResult).totalRows, undefined, 'a count that is not a Count column is not believed');
});

test('truncation says why: rows and bytes together, the engine limit by code, long cells capped', async () => {
  const wide = 'w'.repeat(150);
  const both = setup((request) => (isCount(request) ? countResult(50) : { primary: [table([['Text', 'string']], Array.from({ length: 31 }, () => [wide]))], partialErrors: [] }));
  const bothResult = await run(both.target, both.ctx, 'T', 30);
  assert.equal(data(bothResult).rowCount, 13, '13 capped lines of 143 bytes fit 2,000 bytes');
  assert.match(String(data(bothResult).truncation), /^showing 13 of 50 rows \(maxRows 30 and the 2,000-byte result budget\); add filters, summarize, or project fewer or shorter columns/);

  const engine = setup((request) =>
    isCount(request)
      ? countResult(7)
      : { primary: [table([['x', 'long']], ids(2), { errors: [{ code: 'LimitsExceeded', message: 'Query execution has exceeded the allowed limits (80DA0003): .' }] })], partialErrors: [{ code: 'LimitsExceeded', message: 'Query execution has exceeded the allowed limits (80DA0003): .' }] },
  );
  const engineResult = await run(engine.target, engine.ctx, 'T', 3);
  assert.deepEqual([data(engineResult).truncated, data(engineResult).totalRows], [true, 7], 'an older, empty truncation message still counts');
  assert.equal(data(engineResult).partialErrors, undefined, 'truncation is told as truncation, not as an unknown failure');

  const huge = setup(() => ({ primary: [table([['Id', 'long'], ['Body', 'string']], [[1, 'x'.repeat(100_000)], [2, 'ok']])], partialErrors: [] }));
  const hugeResult = await run(huge.target, huge.ctx, 'T', 3);
  assert.equal(data(hugeResult).rowCount, 2, 'one huge cell does not hide the rows');
  assert.match(String(data(hugeResult).rows[0][1]), /^x{125}…\(99875 chars cut\)$/);
  assert.match(String(data(hugeResult).truncation), /^all 2 rows, but 1 value longer than 125 characters was shortened/);
});

test('other partial failures are shown once; an empty result still has its columns', async () => {
  const { ctx, target } = setup(() => ({ primary: [table([['x', 'long']], [])], partialErrors: [{ code: 'PartialQueryFailure', message: 'One shard was unavailable' }] }));
  const result = await run(target, ctx, 'T', 3);
  assert.match(textOf(result), /^cluster help · database Samples · 0 rows\npartial failure \(results may be incomplete\): One shard was unavailable\ncolumns: x:long$/);
  assert.deepEqual(data(result).partialErrors, ['One shard was unavailable']);
});

test('an unknown column that exists in another table says which table', async () => {
  const schema = JSON.stringify({ Databases: { Samples: { Name: 'Samples', MajorVersion: 1, MinorVersion: 0, Tables: { PopulationData: { Name: 'PopulationData', OrderedColumns: [{ Name: 'Population', CslType: 'long' }] }, StormEvents: { Name: 'StormEvents', OrderedColumns: [{ Name: 'State', CslType: 'string' }] } } } } });
  const { ctx, target, gateway } = setup(() => {
    throw new KustoRequestError(400, 'SEM0100', "Semantic error: SEM0100: 'project' operator: Failed to resolve scalar expression named 'Population'", 'app.kusto_query;1');
  }, [[schema]]);
  const result = await run(target, ctx, 'StormEvents | project Population', 3);
  assert.equal(result.audit?.errorClass, 'unknown_name');
  assert.match(textOf(result), /'Population' is a column of table PopulationData: query that table, or join it\./);
  assert.equal(gateway.commands.length, 1, 'the schema version was checked once');
});

test('kusto_query refuses commands, directives and set statements before calling the gateway', async () => {
  const { ctx, gateway } = setup(() => {
    throw new Error('must not be called');
  });
  for (const query of ['\u200B.drop table T', '// x\u2028.drop table T', '#connect x\n.drop table T', 'set request_callout_disabled=false;\nprint 1', 'set deferpartialqueryfailures=true; T']) {
    const result = (await kustoQuery.handler({ query, maxRows: 10, includeStats: false }, ctx)) as ToolResult;
    assert.equal(result.audit?.errorClass, 'query_refused', query);
  }
  assert.equal(gateway.queries.length, 0);
});

test('request_description carries our request id and, apart, the client trace id; caller text is escaped', () => {
  assert.equal(requestDescription('kusto_query', anonymousPrincipal('functionKey'), 'r1'), 'mcp tool=kusto_query caller=anonymous (functionKey) request=r1');
  assert.equal(
    requestDescription('kusto_query', createPrincipal({ authMode: 'easyAuth', name: 'ada\n\u001b[31m' }), 'r1', '4bf92f3577b34da6a3ce929d0e0e4736'),
    'mcp tool=kusto_query caller=ada\\n\\u001b[31m request=r1 trace=4bf92f3577b34da6a3ce929d0e0e4736',
  );
  assert.ok(requestDescription('kusto_query', createPrincipal({ authMode: 'easyAuth', name: 'x'.repeat(10_000) }), 'r1').length <= 500);
});

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { connectClient, startServerProcess, type ServerProcess } from '../support/server-process.ts';

/** The seven Kusto tools through the real server and the official MCP client, against the Kusto emulator. */
let emulator: Emulator;
let kusto: KustoService;
let server: ServerProcess;
let client: Client;

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  server = await startServerProcess({
    ...emulator.env(),
    KUSTO_CLUSTERS: `help=${emulator.origin('help.kusto.localhost')}/Samples,logs=${emulator.origin('logs.kusto.localhost')}`,
    KUSTO_MAX_ROWS: '500',
    KUSTO_MAX_TIMEOUT_SECONDS: '30',
  });
  client = await connectClient(server.mcpUrl);
});
beforeEach(() => kusto.reset());
after(async () => {
  await client?.close();
  await server?.stop();
  await emulator?.close();
});

interface Result {
  isError?: boolean;
  text: string;
  data: Record<string, unknown>;
}

async function call(name: string, args: Record<string, unknown>): Promise<Result> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text: string }>;
  return { isError: result.isError as boolean | undefined, text: content.map((c) => c.text).join('\n'), data: (result.structuredContent ?? {}) as Record<string, unknown> };
}

test('tools/list has the seven Kusto tools, all read-only', async () => {
  const { tools } = await client.listTools();
  const kustoTools = tools.filter((t) => t.name.startsWith('kusto_')).map((t) => t.name).sort();
  assert.deepEqual(kustoTools, ['kusto_list_clusters', 'kusto_list_databases', 'kusto_list_tables', 'kusto_query', 'kusto_sample', 'kusto_schema_context', 'kusto_table_schema']);
  assert.ok(tools.filter((t) => t.name.startsWith('kusto_')).every((t) => t.annotations?.readOnlyHint === true));
});

test('kusto_list_clusters lists the allow-list with defaults', async () => {
  const { data } = await call('kusto_list_clusters', {});
  assert.deepEqual(data.clusters, [
    { name: 'help', url: emulator.origin('help.kusto.localhost'), defaultDatabase: 'Samples', isDefault: true },
    { name: 'logs', url: emulator.origin('logs.kusto.localhost'), isDefault: false },
  ]);
});

test('discovery: databases, tables with row counts, schema with types and docstrings', async () => {
  const databases = await call('kusto_list_databases', { cluster: 'logs' });
  assert.deepEqual((databases.data.databases as Array<{ name: string }>).map((d) => d.name), ['AppTelemetry', 'Metrics', 'Samples']);
  const tables = await call('kusto_list_tables', { database: 'Samples' });
  const storm = (tables.data.tables as Array<Record<string, unknown>>).find((t) => t.name === 'StormEvents');
  assert.equal(storm?.rowCount, 3000);
  assert.match(String(storm?.docString), /storm events/i);
  const schema = await call('kusto_table_schema', { table: 'StormEvents' });
  const columns = schema.data.columns as Array<{ name: string; type: string; docString?: string }>;
  assert.deepEqual(columns.find((c) => c.name === 'DamageProperty'), { name: 'DamageProperty', type: 'long', docString: 'Estimated property damage in USD.' });
  assert.match(schema.text, /^StartTime:datetime — When the event began/m);
  // Management commands went to /v1/rest/mgmt and only the ones the server builds.
  assert.ok(kusto.commands.every((c) => /^\.show (databases|database \['Samples'\] schema( if_later_than "v\d+\.\d+")? as json|tables details)$/.test(c.csl)), kusto.commands.map((c) => c.csl).join('\n'));
  const unknown = await call('kusto_table_schema', { table: 'StormEvent' });
  assert.equal(unknown.isError, true);
  assert.match(unknown.text, /Did you mean: StormEvents/);
});

test('clusters outside the allow-list are refused and never contacted', async () => {
  for (const cluster of ['https://evil.kusto.localhost:1', 'https://attacker.example', 'prod']) {
    const result = await call('kusto_query', { query: 'print 1', cluster });
    assert.equal(result.isError, true);
    assert.match(result.text, /not in this server's allow-list\. Allowed clusters: help, logs/);
  }
  assert.equal(kusto.queries.length, 0);
});

test('management commands are refused before sending; valid let, comments and strings are accepted', async () => {
  const attacks = [
    '.drop table StormEvents',
    '// tidy up\n.set-or-append StormEvents <| print 1',
    'StormEvents | count; .drop table StormEvents',
    '\u200B.drop table StormEvents',
    '\u180E.drop table StormEvents',
    '// tidy up\r.set-or-append StormEvents <| print 1',
    '// tidy up\u2028.drop table StormEvents',
    '// tidy up\u2029.drop table StormEvents',
  ];
  for (const query of attacks) {
    const result = await call('kusto_query', { query });
    assert.equal(result.isError, true, JSON.stringify(query));
    assert.match(result.text, /starts a management command, and this server only runs read-only queries/);
  }
  const directive = await call('kusto_query', { query: '#connect cluster("help").database("Samples")\n.drop table StormEvents' });
  assert.match(directive.text, /is a client directive/);
  assert.equal(kusto.queries.length + kusto.commands.length, 0, 'nothing was sent');
  const ok = await call('kusto_query', {
    query: "// storms with '.drop' in a comment\nlet since = ago(30d);\nStormEvents\n| where StartTime > since and EventNarrative !has '.drop table'\n| summarize n = count()",
  });
  assert.equal(ok.isError, undefined, ok.text);
  assert.match(ok.text, /columns: n:long/);
});

test('every user query is read-only by request properties the query cannot override, and attributed', async () => {
  await call('kusto_query', { query: 'StormEvents | take 1' });
  const [query] = kusto.queries;
  assert.equal(query?.endpoint, 'v2-query');
  assert.equal(query?.options.request_readonly, true);
  assert.equal(query?.options.request_readonly_hardline, true);
  for (const confinement of ['request_remote_entities_disabled', 'request_external_data_disabled', 'request_callout_disabled', 'request_sandboxed_execution_disabled', 'request_impersonation_disabled']) {
    assert.equal(query?.options[confinement], true, confinement);
  }
  assert.equal(query?.options.deferpartialqueryfailures, false, 'truncation is never deferred out of the result');
  assert.equal(query?.options.request_app_name, 'azure-mcp-functions');
  assert.match(String(query?.options.request_description), /^mcp tool=kusto_query caller=anonymous \(none\) request=[0-9a-f]{32}$/);
  assert.match(query?.clientRequestId ?? '', /^azure-mcp-functions\.kusto_query;[0-9a-f-]{36}$/);
  assert.equal(query?.app, 'azure-mcp-functions');
  for (const statement of ['set notruncation', 'set request_callout_disabled=false', 'set request_remote_entities_disabled=false', 'set request_external_data_disabled=false', 'set deferpartialqueryfailures=true']) {
    const lifted = await call('kusto_query', { query: `${statement};\nStormEvents | take 1` });
    assert.equal(lifted.isError, true, statement);
    assert.match(lifted.text, new RegExp(`Refused: \`${statement}\` would change a request property this server sets`));
    assert.match(lifted.text, /Allowed set statements: query_now/);
  }
  assert.equal(kusto.queries.length, 1, 'no set statement was sent');
  const allowed = await call('kusto_query', { query: 'set query_now = datetime(2030-01-01);\nprint now()' });
  assert.match(allowed.text, /^2030-01-01T00:00:00Z$/m);
});

test('parameters are declared and sent as Parameters, never spliced into the text', async () => {
  const state = "TEXAS' or 1==1 //";
  const result = await call('kusto_query', {
    query: 'StormEvents | where State == state and StartTime > since | summarize n = count()',
    parameters: { state, since: '2000-01-01T00:00:00Z' },
  });
  assert.equal(result.isError, undefined, result.text);
  const [query] = kusto.queries;
  assert.match(query?.csl ?? '', /^declare query_parameters\(state:string, since:datetime\);\n/);
  assert.ok(!query?.csl.includes('TEXAS'), 'the value is not in the query text');
  assert.deepEqual(query?.parameters, { state, since: 'datetime(2000-01-01T00:00:00Z)' });
  assert.match(result.text, /^0$/m, 'the injection attempt matched nothing');
  const texas = await call('kusto_query', { query: 'StormEvents | where State == s | count', parameters: { s: 'TEXAS' } });
  assert.ok(Number((texas.data.rows as number[][])[0]?.[0]) > 0);
});

test('truncation is reported honestly with the full row count and a next step', async () => {
  const result = await call('kusto_query', { query: 'StormEvents | project StartTime, State, EventType', maxRows: 5 });
  assert.equal(result.isError, undefined, result.text);
  assert.equal(result.data.truncated, true);
  assert.equal(result.data.rowCount, 5);
  assert.equal(result.data.totalRows, 3000);
  assert.match(result.text, /showing 5 of 3,000 rows \(maxRows 5\); add filters, summarize, or project fewer columns, or raise maxRows \(at most 500\)/);
  assert.equal(result.text.split('\n').length, 2 + 5, 'summary, columns, 5 rows');
  const [query] = kusto.queries;
  assert.equal(query?.options.truncationmaxrecords, 6);
  const untruncated = await call('kusto_query', { query: 'PopulationData | take 3' });
  assert.equal(untruncated.data.truncated, false);
  assert.equal(untruncated.data.totalRows, 3);
});

test('includeStats returns execution statistics from the completion information', async () => {
  const result = await call('kusto_query', { query: 'StormEvents | summarize count() by EventType', includeStats: true });
  const stats = result.data.stats as Record<string, number>;
  assert.equal(typeof stats.executionTimeSeconds, 'number');
  assert.ok(stats.rowsScanned !== undefined);
  assert.match(result.text, /^stats: execution [\d.]+ s, cpu /m);
});

test('typed compact output: column types once, ISO datetimes, booleans, nulls, dynamic', async () => {
  const result = await call('kusto_query', { query: 'Requests | project Timestamp, Success, DurationMs, Duration | take 2', database: 'AppTelemetry' });
  assert.match(result.text, /^columns: Timestamp:datetime, Success:bool, DurationMs:real, Duration:timespan$/m);
  assert.match(result.text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z,(true|false),[\d.]+,/m);
});

test('kusto_sample returns a few typed rows', async () => {
  const result = await call('kusto_sample', { table: 'PopulationData', rows: 3 });
  assert.equal(result.data.rowCount, 3);
  assert.deepEqual(result.data.columns, [
    { name: 'State', type: 'string' },
    { name: 'Population', type: 'long' },
  ]);
  assert.equal(kusto.queries[0]?.csl, "['PopulationData']\n| take 3");
  const bad = await call('kusto_sample', { table: "x'] | .drop" });
  assert.equal(bad.isError, true);
});

test('kusto_schema_context ranks the relevant tables for a question', async () => {
  const result = await call('kusto_schema_context', { question: 'Which requests failed with result code 500 and how slow were they?', database: 'AppTelemetry', maxTables: 2 });
  const tables = result.data.tables as Array<{ name: string; columns: Array<{ name: string }> }>;
  assert.equal(tables[0]?.name, 'Requests');
  assert.ok(tables[0]?.columns.some((c) => c.name === 'ResultCode'));
});

test('errors are classified with the request id and a next step', async () => {
  const unknownTable = await call('kusto_query', { query: 'StormEvent | take 1' });
  assert.equal(unknownTable.isError, true);
  assert.match(unknownTable.text, /Did you mean: StormEvents/);
  assert.match(unknownTable.text, /Upstream request id: azure-mcp-functions\.kusto_query;/);
  const syntax = await call('kusto_query', { query: 'StormEvents | where (' });
  assert.match(syntax.text, /Next step: Fix the KQL syntax/);

  kusto.failNext('throttle', { retryAfterSeconds: 7 });
  const throttled = await call('kusto_query', { query: 'StormEvents | count' });
  assert.match(throttled.text, /throttled.*\n.*Wait 7 seconds/s);

  kusto.denyAccess({ database: 'Metrics' });
  const denied = await call('kusto_query', { query: 'Perf | take 1', database: 'Metrics' });
  assert.match(denied.text, /Access denied \(HTTP 403\)[\s\S]*Viewer role on database "Metrics"/);
});

test('a query over its time budget is cancelled on the cluster and reported as a timeout', async () => {
  kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
  const started = Date.now();
  const result = await call('kusto_query', { query: 'StormEvents | count', timeoutSeconds: 1 });
  const elapsed = Date.now() - started;
  assert.equal(result.isError, true);
  assert.match(result.text, /did not finish within 1 seconds and was cancelled on the cluster/);
  assert.ok(elapsed < 2500, `answered after ${elapsed} ms`);
  const [query] = kusto.queries;
  // Our own deadline comes first; the cluster's servertimeout is only a backstop behind it.
  assert.equal(query?.options.servertimeout, '00:00:03.000');
  for (let waited = 0; kusto.cancellations.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(kusto.cancellations.map((c) => [c.clientRequestId, c.wasRunning]), [[query?.clientRequestId, true]], 'a .cancel query was sent for the running query');
  assert.deepEqual(kusto.runningQueries(), []);
});

test('several statements return every result table, each with its own budget and an exact count', async () => {
  const result = await call('kusto_query', { query: 'StormEvents | take 2 | project EventId;\nStormEvents | project State', maxRows: 5 });
  assert.equal(result.isError, undefined, result.text);
  assert.match(result.text, /^cluster help · database Samples · 2 result tables\ntable 1 \(PrimaryResult\) · 2 rows\ncolumns: EventId:int\n\d+\n\d+\ntable 2 \(PrimaryResult\) · showing 5 of 3,000 rows \(maxRows 5\)/);
  assert.deepEqual([result.data.rowCount, result.data.totalRows, result.data.truncation], [2, 2, undefined]);
  const [second] = result.data.moreTables as Array<Record<string, unknown>>;
  assert.deepEqual([second?.rowCount, second?.totalRows, second?.truncated], [5, 3000, true]);
  assert.equal(kusto.queries[1]?.csl, '(StormEvents | project State)\n| count');
});

test('hints that help: the table that has the column, kusto_list_databases for a database, where * has, no-break spaces', async () => {
  const column = await call('kusto_query', { query: 'StormEvents | project Population' });
  assert.match(column.text, /'Population' is a column of table PopulationData/);
  const database = await call('kusto_query', { query: 'print 1', database: 'Sample' });
  assert.equal(database.isError, true);
  assert.match(database.text, /Database 'Sample' was not found\.[\s\S]*Next step: Call kusto_list_databases/);
  const tables = await call('kusto_list_tables', { database: 'Sample' });
  assert.match(tables.text, /Next step: Call kusto_list_databases/);
  const anyColumn = await call('kusto_query', { query: 'StormEvents | where * has "TEXAS" | count' });
  assert.equal(anyColumn.isError, undefined, anyColumn.text);
  const pasted = await call('kusto_query', { query: 'StormEvents\u00A0| take\u00A02' });
  assert.equal(pasted.data.rowCount, 2, pasted.text);
  const syntax = await call('kusto_query', { query: 'StormEvents | wher State == "TEXAS"' });
  assert.match(syntax.text, /\[line:position=1:14\].*\(line 1, position 14, at 'wher'\)\nNext step: Fix the KQL syntax/);
});

test('one huge cell does not hide the result: values are capped and the rows still show', async () => {
  const result = await call('kusto_query', { query: 'range i from 1 to 3 step 1 | extend Big = strrep("x", 100000)' });
  assert.equal(result.isError, undefined, result.text);
  assert.equal(result.data.rowCount, 3);
  assert.match(result.text, /^1,x{4096}…\(95904 chars cut\)$/m);
  assert.match(String(result.data.truncation), /3 values longer than 4,096 characters were shortened/);
});

test('a schema change is seen through the versioned cache', async () => {
  await call('kusto_table_schema', { table: 'PopulationData' });
  kusto.addTable('Samples', { name: 'Fresh', docString: 'Created after the cache was filled', columns: [{ name: 'Id', type: 'long' }], rows: [[1]] });
  const result = await call('kusto_table_schema', { table: 'Fresh' });
  assert.equal(result.isError, undefined, result.text);
  assert.ok(kusto.commands.some((c) => /if_later_than "v\d+\.\d+"/.test(c.csl)), 'refreshed by version, not refetched blindly');
});

test('the audit event carries cluster, database, query text, rows and truncation but no parameter values', async () => {
  await call('kusto_query', { query: 'StormEvents | where State != s | take 2', parameters: { s: 'VERMONT-SECRET-VALUE' }, maxRows: 1 });
  type Event = { name: string; properties: Record<string, string>; measurements: Record<string, number> };
  const events = () => emulator.appInsights.envelopes().map((e) => e.data?.baseData as Event);
  const find = () => events().find((e) => e.name === 'mcp.tool.call' && e.properties.queryText?.endsWith('State != s | take 2'));
  // Delivery is batched by the exporter: wait for it, bounded.
  for (let waited = 0; !find() && waited < 15_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
  const event = find();
  assert.ok(event, 'audit event delivered');
  assert.equal(event.properties.target, `kusto:${emulator.origin('help.kusto.localhost')}/Samples`);
  // Line breaks are escaped like every control character of client text (docs/audit.md).
  assert.match(event.properties.queryText ?? '', /declare query_parameters\(s:string\);\\nStormEvents \| where State != s \| take 2/);
  assert.equal(event.properties.truncated, 'true');
  assert.match(event.properties.upstreamRequestId ?? '', /^azure-mcp-functions\.kusto_query;/);
  assert.equal(typeof event.measurements.resultRows, 'number');
  assert.match(event.properties.arguments ?? '', /"parameters":"\[redacted sensitive len=\d+/);
  assert.ok(!JSON.stringify(events()).includes('VERMONT-SECRET-VALUE'));
});

test('longs beyond 2^53 arrive with every digit', async () => {
  const result = await call('kusto_query', { query: 'Heartbeat | summarize top = max(SequenceNumber)', database: 'Metrics' });
  const value = (result.data.rows as unknown[][])[0]?.[0];
  assert.equal(typeof value, 'string', 'kept as a string in structured content');
  assert.ok(BigInt(value as string) > BigInt(Number.MAX_SAFE_INTEGER));
  assert.match(result.text, new RegExp(`^${value}$`, 'm'));
  const heartbeat = kusto.catalog.database('Metrics')?.tables.get('Heartbeat');
  const column = heartbeat?.columns.findIndex((c) => c.name === 'SequenceNumber') ?? -1;
  const expected = heartbeat?.rows().reduce((max, row) => (BigInt(row[column] as bigint) > max ? BigInt(row[column] as bigint) : max), 0n);
  assert.equal(value, String(expected), 'exactly the value stored on the cluster');
});

test('when the MCP client goes away mid-query, the query is cancelled on the cluster', async () => {
  kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
  const controller = new AbortController();
  const pending = fetch(server.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'kusto_query', arguments: { query: 'StormEvents | count', timeoutSeconds: 30 } } }),
    signal: controller.signal,
  }).catch(() => undefined);
  for (let waited = 0; kusto.runningQueries().length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  const [running] = kusto.runningQueries();
  assert.ok(running, 'the query reached the cluster');
  controller.abort();
  await pending;
  for (let waited = 0; kusto.cancellations.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(kusto.cancellations[0]?.clientRequestId, running);
  assert.equal(kusto.cancellations[0]?.wasRunning, true);
  assert.deepEqual(kusto.runningQueries(), []);
  // Audited as the client going away: not a timeout (our deadline was 30 s away), not a cancel.
  type Event = { name: string; properties: Record<string, string> };
  const find = () => emulator.appInsights.envelopes().map((e) => e.data?.baseData as Event).find((e) => e?.name === 'mcp.tool.call' && e.properties.upstreamRequestId === running);
  for (let waited = 0; !find() && waited < 15_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(find()?.properties.errorClass, 'client_disconnected');
});

test('the byte budget cuts rows and says so', async () => {
  const result = await call('kusto_query', {
    query: "StormEvents | extend Text = strcat(EventNarrative, ' / ', EpisodeNarrative, ' / ', EventNarrative, ' / ', EpisodeNarrative) | project EventId, Text | take 500",
    maxRows: 500,
  });
  assert.equal(result.data.truncated, true);
  assert.ok((result.data.rowCount as number) < 500);
  assert.equal(result.data.totalRows, 500);
  assert.match(result.text, /the 65,536-byte result budget was reached/);
  assert.ok(Buffer.byteLength(result.text) < 65_536 + 1024);
});

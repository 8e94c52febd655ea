import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { createKustoService, PUBLIC_KUSTO_RESOURCE_ID, type KustoService } from './service.ts';
import { DEFAULT_NOW } from './sample-data.ts';
import type { EmulatorContext, TokenClaims } from '../types.ts';

const TOKEN = 'test-token';
const CLAIMS: TokenClaims = {
  aud: PUBLIC_KUSTO_RESOURCE_ID,
  iss: 'https://login.localhost/tenant/v2.0',
  sub: 'mi-principal',
  oid: 'mi-principal',
  tid: 'tenant',
  appid: 'mi-client',
  idtyp: 'app',
};

/** Accepts one fixed token and remembers the audiences the service asked for. */
function fakeContext(): EmulatorContext & { audiences: Array<string | string[]> } {
  const audiences: Array<string | string[]> = [];
  return {
    audiences,
    origin: (host) => `https://${host}:4443`,
    verifyBearer: async (req, aud) => {
      audiences.push(aud);
      return req.headers.get('authorization') === `Bearer ${TOKEN}` ? CLAIMS : null;
    },
  };
}

interface Frame {
  FrameType: string;
  TableKind?: string;
  TableName?: string;
  Columns?: Array<{ ColumnName: string; ColumnType: string }>;
  Rows?: unknown[];
  HasErrors?: boolean;
  Cancelled?: boolean;
  OneApiErrors?: Array<{ error: Record<string, unknown> }>;
}

let kusto: KustoService;
let ctx: ReturnType<typeof fakeContext>;

beforeEach(() => {
  kusto = createKustoService();
  ctx = fakeContext();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return kusto.handle(
    new Request(`https://samples.kusto.localhost${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(body),
    }),
    ctx,
  );
}

async function query(csl: string, options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<{ response: Response; frames: Frame[] }> {
  const response = await post('/v2/rest/query', { db: 'Samples', csl, properties: { Options: options, ...extra } });
  const text = await response.text();
  return { response, frames: response.status === 200 ? (JSON.parse(text) as Frame[]) : [JSON.parse(text) as Frame] };
}

async function command(csl: string, db = 'Samples', options: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const response = await post('/v1/rest/mgmt', { db, csl, properties: { Options: options } });
  return { status: response.status, body: await response.json() };
}

const primary = (frames: Frame[]) => frames.find((f) => f.TableKind === 'PrimaryResult') as Frame;
const completion = (frames: Frame[]) => frames.at(-1) as Frame;
const firstTable = (body: any) => body.Tables[0] as { Columns: Array<{ ColumnName: string; DataType: string; ColumnType: string }>; Rows: unknown[][] };

describe('authentication and metadata', () => {
  it('serves the auth metadata without a token, advertising the audience it accepts', async () => {
    const response = await kusto.handle(new Request('https://samples.kusto.localhost/v1/rest/auth/metadata'), ctx);
    const body = (await response.json()) as { AzureAD: Record<string, unknown> };
    assert.equal(response.status, 200);
    assert.equal(body.AzureAD.KustoServiceResourceId, PUBLIC_KUSTO_RESOURCE_ID);
    assert.equal(body.AzureAD.LoginEndpoint, 'https://login.localhost:4443');
  });

  it('answers 401 with a OneApi body without a valid token, and checks the advertised audience', async () => {
    const response = await post('/v2/rest/query', { db: 'Samples', csl: 'print 1' }, { authorization: 'Bearer wrong' });
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.equal(response.status, 401);
    assert.equal(body.error.code, 'Unauthorized');
    assert.deepEqual(ctx.audiences[0], [PUBLIC_KUSTO_RESOURCE_ID, 'https://samples.kusto.localhost', 'https://samples.kusto.localhost:4443']);
  });

  it('matches only <cluster>.kusto.localhost hosts', () => {
    assert.ok(kusto.matches('help.kusto.localhost'));
    assert.ok(!kusto.matches('kusto.localhost'));
    assert.ok(!kusto.matches('a.b.kusto.localhost'));
    assert.ok(!kusto.matches('vault.localhost'));
  });
});

describe('v2 query responses', () => {
  it('emits the frames in order and echoes the request ids', async () => {
    const response = await post('/v2/rest/query', { db: 'Samples', csl: 'StormEvents | take 3' }, { 'x-ms-client-request-id': 'MyApp.query;42' });
    const frames = (await response.json()) as Frame[];
    assert.deepEqual(frames.map((f) => f.TableKind ?? f.FrameType), ['DataSetHeader', 'QueryProperties', 'PrimaryResult', 'QueryCompletionInformation', 'DataSetCompletion']);
    assert.equal(response.headers.get('x-ms-client-request-id'), 'MyApp.query;42');
    assert.match(response.headers.get('x-ms-activity-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(frames[1]?.TableName, '@ExtendedProperties');
    assert.deepEqual(completion(frames), { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false });
  });

  it('reports resource consumption and input statistics in QueryCompletionInformation', async () => {
    const { frames } = await query('StormEvents | count');
    const info = frames.find((f) => f.TableKind === 'QueryCompletionInformation') as Frame;
    const rows = info.Rows as unknown[][];
    const consumption = rows.find((r) => r[10] === 'QueryResourceConsumption') as unknown[];
    const payload = JSON.parse(consumption[11] as string);
    assert.equal(typeof payload.ExecutionTime, 'number');
    assert.ok(payload.resource_usage.cpu['total cpu']);
    assert.ok(payload.resource_usage.memory.peak_per_node > 0);
    assert.deepEqual(payload.input_dataset_statistics.rows, { total: 3000, scanned: 3000 });
    assert.equal(payload.input_dataset_statistics.extents.total, 1);
    assert.deepEqual(JSON.parse((rows[0] as unknown[])[11] as string), { Count: 1, Text: 'Query completed successfully' });
  });

  it('encodes every scalar type the way Kusto does', async () => {
    // Datetimes are float milliseconds here, so a single tick (100 ns) is below their precision (see README).
    const response = await post('/v2/rest/query', {
      db: 'Metrics',
      csl: `print s = "x", l = 1, i = toint(2), r = 1.5, b = true, d = datetime(2024-01-01), f = datetime(2024-01-01T00:00:00.1250001Z),
        t = 1d + 1h + 1s, u = 1.5s, g = guid(0b1d9d3e-7a4c-4f06-9a42-1c7a2b2f0c11), y = dynamic({"a": [1, {"b": null}]}), n = long(null)`,
    });
    const frames = (await response.json()) as Frame[];
    const table = primary(frames);
    assert.deepEqual(table.Columns?.map((c) => c.ColumnType), ['string', 'long', 'int', 'real', 'bool', 'datetime', 'datetime', 'timespan', 'timespan', 'guid', 'dynamic', 'long']);
    assert.deepEqual(table.Rows?.[0], ['x', 1, 2, 1.5, true, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00.1250000Z', '1.01:00:01', '00:00:01.5000000',
      '0b1d9d3e-7a4c-4f06-9a42-1c7a2b2f0c11', { a: [1, { b: null }] }, null]);
  });

  it('writes longs beyond 2^53 as exact digits in the JSON text', async () => {
    const response = await post('/v2/rest/query', { db: 'Metrics', csl: 'Heartbeat | sort by SequenceNumber asc | take 1 | project SequenceNumber' });
    assert.match(await response.text(), /"Rows":\[\[9007199254740993\]\]/);
  });

  it('accepts properties as a JSON string and binds Parameters', async () => {
    const response = await post('/v2/rest/query', {
      db: 'Samples',
      csl: 'declare query_parameters(state:string, n:long = 100); StormEvents | where State == state | take n | count',
      properties: JSON.stringify({ Options: { request_readonly: true }, Parameters: { state: 'TEXAS', n: '2' } }),
    });
    const frames = (await response.json()) as Frame[];
    assert.deepEqual(primary(frames).Rows, [[2]]);
    assert.deepEqual(kusto.queries[0]?.parameters, { state: 'TEXAS', n: '2' });
    assert.equal(kusto.queries[0]?.options.request_readonly, true);
  });

  it('puts render hints into @ExtendedProperties', async () => {
    const { frames } = await query('StormEvents | summarize count() by State | render barchart with (title="By state")');
    const [, key, value] = frames[1]?.Rows?.[0] as [number, string, string];
    assert.equal(key, 'Visualization');
    assert.deepEqual([JSON.parse(value).Visualization, JSON.parse(value).Title], ['barchart', 'By state']);
  });

  it('honours query_now for now() and ago()', async () => {
    const { frames } = await query('print now(), ago(1d)', { query_now: '2030-01-02T00:00:00Z' });
    assert.deepEqual(primary(frames).Rows, [['2030-01-02T00:00:00Z', '2030-01-01T00:00:00Z']]);
    const fixed = await query('print now()');
    assert.deepEqual(primary(fixed.frames).Rows, [[new Date(DEFAULT_NOW).toISOString().replace('.000', '')]]);
  });

  it('records queries with database, options, parameters, request id and attribution headers', async () => {
    await post('/v2/rest/query', { db: 'Samples', csl: 'print 1', properties: { Options: { request_app_name: 'mcp', request_description: 'kusto_query' } } }, {
      'x-ms-client-request-id': 'mcp.kusto_query;1', 'x-ms-app': 'mcp-server', 'x-ms-user': '[none]', 'x-ms-client-version': 'Kusto.JavaScript.Client:{7.0.3}',
    });
    const [recorded] = kusto.queries;
    assert.equal(recorded?.database, 'Samples');
    assert.equal(recorded?.csl, 'print 1');
    assert.equal(recorded?.clientRequestId, 'mcp.kusto_query;1');
    assert.equal(recorded?.app, 'mcp-server');
    assert.equal(recorded?.user, '[none]');
    assert.equal(recorded?.clientVersion, 'Kusto.JavaScript.Client:{7.0.3}');
    assert.equal(recorded?.options.request_description, 'kusto_query');
    assert.equal(recorded?.principal, 'aadapp=mi-client;tenant');
    assert.equal(recorded?.status, 200);
    assert.equal(recorded?.outcome, 'ok');
    assert.equal(recorded?.rowCount, 1);
  });

  it('answers engine errors with the OneApi shape and SEM0100 for unknown tables', async () => {
    const { response, frames } = await query('Storms | take 1');
    const error = frames[0] as unknown as { error: Record<string, any> };
    assert.equal(response.status, 400);
    assert.equal(error.error.code, 'General_BadRequest');
    assert.equal(error.error.message, 'Request is invalid and cannot be executed.');
    assert.equal(error.error['@type'], 'Kusto.Data.Exceptions.KustoBadRequestException');
    assert.match(error.error['@message'], /^Request is invalid and cannot be processed: Semantic error: SEM0100: 'take' operator: Failed to resolve table or column expression named 'Storms'/);
    assert.equal(error.error['@permanent'], true);
    // The inner error as in the response-v2 docs: the specific code, type and message.
    assert.equal(error.error.innererror.code, 'SEM0100');
    assert.equal(error.error.innererror['@type'], 'Kusto.Data.Exceptions.SemanticException');
    assert.equal(error.error.innererror.message, "'take' operator: Failed to resolve table or column expression named 'Storms'");
    assert.equal(error.error.innererror['@errorCode'], 'SEM0100');
    assert.equal(error.error['@context'].clientRequestId, response.headers.get('x-ms-client-request-id'));
    assert.equal(kusto.queries[0]?.errorCode, 'SEM0100');
  });

  it('answers a management command on the v2 query endpoint with the service\'s plain-text 400, classified by the official parser', async () => {
    for (const csl of ['// list\n.show tables', '\u200B.drop table StormEvents', '// x\u2028.drop table StormEvents', '#connect cluster("x")\n.show tables']) {
      const response = await post('/v2/rest/query', { db: 'Samples', csl });
      const body = await response.text();
      assert.equal(response.status, 400, JSON.stringify(csl));
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(body, /^Bad request: Control commands \(starting with a dot '\.'\) do not support api_version=v2\nError details:\nClientRequestId='[^']+', ActivityId='[0-9a-f-]{36}', Timestamp='[^']+'\.$/);
    }
    assert.equal((await query('print 1; .drop table StormEvents')).response.status, 400, 'a command after a statement is a syntax error');
  });

  it('reports syntax errors where the official parser finds them, in the service\'s words and shape', async () => {
    const { response, frames } = await query('StormEvents | wher State == "TEXAS"');
    const error = (frames[0] as unknown as { error: Record<string, any> }).error;
    assert.equal(response.status, 400);
    assert.equal(error['@message'], 'Syntax error: Query could not be parsed: SYN0002: A recognition error occurred. [line:position=1:14]. Query: \'StormEvents | wher State == "TEXAS"\'');
    assert.deepEqual([error.innererror.code, error.innererror['@type'], error.innererror['@token'], error.innererror['@line'], error.innererror['@pos']], ['SYN0002', 'Kusto.Data.Exceptions.SyntaxException', 'wher', '1', '14']);
    assert.doesNotMatch(JSON.stringify(error), /expected/i, 'no friendlier details than the service sends');
  });

  it('accepts what Kusto accepts: where * has, no-break spaces, ~~~ strings, comments ended by CR', async () => {
    const countOf = async (csl: string) => ((primary((await query(csl)).frames).Rows as number[][])[0] as number[])[0] as number;
    const anyColumn = await countOf('StormEvents | where * has "TEXAS" | count');
    const stateColumn = await countOf('StormEvents | where State has "TEXAS" | count');
    assert.ok(stateColumn > 0 && anyColumn >= stateColumn, `${anyColumn} rows have TEXAS in some column, ${stateColumn} in State`);
    assert.deepEqual(primary((await query('StormEvents | where * !has "zzzz-none" | count')).frames).Rows, [[3000]]);
    assert.deepEqual(primary((await query('StormEvents\u00A0| take\u00A01 | count')).frames).Rows, [[1]]);
    assert.deepEqual(primary((await query('print s = ~~~a\nb~~~')).frames).Rows, [['a\nb']]);
    assert.deepEqual(primary((await query('// note\rprint 1')).frames).Rows, [[1]]);
  });

  it('answers an unknown database with the service\'s DatabaseNotFound error', async () => {
    const response = await post('/v2/rest/query', { db: 'Nope', csl: 'print 1' });
    const body = (await response.json()) as { error: Record<string, unknown> };
    assert.equal(response.status, 400);
    assert.deepEqual([body.error.code, body.error['@type'], body.error['@message']], ['BadRequest_DatabaseNotExist', 'Kusto.Data.Exceptions.DatabaseNotFoundException', "Database 'Nope' was not found."]);
    const command = await post('/v1/rest/mgmt', { db: 'Nope', csl: '.show tables' });
    assert.equal(((await command.json()) as { error: Record<string, unknown> }).error.code, 'BadRequest_DatabaseNotExist');
  });
});

describe('truncation', () => {
  const errorOf = (frames: Frame[]) => completion(frames).OneApiErrors?.[0]?.error;

  it('cuts at truncationmaxrecords with an inline partial failure', async () => {
    const { response, frames } = await query('StormEvents | project EventId', { truncationmaxrecords: 5 });
    const rows = primary(frames).Rows ?? [];
    assert.equal(response.status, 200);
    assert.equal(rows.length, 6);
    assert.deepEqual(Object.keys(rows[5] as object), ['OneApiErrors']);
    assert.equal(completion(frames).HasErrors, true);
    assert.equal(errorOf(frames)?.code, 'LimitsExceeded');
    assert.equal(String(errorOf(frames)?.['@message']), 'Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of 5 records, so not all records were returned (E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003). See https://aka.ms/kustoquerylimits for more information and possible solutions..');
    assert.equal(errorOf(frames)?.['@type'], 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException');
    assert.equal(kusto.queries[0]?.outcome, 'truncated');
  });

  it('uses the lowest of truncationmaxrecords and query_take_max_records', async () => {
    const { frames } = await query('StormEvents | project EventId', { truncationmaxrecords: 50, query_take_max_records: 3 });
    assert.equal(primary(frames).Rows?.length, 4);
    assert.match(String(errorOf(frames)?.['@message']), /exceed the set limit of 3 records/);
  });

  it('cuts at truncationmaxsize bytes of serialized rows', async () => {
    const { frames } = await query('StormEvents | project EventId', { truncationmaxsize: 40 });
    assert.equal(primary(frames).Rows?.length, 6); // 5 rows of `[1000x]` (7 bytes) + the error row
    assert.match(String(errorOf(frames)?.['@message']), /exceed the set limit of 40 bytes.*E_QUERY_RESULT_SET_TOO_LARGE, 0x80DA0003/);
  });

  it('applies the service default of 500,000 records unless notruncation is set', async () => {
    kusto = createKustoService({ defaultLimits: { maxRecords: 10 } });
    const limited = await query('StormEvents | project EventId');
    assert.match(String(errorOf(limited.frames)?.['@message']), /set limit of 10 records/);
    const unlimited = await query('StormEvents | project EventId', { notruncation: true });
    assert.equal(primary(unlimited.frames).Rows?.length, 3000);
    assert.equal(completion(unlimited.frames).HasErrors, false);
    const inText = await query('set notruncation; StormEvents | project EventId');
    assert.equal(primary(inText.frames).Rows?.length, 3000);
  });

  it('reports only in DataSetCompletion with results_error_reporting_placement=end_of_dataset', async () => {
    const { frames } = await query('StormEvents | project EventId', { truncationmaxrecords: 2, results_error_reporting_placement: 'end_of_dataset' });
    assert.equal(primary(frames).Rows?.length, 2);
    assert.equal(completion(frames).HasErrors, true);
  });

  it('with deferpartialqueryfailures, reports truncation only in QueryCompletionInformation, as the service does', async () => {
    for (const [csl, options] of [['StormEvents | project EventId', { truncationmaxrecords: 5, deferpartialqueryfailures: true }], ['set deferpartialqueryfailures=true; StormEvents | project EventId', { truncationmaxrecords: 5 }]] as const) {
      const { frames } = await query(csl, options);
      assert.equal(primary(frames).Rows?.length, 5, 'no error row');
      assert.deepEqual(completion(frames), { FrameType: 'DataSetCompletion', HasErrors: false, Cancelled: false });
      const info = (frames.find((f) => f.TableKind === 'QueryCompletionInformation')?.Rows ?? []) as unknown[][];
      const limits = info.find((row) => row[10] === 'QueryLimitsExceeded');
      assert.deepEqual([limits?.[5], limits?.[6], limits?.[7]], [2, 'Error', -2133196797], csl);
    }
  });

  it('can treat query_take_max_records as a silent cap', async () => {
    kusto = createKustoService({ takeMaxRecordsMode: 'silent' });
    const { frames } = await query('StormEvents | project EventId', { query_take_max_records: 3 });
    assert.equal(primary(frames).Rows?.length, 3);
    assert.equal(completion(frames).HasErrors, false);
  });
});

describe('timeouts, cancellation and faults', () => {
  it('answers 504 when a delayed query exceeds servertimeout', async () => {
    kusto.setQueryDelay(200, 1);
    const { response, frames } = await query('print 1', { servertimeout: '00:00:00.050' });
    assert.equal(response.status, 504);
    assert.match(String((frames[0] as any).error['@message']), /Query execution has exceeded the allowed limits .*Request timed out/);
    assert.equal(kusto.queries[0]?.outcome, 'timeout');
  });

  it('rejects a malformed servertimeout such as the SDK sends for a string value', async () => {
    const { response } = await query('print 1', { servertimeout: 'NaN:NaN:NaN.NaN' });
    assert.equal(response.status, 400);
  });

  it('cancels a running query with .cancel query and records it', async () => {
    kusto.setQueryDelay(Number.POSITIVE_INFINITY, 1);
    const running = post('/v2/rest/query', { db: 'Samples', csl: 'print 1' }, { 'x-ms-client-request-id': 'app.query;7' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(kusto.runningQueries(), ['app.query;7']);
    const { status, body } = await command('.cancel query "app.query;7" with (reason = "client timeout")');
    assert.equal(status, 200);
    assert.deepEqual(firstTable(body).Columns.map((c) => c.ColumnName), ['ClientRequestId', 'ReasonPhrase', 'RunningQueryCanceled']);
    assert.deepEqual(firstTable(body).Rows, [['app.query;7', 'client timeout', true]]);
    const frames = (await (await running).json()) as Frame[];
    assert.equal(completion(frames).Cancelled, true);
    assert.equal(completion(frames).HasErrors, true);
    assert.deepEqual(kusto.cancellations.map((c) => [c.clientRequestId, c.wasRunning]), [['app.query;7', true]]);
    assert.equal(kusto.queries[0]?.outcome, 'cancelled');
  });

  it('reports a cancel for an unknown query as not running', async () => {
    const { body } = await command('.cancel query "nope"');
    assert.equal(firstTable(body).Rows[0]?.[2], false);
  });

  it('throttles with 429, Retry-After and a TooManyRequests body', async () => {
    kusto.failNext('throttle', { count: 2, retryAfterSeconds: 3, endpoint: 'query' });
    for (let i = 0; i < 2; i++) {
      const { response, frames } = await query('print 1');
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), '3');
      assert.equal((frames[0] as any).error.code, 'TooManyRequests');
      assert.equal((frames[0] as any).error['@permanent'], false);
    }
    assert.equal((await command('.show tables')).status, 200);
    assert.equal((await query('print 1')).response.status, 200);
  });

  it('injects 401, 403, 504 and 500 with Kusto-shaped bodies', async () => {
    for (const [kind, status, code] of [['unauthorized', 401, 'Unauthorized'], ['forbidden', 403, 'Forbidden'], ['timeout', 504, 'RequestTimeout'], ['internal', 500, 'InternalServiceError']] as const) {
      kusto.failNext(kind);
      const { response, frames } = await query('print 1');
      assert.equal(response.status, status, kind);
      assert.equal((frames[0] as any).error.code, code);
    }
  });

  it('denies a database to a principal with 403 and hides it from .show databases', async () => {
    kusto.denyAccess({ principal: 'mi-client', database: 'samples' });
    const { response, frames } = await query('print 1');
    assert.equal(response.status, 403);
    assert.match(String((frames[0] as any).error['@message']), /Principal 'aadapp=mi-client;tenant' is not authorized to read database 'Samples'/);
    const crossDatabase = await post('/v2/rest/query', { db: 'Metrics', csl: 'database("Samples").StormEvents | count' });
    assert.equal(crossDatabase.status, 403);
    const { body } = await command('.show databases', '');
    assert.deepEqual(firstTable(body).Rows.map((r) => r[0]), ['AppTelemetry', 'Metrics']);
    kusto.clearDenials();
    assert.equal((await query('print 1')).response.status, 200);
  });
});

describe('management commands', () => {
  it('lists databases with the documented columns', async () => {
    const { status, body } = await command('.show databases', '');
    assert.equal(status, 200);
    assert.equal(body.Tables.length, 1);
    assert.deepEqual(firstTable(body).Columns.slice(0, 6).map((c) => c.ColumnName), ['DatabaseName', 'PersistentStorage', 'Version', 'IsCurrent', 'DatabaseAccessMode', 'PrettyName']);
    assert.deepEqual(firstTable(body).Columns[0], { ColumnName: 'DatabaseName', DataType: 'String', ColumnType: 'string' });
    assert.deepEqual(firstTable(body).Rows.map((r) => [r[0], r[2]]), [['Samples', 'v1.0'], ['AppTelemetry', 'v1.0'], ['Metrics', 'v1.0']]);
  });

  it('lists tables with folders and docstrings, and pipes command results into query operators', async () => {
    const { body } = await command('.show tables', 'AppTelemetry');
    assert.deepEqual(firstTable(body).Columns.map((c) => c.ColumnName), ['TableName', 'DatabaseName', 'Folder', 'DocString']);
    assert.deepEqual(firstTable(body).Rows.map((r) => [r[0], r[2]]), [['Requests', 'Telemetry'], ['Traces', 'Telemetry'], ['Exceptions', 'Telemetry']]);
    const piped = await command(".show tables | where TableName startswith 'Req' | project TableName", 'AppTelemetry');
    assert.deepEqual(firstTable(piped.body).Rows, [['Requests']]);
  });

  it('shows a table schema as CSL and as JSON', async () => {
    const csl = firstTable((await command('.show table PopulationData cslschema')).body);
    assert.deepEqual(csl.Columns.map((c) => c.ColumnName), ['TableName', 'Schema', 'DatabaseName', 'Folder', 'DocString']);
    assert.deepEqual(csl.Rows[0]?.slice(0, 4), ['PopulationData', 'State:string,Population:long', 'Samples', 'Reference']);
    const json = firstTable((await command('.show table StormEvents schema as json')).body);
    const schema = JSON.parse(json.Rows[0]?.[1] as string);
    assert.equal(schema.Name, 'StormEvents');
    assert.deepEqual(schema.OrderedColumns[0], { Name: 'StartTime', Type: 'System.DateTime', CslType: 'datetime', DocString: 'When the event began (UTC).' });
  });

  it('shows the database schema as JSON, and nothing when unchanged since if_later_than', async () => {
    const full = firstTable((await command('.show database Samples schema as json')).body);
    assert.deepEqual(full.Columns.map((c) => c.ColumnName), ['DatabaseSchema']);
    const db = JSON.parse(full.Rows[0]?.[0] as string).Databases.Samples;
    assert.deepEqual([db.Name, db.MajorVersion, db.MinorVersion], ['Samples', 1, 0]);
    assert.deepEqual(Object.keys(db.Tables), ['StormEvents', 'PopulationData']);
    assert.equal(db.Tables.StormEvents.Folder, 'Storm_Events');

    const unchanged = firstTable((await command('.show database Samples schema if_later_than "v1.0" as json')).body);
    assert.deepEqual(unchanged.Rows, []);

    kusto.addColumn('Samples', 'PopulationData', { name: 'Region', type: 'string', docString: 'Census region.' });
    assert.equal(kusto.schemaVersion('Samples'), 'v1.1');
    const changed = firstTable((await command('.show database Samples schema if_later_than "v1.0" as json')).body);
    const columns = JSON.parse(changed.Rows[0]?.[0] as string).Databases.Samples.Tables.PopulationData.OrderedColumns;
    assert.deepEqual(columns.map((c: { Name: string }) => c.Name), ['State', 'Population', 'Region']);
    assert.deepEqual(firstTable((await command('.show database Samples schema if_later_than "v1.1" as json')).body).Rows, []);
  });

  it('shows the database schema as rows with the version on the database row', async () => {
    const table = firstTable((await command('.show database Samples schema')).body);
    assert.deepEqual(table.Columns.slice(0, 8).map((c) => c.ColumnName), ['DatabaseName', 'TableName', 'ColumnName', 'ColumnType', 'IsDefaultTable', 'IsDefaultColumn', 'PrettyName', 'Version']);
    assert.deepEqual(table.Rows[0]?.slice(0, 8), ['Samples', '', '', '', false, false, '', 'v1.0']);
    assert.ok(table.Rows.some((r) => r[1] === 'StormEvents' && r[2] === 'State' && r[3] === 'System.String'));
  });

  it('reports row counts with .show tables details', async () => {
    kusto.addTable('Metrics', { name: 'Empty', folder: 'Tests', columns: [{ name: 'X', type: 'long' }], rows: [] });
    const table = firstTable((await command('.show tables details', 'Metrics')).body);
    const count = table.Columns.findIndex((c) => c.ColumnName === 'TotalRowCount');
    assert.equal(table.Columns[count]?.ColumnType, 'long');
    assert.deepEqual(table.Rows.map((r) => [r[0], r[count]]), [['Perf', 5000], ['Heartbeat', 3000], ['PerfHistory', 100000], ['Empty', 0]]);
    assert.equal(kusto.schemaVersion('Metrics'), 'v1.1');
  });

  it('refuses writes: 403 read-only with request_readonly, 400 otherwise, and records both', async () => {
    const readOnly = await command('.drop table StormEvents', 'Samples', { request_readonly: true });
    assert.equal(readOnly.status, 403);
    assert.match(readOnly.body.error['@message'], /Request is read-only/);
    const header = await post('/v1/rest/mgmt', { db: 'Samples', csl: '.set-or-append T <| print 1' }, { 'x-ms-readonly': 'true' });
    assert.equal(header.status, 403);
    const plain = await command('.ingest inline into table StormEvents <| x');
    assert.equal(plain.status, 400);
    assert.match(plain.body.error['@message'], /does not execute write commands \('\.ingest'\)/);
    assert.deepEqual(kusto.commands.map((c) => [c.csl.split(' ')[0], c.outcome]), [['.drop', 'refused'], ['.set-or-append', 'refused'], ['.ingest', 'refused']]);
  });

  it('rejects a query sent to the management endpoint and unknown commands', async () => {
    assert.equal((await command('StormEvents | take 1')).status, 400);
    const unknown = await command('.show cluster extents');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error['@message'], /The Kusto emulator does not support/);
  });
});

describe('v1 query endpoint', () => {
  it('returns primary results, extended properties, status and a table of contents', async () => {
    const response = await post('/v1/rest/query', { db: 'Samples', csl: 'StormEvents | take 2 | project EventId' });
    const body = (await response.json()) as { Tables: Array<{ TableName: string; Rows: unknown[][] }> };
    assert.deepEqual(body.Tables.map((t) => t.TableName), ['Table_0', 'Table_1', 'Table_2', 'Table_3']);
    assert.deepEqual(body.Tables[0]?.Rows, [[10000], [10001]]);
    assert.deepEqual(body.Tables[3]?.Rows.map((r) => r[1]), ['QueryResult', 'QueryProperties', 'QueryStatus']);
  });
});

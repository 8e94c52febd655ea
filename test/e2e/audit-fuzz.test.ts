import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { FIELD_CAPS, MAX_RECORD_BYTES } from '../../src/audit/auditor.ts';
import { MCP_HEADERS, startServerProcess } from '../support/server-process.ts';

/**
 * Audit inputs fuzzed through the real server process (stdout sink: audit
 * events are JSON lines on stdout): deep, wide and huge arguments, tool
 * names, JSON-RPC ids, user agents and headers full of control characters.
 * Counted, not sampled: every request's answer says whether it reached
 * tools/call (a JSON-RPC result) or was refused (HTTP 4xx), and its
 * `x-request-id` must match exactly one audit line of the right kind.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RANDOM_CASES = 160;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const FINGERPRINT_SECRET = 'audit-fingerprint-key';
const SECRET = `hunter2-${crypto.randomUUID()}`;

/** A line that would forge a record and repaint a terminal, were it written raw. */
const FORGED = `x\n{"time":"2026-01-01T00:00:00.000Z","event":"mcp.tool.call","tool":"kusto_query","outcome":"success"}\r\n\u001b[2K\u001b[32maudit ▸ mcp.tool.call kusto_query success\u001b[0m\u009b1A\u2028\u2029\u202e\u2066\u0085\u0000`;
/** Characters no line may carry raw, nor any value once parsed (their escapes are text). */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What a header may carry through fetch (undici refuses C0 controls and DEL): C1 controls, tab, Latin-1. */
const HEADER_TRICKS = '\t\u0085\u009b\u0090\u009d\u00ad\u00e9';

interface Case {
  label: string;
  body: string;
  headers: Record<string, string>;
}

const era2025 = { ...MCP_HEADERS, 'mcp-protocol-version': '2025-11-25', traceparent: TRACEPARENT };
const toolCall = (id: unknown, name: string, args: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const nest = (levels: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = wrap(value);
  return value;
};

/** Text from a pool of troublemakers: control characters, bidi, separators, lone surrogates, emoji, quotes. */
const nastyText = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.constantFrom('\n', '\r', '\t', '\u0000', '\u001b[31m', '\u007f', '\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u2066', '\ufeff', '\ud800', '\udfff', '😀', '"', '\\', 'password=', 'kusto_query'), fc.string({ maxLength: 8 })), { maxLength })
    .map((parts) => parts.join(''));
const headerText = fc.array(fc.oneof(fc.constantFrom(...HEADER_TRICKS), fc.stringMatching(/^[\x20-\x7e]{0,16}$/)), { maxLength: 40 }).map((parts) => parts.join('').trim() || 'x');

const randomCase: fc.Arbitrary<Case> = fc
  .record({
    name: fc.oneof(nastyText(60), fc.constantFrom('kusto_query', 'server_info_get', 'kusto_sample', FORGED)),
    id: fc.oneof(fc.integer(), nastyText(80), fc.nat({ max: 200_000 }).map((n) => `id-${FORGED}${'i'.repeat(n)}`)),
    args: fc.oneof(
      fc.record({ query: nastyText(40), parameters: fc.dictionary(nastyText(10), fc.oneof(nastyText(20), fc.integer()), { maxKeys: 5 }) }),
      fc.dictionary(nastyText(20), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 30 }),
      fc.nat({ max: 60 }).map((depth) => ({ query: 'print 1', parameters: nest(depth, 'TEXAS', (inner) => ({ a: inner })) })),
    ),
    userAgent: fc.oneof(headerText, fc.nat({ max: 12_000 }).map((n) => `ua${HEADER_TRICKS}${'u'.repeat(n)}`)),
  })
  .map(({ name, id, args, userAgent }) => ({ label: 'random', body: toolCall(id, name, args), headers: { ...era2025, 'user-agent': userAgent } }));

/** JSON text nested `depth` levels, written out (JSON.stringify itself overflows at such depths). */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}"TEXAS"${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/** A tools/call body whose `parameters` is the given JSON text. */
const withParameters = (id: number, parametersJson: string) => toolCall(id, 'kusto_query', { query: 'print 1', parameters: '@P@' }).replace('"@P@"', parametersJson);

/** The cases named in the issue, each at least once, beside the random ones. */
function namedCases(): Case[] {
  const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
  const cases: Case[] = [
    { label: 'forged tool name', body: toolCall(1, FORGED, {}), headers: era2025 },
    { label: 'huge forged tool name', body: toolCall(2, FORGED.repeat(2_000), {}), headers: era2025 },
    { label: 'huge jsonRpcId', body: toolCall(`${FORGED}${'i'.repeat(1_000_000)}`, 'server_info_get', {}), headers: era2025 },
    { label: 'huge user agent', body: toolCall(3, 'server_info_get', {}), headers: { ...era2025, 'user-agent': `${HEADER_TRICKS}${'u'.repeat(14_000)}` } },
    { label: 'deep parameters (5,000 levels, 10 KB)', body: withParameters(4, deepObject(5_000)), headers: era2025 },
    { label: 'deep parameters (arrays)', body: withParameters(5, deepArray(5_000)), headers: era2025 },
    { label: 'deep parameters at the limit', body: withParameters(6, deepObject(58)), headers: era2025 },
    { label: 'wide parameters (100,000 keys)', body: toolCall(7, 'kusto_query', { query: 'print 1', parameters: wide }), headers: era2025 },
    { label: 'wide arguments (100,000 keys)', body: toolCall(8, 'server_info_get', wide), headers: era2025 },
    { label: 'huge query (2 MB)', body: toolCall(9, 'kusto_query', { query: `print "${'q'.repeat(2_000_000)}"` }), headers: era2025 },
    { label: 'huge forged query', body: toolCall(10, 'kusto_query', { query: `${FORGED}${'q'.repeat(50_000)}` }), headers: era2025 },
    { label: 'huge key', body: toolCall(11, 'server_info_get', { [`${FORGED}${'k'.repeat(1_000_000)}`]: 1 }), headers: era2025 },
    // A query that runs, whose text holds a secret: queryText and arguments both redact it.
    { label: 'secret in a query that runs', body: toolCall(12, 'kusto_query', { query: `StormEvents | where EventType == "password=${SECRET}" | take 1` }), headers: era2025 },
    { label: 'secret in a parameter value', body: toolCall(13, 'kusto_query', { query: 'StormEvents | take 1', parameters: { note: `Bearer ${SECRET}${SECRET}` } }), headers: era2025 },
    { label: 'forged protocol version header', body: toolCall(14, 'server_info_get', {}), headers: { ...era2025, 'mcp-protocol-version': `2025-11-25${HEADER_TRICKS}${'v'.repeat(8_000)}` } },
    { label: 'forged origin', body: toolCall(15, 'server_info_get', {}), headers: { ...era2025, origin: `https://evil.example${HEADER_TRICKS}${'o'.repeat(8_000)}` } },
    { label: 'bad JSON with a huge user agent', body: `{${FORGED}`, headers: { ...era2025, 'user-agent': `${HEADER_TRICKS}${'u'.repeat(10_000)}` } },
    { label: 'modern era call', body: JSON.stringify({ jsonrpc: '2.0', id: 16, method: 'tools/call', params: { name: 'server_info_get', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: FORGED, version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } } }), headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'server_info_get', traceparent: TRACEPARENT } },
  ];
  return cases;
}

let emulator: Emulator;
before(async () => {
  const kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  emulator.keyVault.setSecret(FINGERPRINT_SECRET, `fp-${crypto.randomUUID()}`);
});
after(async () => {
  await emulator?.close();
});

interface Answer {
  label: string;
  status: number;
  requestId: string | null;
  /** The JSON-RPC answer had a `result`: the call reached tools/call. */
  reachedTool: boolean;
}

async function send(url: string, item: Case): Promise<Answer> {
  // A hang is a failure, not a stuck test.
  const response = await fetch(url, { method: 'POST', headers: item.headers, body: item.body, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let reachedTool = false;
  if (response.status === 200) {
    const message = JSON.parse(text) as { result?: unknown; error?: unknown };
    assert.ok(message.result !== undefined, `${item.label}: a 200 without a result is an unaudited answer: ${text.slice(0, 300)}`);
    reachedTool = true;
  }
  return { label: item.label, status: response.status, requestId: response.headers.get('x-request-id'), reachedTool };
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

for (const withKey of [false, true]) {
  test(`audit fuzz (${withKey ? 'events wait for the Key Vault fingerprint key' : 'no fingerprint key: events recorded at once'}): 0 5xx, one bounded, escaped line per call`, { timeout: 180_000 }, async () => {
    const cases = [...namedCases(), ...fc.sample(randomCase, { seed: SEED + (withKey ? 1 : 0), numRuns: RANDOM_CASES })];
    const { APPLICATIONINSIGHTS_CONNECTION_STRING: _stdoutSinkPlease, ...env } = emulator.env();
    const server = await startServerProcess({
      ...env,
      KUSTO_CLUSTERS: `help=${emulator.origin('help.kusto.localhost')}/Samples`,
      MCP_MAX_BODY_BYTES: String(8 * 1_048_576),
      ...(withKey && { AUDIT_FINGERPRINT_SECRET_NAME: FINGERPRINT_SECRET }),
    });
    let answers: Answer[];
    try {
      answers = await pool(cases, 4, (item) => send(server.mcpUrl, item));
    } finally {
      assert.equal(await server.stop(), 0, `the server exits cleanly:\n${server.stderr().slice(-2000)}`);
    }

    // 0 5xx, and every request reached our handler (it answers every one with our request id).
    assert.deepEqual(answers.filter((a) => a.status >= 500).map((a) => `${a.label}: ${a.status}`), []);
    assert.deepEqual(answers.filter((a) => !a.requestId).map((a) => `${a.label}: ${a.status}`), []);
    assert.ok(answers.every((a) => a.reachedTool || (a.status >= 400 && a.status < 500)), 'each answer is a tool result or a 4xx refusal');

    // Every stdout line is one valid JSON record, bounded, without raw control characters.
    const stdout = server.stdout();
    assert.ok(stdout.endsWith('\n'));
    const lines = stdout.slice(0, -1).split('\n');
    const records = lines.map((line, index) => {
      assert.ok(Buffer.byteLength(`${line}\n`) <= MAX_RECORD_BYTES, `line ${index}: ${Buffer.byteLength(line)} bytes`);
      assert.doesNotMatch(line, RAW_CONTROL, `line ${index} has a raw control character`);
      const record = JSON.parse(line) as Record<string, unknown>;
      for (const [field, value] of Object.entries(record)) {
        if (typeof value !== 'string') continue;
        assert.doesNotMatch(value, RAW_CONTROL, `line ${index} ${field}: control character once parsed`);
        assert.ok(value.length <= (FIELD_CAPS[field] ?? 256) || field === 'time' || field === 'event', `line ${index} ${field}: ${value.length} characters`);
      }
      return record;
    });
    assert.equal(lines.length, records.length);
    assert.ok(!stdout.includes(SECRET), 'the secret never reaches the audit');

    // Counted: exactly one line per call that reached tools/call, one per refusal, matched by request id.
    const toolLines = records.filter((r) => r.event === 'mcp.tool.call');
    const rejectedLines = records.filter((r) => r.event === 'mcp.request.rejected');
    assert.equal(toolLines.length + rejectedLines.length, records.length, 'no other lines on stdout');
    const reached = answers.filter((a) => a.reachedTool);
    const refused = answers.filter((a) => !a.reachedTool);
    assert.equal(toolLines.length, reached.length, 'one mcp.tool.call line per call that reached tools/call');
    assert.equal(rejectedLines.length, refused.length, 'one mcp.request.rejected line per refusal');
    assert.deepEqual(new Set(toolLines.map((r) => r.requestId)), new Set(reached.map((a) => a.requestId)));
    assert.deepEqual(new Set(rejectedLines.map((r) => r.requestId)), new Set(refused.map((a) => a.requestId)));

    // Our ids key the records: all unique, although every request sent the same traceparent.
    assert.equal(new Set(records.map((r) => r.requestId)).size, records.length, 'every requestId unique');
    assert.equal(new Set(records.map((r) => r.recordId)).size, records.length, 'every recordId unique');
    assert.ok(records.every((r) => r.traceId === TRACE_ID), 'the client trace id is kept, apart');

    // The named cases did what they are here for.
    const byLabel = (label: string) => {
      const answer = answers[cases.findIndex((c) => c.label === label)];
      return records.find((r) => r.requestId === answer?.requestId) as Record<string, string> | undefined;
    };
    assert.equal(byLabel('deep parameters (5,000 levels, 10 KB)')?.errorClass, 'too_deep');
    assert.match(byLabel('deep parameters at the limit')?.arguments ?? '', /"parameters":"\[redacted sensitive len=\d+/);
    assert.match(byLabel('wide parameters (100,000 keys)')?.arguments ?? '', /"parameters":"\[redacted sensitive len=/);
    assert.match(byLabel('wide arguments (100,000 keys)')?.arguments ?? '', /\[\+99950 keys\]/);
    assert.match(byLabel('forged tool name')?.tool ?? '', /^x\\n\{"time":"2026-01-01T00:00:00\.000Z","event":"mcp\.tool\.call".*…\[\+\d+ chars\]$/);
    // With room to show it all, the forged text is one line of visible escapes.
    assert.ok(
      byLabel('huge forged query')?.queryText?.startsWith(
        'x\\n{"time":"2026-01-01T00:00:00.000Z","event":"mcp.tool.call","tool":"kusto_query","outcome":"success"}\\r\\n\\u001b[2K\\u001b[32maudit ▸ mcp.tool.call kusto_query success\\u001b[0m\\u009b1A\\u2028\\u2029\\u202e\\u2066\\u0085\\u0000qqq',
      ),
    );
    assert.equal(byLabel('forged tool name')?.errorClass, 'unknown_tool');
    const secret = byLabel('secret in a query that runs');
    assert.equal(secret?.outcome, 'success', JSON.stringify(secret));
    assert.match(secret?.queryText ?? '', new RegExp(`^\\[redacted secret-like len=\\d+${withKey ? ' fp=[0-9a-f]{16}' : ''}\\]$`));
    assert.equal(secret?.queryText, JSON.parse(secret?.arguments ?? '{}').query, 'queryText and arguments redact alike');
    // (The leading tab is trimmed by HTTP itself.)
    assert.match(byLabel('huge user agent')?.userAgent ?? '', /^\\u0085\\u009b\\u0090\\u009d\\u00adéu+…\[\+\d+ chars\]$/);
    assert.equal(byLabel('forged origin')?.errorClass, 'origin_not_allowed');
    assert.ok(cases.length >= RANDOM_CASES + 18);
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrincipal } from '../auth/principal.ts';
import { createAuditor, FIELD_CAPS, MAX_RECORD_BYTES } from './auditor.ts';
import { memorySink } from '../../test/support/memory-sink.ts';

const call = {
  requestId: 'r1',
  tool: 't',
  outcome: 'success' as const,
  durationMs: 1.23456,
  jsonRpcId: 1,
  arguments: { secret: 'value' },
  sensitiveArguments: ['secret'],
  resultBytes: 10,
};

test('flush waits for events still waiting on the fingerprint key', async () => {
  const sink = memorySink();
  let release: (key: string) => void = () => {};
  const key = new Promise<string>((resolve) => (release = resolve));
  const auditor = createAuditor({ sink, fingerprintKey: () => key });
  auditor.toolCall(call);
  auditor.toolCall({ ...call, jsonRpcId: 2 });
  const flushed = auditor.flush();
  assert.equal(sink.events.length, 0);
  release('k');
  await flushed;
  assert.equal(sink.events.length, 2);
  assert.match(sink.events[0]?.properties.arguments ?? '', /fp=/);
  assert.equal(sink.events[0]?.measurements.durationMs, 1.235);
});

test('an unavailable fingerprint key does not lose the event', async () => {
  const sink = memorySink();
  const errors: string[] = [];
  const auditor = createAuditor({ sink, fingerprintKey: async () => Promise.reject(new Error('vault down')), onError: (m) => errors.push(m) });
  auditor.toolCall(call);
  await auditor.flush();
  assert.equal(sink.events.length, 1);
  assert.equal(JSON.parse(sink.events[0]?.properties.arguments ?? '{}').secret, '[redacted sensitive len=5]');
  assert.match(errors[0] ?? '', /fingerprint key unavailable \(vault down\)/);
});

test('empty properties are left out', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  auditor.rejected({ requestId: 'r', reason: 'parse_error', outcome: 'error', status: 400, httpMethod: 'POST', path: '/mcp' });
  await auditor.flush();
  assert.deepEqual(Object.keys(sink.events[0]?.properties ?? {}).sort(), ['errorClass', 'httpMethod', 'outcome', 'path', 'recordId', 'requestId', 'schemaVersion', 'statusCode']);
});

test('a flush deadline stops waiting for a hanging fingerprint key: events go out flagged, none lost', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink, fingerprintKey: () => new Promise<string>(() => {}) });
  for (let id = 1; id <= 3; id++) auditor.toolCall({ ...call, jsonRpcId: id });
  const started = Date.now();
  await auditor.flush(Date.now() + 200);
  assert.ok(Date.now() - started < 1_000, 'flush returned by its deadline');
  assert.equal(sink.events.length, 3);
  for (const event of sink.events) {
    assert.equal(event.properties.fingerprint, 'unavailable');
    assert.equal(JSON.parse(event.properties.arguments ?? '{}').secret, '[redacted sensitive len=5]');
  }
});

test('every record has its own id', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  for (let id = 1; id <= 50; id++) auditor.toolCall({ ...call, jsonRpcId: id });
  await auditor.flush();
  const ids = new Set(sink.events.map((event) => event.properties.recordId));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id ?? '', /^[0-9a-f-]{36}$/);
});

/** Raw characters that could forge lines or reorder text in a display; their escapes are fine. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;
const FORGED = '\n{"event":"mcp.tool.call","outcome":"success"}\r\u001b[32m✔ success\u001b[0m\u009b2K\u2028\u202e\u0000';
/** The stdout sink's line for an event (src/audit/stdout-sink.ts), newline included. */
const lineOf = (event: { name: string; time: string; properties: Record<string, string>; measurements: Record<string, number> }) =>
  `${JSON.stringify({ time: event.time, event: event.name, ...event.properties, ...event.measurements })}\n`;

test('every client field is escaped and capped, in tool calls and rejections', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  const huge = (prefix: string) => `${prefix}${FORGED}${'z'.repeat(1_000_000)}`;
  const caller = createPrincipal({ authMode: 'easyAuth', objectId: huge('oid'), tenantId: huge('tid'), name: huge('name'), appId: huge('app') });
  const request = { requestId: 'r1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', caller, userAgent: huge('ua'), protocolVersion: huge('pv') };
  auditor.toolCall({
    ...call,
    ...request,
    tool: huge('tool'),
    jsonRpcId: huge('id'),
    arguments: { [huge('k')]: huge('v') },
    details: { target: huge('kusto:'), upstreamRequestId: huge('up'), queryText: huge('T | '), errorClass: huge('class') },
  });
  auditor.rejected({ ...request, reason: huge('reason'), outcome: 'error', status: 400, httpMethod: huge('M'), path: huge('/mcp'), origin: huge('https://o') });
  await auditor.flush();
  assert.equal(sink.events.length, 2);
  for (const event of sink.events) {
    for (const [field, value] of Object.entries(event.properties)) {
      assert.doesNotMatch(value, RAW_CONTROL, `${event.name} ${field}`);
      assert.ok(value.length <= (FIELD_CAPS[field] ?? 256), `${event.name} ${field}: ${value.length} > cap`);
    }
    assert.ok(Buffer.byteLength(lineOf(event)) <= MAX_RECORD_BYTES);
  }
  const [toolCall, rejected] = sink.events;
  // Each cut field says what was left out, and shows the escapes as text.
  assert.match(toolCall?.properties.tool ?? '', /^tool\\n\{"event":"mcp\.tool\.call","outcome":"success"\}\\r\\u001b\[32m✔ success\\u001b\[0m…\[\+\d+ chars\]$/);
  assert.match(toolCall?.properties.userAgent ?? '', /^ua\\n\{"event".*\\u009b2K\\u2028\\u202e\\u0000z+…\[\+\d+ chars\]$/);
  for (const field of ['jsonRpcId', 'userAgent', 'protocolVersion', 'callerName', 'callerObjectId', 'callerTenantId', 'callerAppId', 'target', 'upstreamRequestId', 'queryText', 'errorClass']) {
    assert.match(toolCall?.properties[field] ?? '', /…\[\+\d+ chars\]$/, field);
    const length = toolCall?.properties[field]?.length ?? 0;
    const cap = FIELD_CAPS[field] ?? 0;
    assert.ok(length <= cap && length >= cap - 3, `${field} is cut to its cap (${length} of ${cap})`);
  }
  for (const field of ['origin', 'path', 'httpMethod', 'errorClass', 'userAgent']) assert.match(rejected?.properties[field] ?? '', /…\[\+\d+ chars\]$/, field);
  assert.equal(toolCall?.properties.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(toolCall?.properties.requestId, 'r1');
});

test('no record exceeds MAX_RECORD_BYTES, even when every field is at its cap with text that grows in JSON and UTF-8', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink });
  // Quotes and backslashes double in JSON; CJK is 3 bytes in UTF-8; both at every cap.
  for (const filler of ['"\\'.repeat(20_000), '漢'.repeat(40_000), '😀'.repeat(20_000), FORGED.repeat(5_000)]) {
    const caller = createPrincipal({ authMode: 'easyAuth', objectId: filler, tenantId: filler, name: filler, appId: filler });
    auditor.toolCall({
      ...call,
      caller,
      userAgent: filler,
      protocolVersion: filler,
      tool: filler,
      toolset: filler,
      jsonRpcId: filler,
      arguments: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, filler])),
      details: { target: filler, upstreamRequestId: filler, queryText: filler, errorClass: filler },
    });
    auditor.rejected({ requestId: 'r', caller, userAgent: filler, protocolVersion: filler, reason: filler, outcome: 'error', status: 400, httpMethod: filler, path: filler, origin: filler });
  }
  await auditor.flush();
  assert.equal(sink.events.length, 8);
  for (const event of sink.events) {
    const bytes = Buffer.byteLength(lineOf(event));
    assert.ok(bytes <= MAX_RECORD_BYTES, `${event.name}: ${bytes} bytes`);
    assert.ok(event.properties.recordId && event.properties.requestId && event.properties.outcome, 'the keys of the record are never cut away');
  }
  // The cut was needed (so the test proves the enforcement, not only the caps): at least one record was over before.
  assert.ok(sink.events.some((event) => Buffer.byteLength(lineOf(event)) > MAX_RECORD_BYTES * 0.75));
});

test('queryText follows the same redaction as arguments: secret-like text is redacted with the same fingerprint', async () => {
  const sink = memorySink();
  const auditor = createAuditor({ sink, fingerprintKey: async () => 'fp-key' });
  const query = "StormEvents | where Notes has 'AccountKey=c2VjcmV0LXNlY3JldC1zZWNyZXQ='";
  auditor.toolCall({ ...call, arguments: { query }, sensitiveArguments: [], details: { queryText: query } });
  auditor.toolCall({ ...call, arguments: { query: 'StormEvents | take 1' }, sensitiveArguments: [], details: { queryText: 'StormEvents\n| take 1' } });
  await auditor.flush();
  const [secret, plain] = sink.events;
  assert.match(secret?.properties.queryText ?? '', /^\[redacted secret-like len=\d+ fp=[0-9a-f]{16}\]$/);
  assert.ok(!JSON.stringify(secret).includes('c2VjcmV0'), 'the secret is nowhere in the event');
  assert.equal(secret?.properties.queryText, JSON.parse(secret?.properties.arguments ?? '{}').query, 'queryText and arguments agree');
  assert.equal(plain?.properties.queryText, 'StormEvents\\n| take 1', 'ordinary query text is kept, newlines escaped');
});

test('facts that throw while the event is built: a minimal event is recorded, nothing thrown, with or without a key wait', async () => {
  for (const fingerprintKey of [undefined, async () => 'k']) {
    const sink = memorySink();
    const errors: string[] = [];
    const auditor = createAuditor({ sink, onError: (message) => errors.push(message), ...(fingerprintKey && { fingerprintKey }) });
    const hostile = {
      ...call,
      jsonRpcId: 'j1',
      get details(): never {
        throw new RangeError('Maximum call stack size exceeded');
      },
    };
    assert.doesNotThrow(() => auditor.toolCall(hostile));
    const hostileRejection = {
      requestId: 'r2',
      reason: 'parse_error',
      outcome: 'error' as const,
      status: 400,
      httpMethod: 'POST',
      get path(): never {
        throw new Error('path');
      },
    };
    assert.doesNotThrow(() => auditor.rejected(hostileRejection));
    await auditor.flush();
    assert.equal(sink.events.length, 2, 'one event each, never zero');
    // With a key wait the tool call is recorded after the (immediate) rejection: find each by name.
    const toolCall = sink.events.find((event) => event.name === 'mcp.tool.call');
    const rejected = sink.events.find((event) => event.name === 'mcp.request.rejected');
    assert.match(toolCall?.properties.auditError ?? '', /^event_build_failed \(RangeError\)$/);
    assert.deepEqual([toolCall?.properties.requestId, toolCall?.properties.tool, toolCall?.properties.jsonRpcId, toolCall?.properties.outcome], ['r1', 't', 'j1', 'success']);
    assert.ok(toolCall?.properties.recordId);
    assert.match(rejected?.properties.auditError ?? '', /^event_build_failed/);
    assert.deepEqual([rejected?.properties.requestId, rejected?.properties.errorClass, rejected?.properties.statusCode], ['r2', 'parse_error', '400']);
    assert.equal(errors.length, 2);
  }
});

test('a sink that throws does not throw out of the auditor', async () => {
  const errors: string[] = [];
  const auditor = createAuditor({
    sink: { record: () => { throw new Error('sink down'); }, flush: async () => {}, close: async () => {} },
    onError: (message) => errors.push(message),
  });
  assert.doesNotThrow(() => auditor.toolCall(call));
  await auditor.flush();
  assert.match(errors[0] ?? '', /sink refused an event \(sink down\)/);
});

import { anonymousPrincipal } from '../auth/principal.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createAuditor, type Auditor, type ToolCallFacts } from '../audit/auditor.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { buildToolCatalog } from '../tools/catalog.ts';
import { defineTool, type ToolDefinition } from '../tools/define-tool.ts';
import { abortKind } from './abort.ts';
import type { CallContext } from './call-context.ts';
import { createInflightRegistry } from './inflight.ts';
import { createToolCallRunner, type ToolCallRequest } from './tool-call.ts';

const SERVER = { name: 's', version: '1', authMode: 'functionKey', readOnly: true, toolsets: ['server'], toolNames: [] };
const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Waits for its signal and reports the abort's kind as the error class. */
const waitTool = defineTool({
  name: 'test_wait',
  title: 'wait',
  description: 'waits',
  toolset: 'server',
  annotations,
  input: z.object({}),
  async handler(_args, ctx) {
    const signal = ctx.signal;
    await new Promise((resolve) => (signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true })));
    return { isError: true, content: [{ type: 'text', text: 'stopped' }], audit: { errorClass: abortKind(signal.reason) } };
  },
});

/** Lets the abort of its signal escape as a throw. */
const throwOnAbortTool = defineTool({
  name: 'test_throw_on_abort',
  title: 'throw',
  description: 'throws',
  toolset: 'server',
  annotations,
  input: z.object({}),
  async handler(_args, ctx) {
    const signal = ctx.signal;
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    throw signal.reason;
  },
});

/** A result the audit cannot measure (JSON.stringify throws on a bigint): building the event fails. */
const unmeasurableTool = defineTool({
  name: 'test_unmeasurable',
  title: 'unmeasurable',
  description: 'returns a bigint',
  toolset: 'server',
  annotations,
  input: z.object({}).passthrough(),
  async handler() {
    return { content: [{ type: 'text', text: 'ok' }], structuredContent: { big: 10n } as unknown as Record<string, unknown> };
  },
});

const echoTool = defineTool({
  name: 'test_echo',
  title: 'echo',
  description: 'echoes',
  toolset: 'server',
  annotations,
  input: z.object({}).passthrough(),
  async handler() {
    return { content: [{ type: 'text', text: 'echo' }] };
  },
});

function setup(auditor?: Auditor) {
  const sink = memorySink();
  const real = createAuditor({ sink, onError: () => undefined });
  const inflight = createInflightRegistry();
  const tools = [waitTool, throwOnAbortTool, unmeasurableTool, echoTool] as unknown as ToolDefinition[];
  const run = createToolCallRunner({ catalog: buildToolCatalog({ toolsets: ['server'], readOnly: true }, tools), servicesFor: () => undefined, auditor: auditor ?? real, server: SERVER, progressIntervalMs: 60_000 });
  const httpRequest = new AbortController();
  const sdk = new AbortController();
  const caller = anonymousPrincipal('functionKey');
  const call: CallContext = {
    caller,
    requestId: 'req-1',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    userAgent: 'ua',
    protocolVersion: '2025-11-25',
    get signal() {
      return httpRequest.signal;
    },
    cancellation: (id) => inflight.register(caller, id),
  };
  const request = (name: string, jsonRpcId: string | number = 1, args: unknown = {}): ToolCallRequest => ({
    name,
    arguments: args,
    jsonRpcId,
    protocolVersion: '2025-11-25',
    progress: undefined,
    sdkSignal: sdk.signal,
    inputResponses: undefined,
  });
  return { run, call, request, sink, httpRequest, sdk, cancel: (id: string | number) => inflight.cancel(caller, id) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

test('the HTTP request ending is client_disconnected, the SDK exchange ending too, a notifications/cancelled is cancelled', async () => {
  for (const [how, expected] of [
    ['request', 'client_disconnected'],
    ['sdk', 'client_disconnected'],
    ['cancel', 'cancelled'],
  ] as const) {
    const { run, call, request, sink, httpRequest, sdk, cancel } = setup();
    const pending = run(request('test_wait', 7), call);
    await tick();
    if (how === 'request') httpRequest.abort();
    else if (how === 'sdk') sdk.abort();
    else assert.equal(cancel(7), 'cancelled');
    const result = await pending;
    assert.equal(result.isError, true);
    assert.equal(sink.events.length, 1, `${how}: one event`);
    assert.equal(sink.events[0]?.properties.errorClass, expected, how);
    assert.equal(sink.events[0]?.properties.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'the client trace id is kept apart');
    assert.equal(sink.events[0]?.properties.requestId, 'req-1');
  }
});

test('a tool that lets the abort escape is audited by its kind, not as internal_error', async () => {
  const { run, call, request, sink, httpRequest } = setup();
  const pending = run(request('test_throw_on_abort'), call);
  await tick();
  httpRequest.abort();
  const result = await pending;
  assert.match(JSON.stringify(result.content), /client disconnected/);
  assert.equal(sink.events[0]?.properties.errorClass, 'client_disconnected');
});

test('an event that cannot be built still leaves the answer intact and records a minimal event', async () => {
  const { run, call, request, sink } = setup();
  const result = await run(request('test_unmeasurable', 'u1'), call);
  assert.equal(result.isError, undefined, 'the client gets its normal answer');
  assert.deepEqual(result.content, [{ type: 'text', text: 'ok' }]);
  assert.equal(sink.events.length, 1, 'exactly one event');
  const event = sink.events[0];
  assert.equal(event?.properties.auditError, 'event_build_failed');
  assert.equal(event?.properties.tool, 'test_unmeasurable');
  assert.equal(event?.properties.jsonRpcId, 'u1');
  assert.equal(event?.properties.requestId, 'req-1');
  assert.equal(event?.properties.outcome, 'success');
});

test('an auditor that throws cannot take the answer down; the fallback event is still recorded', async () => {
  const recorded: ToolCallFacts[] = [];
  let calls = 0;
  const flaky: Auditor = {
    toolCall(facts) {
      calls++;
      if (calls === 1) throw new RangeError('Maximum call stack size exceeded');
      recorded.push(facts);
    },
    rejected() {},
    suspicious() {},
    oauth() {},
    async flush() {},
  };
  const { run, call, request } = setup(flaky);
  const result = await run(request('test_echo', 'e1', { deep: 'x' }), call);
  assert.deepEqual(result.content, [{ type: 'text', text: 'echo' }]);
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0]?.auditError, 'event_build_failed');
  assert.equal(recorded[0]?.arguments, undefined, 'the fallback carries nothing that could fail again');
  assert.equal(recorded[0]?.jsonRpcId, 'e1');
});

test('deep, wide and huge arguments through the runner: one bounded event per call, never a throw', async () => {
  const { run, call, request, sink } = setup();
  let deep: unknown = 'leaf';
  for (let i = 0; i < 5000; i++) deep = [deep];
  const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
  const inputs = [{ deep }, wide, { huge: 'x'.repeat(10_000_000) }];
  for (const [i, args] of inputs.entries()) await run(request('test_echo', i, args), call);
  await run(request('no\nsuch\u001b[32m tool'.repeat(1000), 'bad'), call);
  assert.equal(sink.events.length, inputs.length + 1);
  for (const event of sink.events) {
    for (const value of Object.values(event.properties)) assert.doesNotMatch(value, /[\u0000-\u001f\u007f-\u009f]/);
    assert.ok(JSON.stringify(event).length < 32_768);
  }
  assert.equal(sink.events.at(-1)?.properties.errorClass, 'unknown_tool');
  assert.ok((sink.events.at(-1)?.properties.tool ?? '').length <= 100);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { defineTool } from '../tools/define-tool.ts';
import { memorySink } from '../../test/support/memory-sink.ts';
import { mcpPost, modernPost, rpc } from '../../test/support/mcp-request.ts';
import { probeTools } from '../../test/support/probe-tools.ts';
import { createDrain, shutdownPlan } from './drain.ts';

/**
 * Graceful shutdown at the core handler: once the drain begins nothing new
 * starts (503, `Connection: close`, `Retry-After`, audited), a running call
 * gets the grace, and one that outlives it is stopped and audited as
 * `shutdown`, all within the plan's times.
 */

/** A tool that never ends and never looks at its signal. */
const stubborn = defineTool({
  name: 'probe_stubborn',
  title: 'Never returns',
  description: 'Ignores cancellation and never returns.',
  toolset: 'server',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  handler: () => new Promise(() => undefined),
});

function setup(env: Record<string, string> = {}) {
  const sink = memorySink();
  const probes = probeTools();
  const app = createApp(loadConfig(env), { auditSink: sink, tools: [...probes.tools, stubborn] });
  const call = (name: string, id: number) => app.fetch(mcpPost(rpc('tools/call', { name, arguments: {} }, id)));
  const toolEvents = () => sink.events.filter((event) => event.name === 'mcp.tool.call');
  const rejections = () => sink.events.filter((event) => event.name === 'mcp.request.rejected');
  return { app, sink, probe: probes.control, call, toolEvents, rejections };
}

const planFrom = (graceMs: number, settleMs: number, deadlineMs: number) => {
  const now = Date.now();
  return { graceUntil: now + graceMs, settleUntil: now + graceMs + settleMs, deadline: now + deadlineMs };
};

test('the default plan: half the deadline for running calls, at most a second to settle, the rest for the audit', () => {
  assert.deepEqual(shutdownPlan(0, 8000), { graceUntil: 4000, settleUntil: 5000, deadline: 8000 });
  assert.deepEqual(shutdownPlan(0, 1000), { graceUntil: 500, settleUntil: 625, deadline: 1000 });
});

test('once the drain begins, every new request is refused with 503, Connection: close and Retry-After; POSTs are audited as shutting_down', async () => {
  const { app, call, rejections, toolEvents } = setup();
  void app.drain(planFrom(0, 0, 1000));
  const attempts = [
    await call('server_info_get', 1),
    await app.fetch(modernPost('tools/call', { name: 'server_info_get', arguments: {} })),
    await app.fetch(mcpPost(rpc('tools/list', {}))),
    await app.fetch(new Request('http://127.0.0.1:7071/mcp', { method: 'GET' })),
  ];
  for (const response of attempts) {
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('connection'), 'close');
    assert.equal(response.headers.get('retry-after'), '1');
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /shutting down/);
  }
  const health = await app.fetch(new Request('http://127.0.0.1:7071/health'));
  assert.equal(health.status, 503, 'health checks see the instance going away');
  assert.equal(((await health.json()) as { status: string }).status, 'shutting_down');
  await app.auditor.flush();
  assert.equal(toolEvents().length, 0, 'no tool ran');
  // The three POSTs; a GET is refused unaudited, as it is outside a shutdown (405).
  assert.equal(rejections().length, 3);
  for (const event of rejections()) {
    assert.equal(event.properties.errorClass, 'shutting_down');
    assert.equal(event.properties.statusCode, '503');
    assert.equal(event.properties.outcome, 'error');
  }
});

test('a call running when the drain begins and ending within the grace gets its normal answer, with Connection: close', async () => {
  const { app, probe, call, toolEvents } = setup();
  const control = probe();
  const running = call('probe_wait', 7);
  await control.started;
  const plan = planFrom(5000, 1000, 8000);
  const drained = app.drain(plan);
  assert.equal((await call('server_info_get', 8)).status, 503, 'new work is refused meanwhile');
  control.release();
  const response = await running;
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('connection'), 'close');
  const body = (await response.json()) as { result: { isError?: boolean; content: Array<{ text: string }> } };
  assert.equal(body.result.isError, undefined);
  assert.equal(body.result.content[0]?.text, 'released');
  await drained;
  assert.ok(Date.now() < plan.graceUntil, 'the drain ends as soon as the running call has ended, not at the end of the grace');
  await app.auditor.flush();
  assert.deepEqual(
    toolEvents().map((event) => [event.properties.jsonRpcId, event.properties.outcome, event.properties.errorClass]),
    [['7', 'success', undefined]],
  );
});

test('a call still running at the end of the grace is stopped through its signal and audited as shutdown, not timeout or cancelled', async () => {
  const { app, probe, call, toolEvents } = setup();
  const control = probe();
  const running = call('probe_wait', 9);
  await control.started;
  const plan = planFrom(200, 1000, 3000);
  const drained = app.drain(plan);
  const response = await running;
  assert.ok(Date.now() >= plan.graceUntil, 'not before the grace ended');
  assert.equal(await control.outcome, 'aborted', 'the tool saw its signal abort');
  const body = (await response.json()) as { result: { isError: boolean; content: Array<{ text: string }> } };
  assert.equal(body.result.isError, true);
  assert.match(body.result.content[0]?.text ?? '', /shutting down.*call the tool again/s);
  assert.equal(response.headers.get('connection'), 'close');
  await drained;
  assert.ok(Date.now() <= plan.settleUntil + 50, 'the drain ended by the plan');
  await app.auditor.flush();
  const events = toolEvents();
  assert.equal(events.length, 1);
  assert.equal(events[0]?.properties.jsonRpcId, '9');
  assert.equal(events[0]?.properties.outcome, 'error');
  assert.equal(events[0]?.properties.errorClass, 'shutdown');
});

test('a tool that ignores its signal cannot hold the shutdown: it is answered and audited as shutdown right after the grace', async () => {
  const { app, call, toolEvents } = setup();
  const running = call('probe_stubborn', 11);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const plan = planFrom(100, 1000, 3000);
  const drained = app.drain(plan);
  const response = await running;
  const answeredAfterGraceMs = Date.now() - plan.graceUntil;
  assert.ok(answeredAfterGraceMs >= 0 && answeredAfterGraceMs < 1000, `answered ${answeredAfterGraceMs} ms after the grace`);
  const body = (await response.json()) as { result: { isError: boolean } };
  assert.equal(body.result.isError, true);
  await drained;
  await app.auditor.flush();
  assert.deepEqual(
    toolEvents().map((event) => [event.properties.jsonRpcId, event.properties.errorClass]),
    [['11', 'shutdown']],
  );
});

test('shutdown() keeps its deadline when the fingerprint key never arrives: every event is written without fingerprints, flagged', async () => {
  // A credential that never answers: the Key Vault read of the fingerprint key hangs.
  const sink = memorySink();
  const probes = probeTools();
  const app = createApp(loadConfig({ KEY_VAULT_URL: 'https://kv.vault.azure.net', AUDIT_FINGERPRINT_SECRET_NAME: 'audit-key', MCP_SHUTDOWN_SECONDS: '2' }), {
    auditSink: sink,
    tools: probes.tools,
    credential: () => new Promise(() => undefined),
  });
  const calls = 5;
  for (let id = 1; id <= calls; id++) {
    const response = await app.fetch(mcpPost(rpc('tools/call', { name: 'server_info_get', arguments: { token: `Bearer secret-${id}-${crypto.randomUUID()}` } }, id)));
    assert.equal(response.status, 200);
  }
  assert.equal(sink.events.length, 0, 'the events wait for the key');
  const started = Date.now();
  await app.shutdown();
  const tookMs = Date.now() - started;
  assert.ok(tookMs <= 2000 + 100, `shutdown took ${tookMs} ms of a 2000 ms deadline`);
  assert.equal(sink.events.length, calls);
  assert.deepEqual(new Set(sink.events.map((event) => event.properties.jsonRpcId)), new Set(['1', '2', '3', '4', '5']));
  for (const event of sink.events) {
    assert.equal(event.properties.fingerprint, 'unavailable');
    assert.doesNotMatch(event.properties.arguments ?? '', /secret-\d|fp=/);
  }
});

test('the drain counts calls until audited, waits for work they leave behind, and bounds both waits', async () => {
  const drain = createDrain();
  const leave = drain.enter();
  let stoppedAt = 0;
  drain.onStop(() => (stoppedAt = Date.now()));
  let finishCancel!: () => void;
  drain.track(new Promise<void>((resolve) => (finishCancel = resolve)));
  const plan = planFrom(100, 200, 1000);
  const settled = drain.settle(plan);
  assert.equal(drain.draining, true);
  setTimeout(() => leave(), 150);
  const result = await settled;
  assert.ok(stoppedAt >= plan.graceUntil && stoppedAt < plan.settleUntil);
  assert.equal(drain.signal.aborted, true);
  assert.deepEqual(result, { aborted: 1, unsettled: 1 }, 'the call left after the grace; the cancel never finished');
  assert.ok(Date.now() >= plan.settleUntil && Date.now() < plan.settleUntil + 100);
  finishCancel();
  let lateListener = false;
  drain.onStop(() => (lateListener = true));
  assert.equal(lateListener, true, 'a listener added after the grace runs at once');
});

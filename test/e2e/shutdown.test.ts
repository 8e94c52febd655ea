import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { createKustoService, type KustoService } from '../../emulator/kusto/service.ts';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { MCP_HEADERS, startServerProcess, type ServerProcess } from '../support/server-process.ts';

/**
 * SIGTERM under load, as a container platform sends it: the real server
 * process (dist/server.js) with the stdout audit sink, several keep-alive
 * clients calling tools in a loop, a Kusto query running, and a Key Vault
 * that never answers the read of the audit fingerprint key. SIGKILL follows
 * 10 s after SIGTERM, as on a platform with a 10 s grace period.
 *
 * Counted, not sampled: every answered call has exactly one audit event on
 * stdout; no request after SIGTERM hangs or is served normally; the process
 * exits by itself within MCP_SHUTDOWN_SECONDS (default 8) plus its margin.
 */
const FINGERPRINT_SECRET = 'audit-fingerprint-key';
const SHUTDOWN_SECONDS = 8;
const KILL_AFTER_MS = 10_000;
const CLIENTS = 6;
const LOAD_BEFORE_SIGTERM_MS = 1500;
const REQUEST_TIMEOUT_MS = 3000;
/** A request sent this long after SIGTERM was sent can no longer have reached the process before its handler ran. */
const SIGNAL_DELIVERY_MS = 250;

type Outcome = 'answered' | 'refused_503' | 'connection_refused' | 'connection_closed' | 'timeout' | 'other';
interface Attempt {
  id: string;
  sentAt: number;
  endedAt: number;
  outcome: Outcome;
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  detail?: string;
}

let kusto: KustoService;
let emulator: Emulator;
let server: ServerProcess;
const attempts: Attempt[] = [];
let sigtermAt = 0;
let exit: { at: number; code: number | null; signal: NodeJS.Signals | null; killed: boolean };
let longQuery: { status: number; text: string };
let events: Array<Record<string, string>> = [];
/** A call in flight at SIGTERM that ends within the grace, then a second request on the same keep-alive connection. */
let slow: { first: Attempt; followUp: Attempt };

/** One POST of a `tools/call` on a keep-alive agent, classified by how it ended. */
function callOn(agent: Agent, id: string, name = 'server_info_get', args: Record<string, unknown> = {}): Promise<Attempt> {
  const sentAt = Date.now();
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
  return new Promise((resolve) => {
    const done = (attempt: Omit<Attempt, 'id' | 'sentAt' | 'endedAt'>) => resolve({ id, sentAt, endedAt: Date.now(), ...attempt });
    const req = httpRequest(`${server.mcpUrl}`, { method: 'POST', agent, headers: { ...MCP_HEADERS, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const answered = res.statusCode === 200 && (JSON.parse(text) as { id?: unknown; result?: unknown }).result !== undefined;
        done({ outcome: answered ? 'answered' : res.statusCode === 503 ? 'refused_503' : 'other', status: res.statusCode, headers: res.headers, detail: answered ? undefined : text.slice(0, 200) });
      });
      res.on('error', (error: NodeJS.ErrnoException) => done({ outcome: 'connection_closed', detail: error.code ?? error.message }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      done({ outcome: 'timeout' });
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      const closed = error.code === 'ECONNRESET' || error.code === 'EPIPE' || /socket hang up/.test(error.message);
      done({ outcome: refused ? 'connection_refused' : closed ? 'connection_closed' : 'other', detail: error.code ?? error.message });
    });
    req.end(body);
  });
}

before(async () => {
  kusto = createKustoService();
  emulator = await startEmulator({ services: [kusto] });
  emulator.keyVault.setSecret(FINGERPRINT_SECRET, `fingerprint-key-${crypto.randomUUID()}`);
  // The vault hangs on the fingerprint key for two minutes: far past any shutdown deadline.
  emulator.addFault({ service: 'keyvault', pathPrefix: `/secrets/${FINGERPRINT_SECRET}`, delayMs: 120_000 });
  // The stdout sink: no Application Insights connection string, so every event is a countable JSON line.
  const { APPLICATIONINSIGHTS_CONNECTION_STRING: _appInsights, ...env } = emulator.env();
  server = await startServerProcess({
    ...env,
    KUSTO_CLUSTERS: `help=${emulator.origin('help.kusto.localhost')}/Samples`,
    AUDIT_FINGERPRINT_SECRET_NAME: FINGERPRINT_SECRET,
  });

  // A query that would run for a minute, in flight when SIGTERM comes.
  kusto.setQueryDelay(60_000, 1);
  const long = fetch(server.mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 'long-1', method: 'tools/call', params: { name: 'kusto_query', arguments: { query: 'StormEvents | summarize count() by State', timeoutSeconds: 120 } } }),
    // Bounded, so a server that never answers fails the test instead of hanging it.
    signal: AbortSignal.timeout(LOAD_BEFORE_SIGTERM_MS + KILL_AFTER_MS + 5000),
  }).then(
    async (response) => ({ status: response.status, text: await response.text() }),
    (error: unknown) => ({ status: 0, text: String(error) }),
  );
  for (let waited = 0; kusto.runningQueries().length === 0; waited += 20) {
    if (waited > 10_000) throw new Error('the long query never started');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const exited = new Promise<typeof exit>((resolve) =>
    server.child.once('exit', (code, signal) => resolve({ at: Date.now(), code, signal, killed: signal === 'SIGKILL' })),
  );
  let stopClients = false;
  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; !stopClients; n++) {
      const attempt = await callOn(agent, `c${client}-${n}`);
      attempts.push(attempt);
      if (attempt.outcome !== 'answered') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    agent.destroy();
  });

  await new Promise((resolve) => setTimeout(resolve, LOAD_BEFORE_SIGTERM_MS - 500));
  // A query of 1.5 s on its own keep-alive connection, still running when SIGTERM comes.
  kusto.setQueryDelay(1500, 1);
  const slowAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const slowDone = callOn(slowAgent, 'slow-1', 'kusto_query', { query: 'StormEvents | take 1' }).then(async (first) => {
    slow = { first, followUp: await callOn(slowAgent, 'slow-2') };
    attempts.push(slow.first, slow.followUp);
    slowAgent.destroy();
  });
  for (let waited = 0; kusto.runningQueries().length < 2; waited += 10) {
    if (waited > 5000) throw new Error('the slow query never started');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  sigtermAt = Date.now();
  server.child.kill('SIGTERM');
  const killer = setTimeout(() => server.child.kill('SIGKILL'), KILL_AFTER_MS);
  exit = await exited;
  clearTimeout(killer);
  // Let the clients see the process gone, then stop them.
  await new Promise((resolve) => setTimeout(resolve, 200));
  stopClients = true;
  await Promise.all([...clients, slowDone]);
  longQuery = await long;

  events = server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, string>);
});

after(async () => {
  // stop() waits for an exit that a killed process has already had.
  if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
  await emulator?.close();
});

const toolEvents = () => events.filter((event) => event.event === 'mcp.tool.call');

test('the process exited by itself, with 0, within MCP_SHUTDOWN_SECONDS (plus its margin), before the SIGKILL', (t) => {
  const outcomes = (list: Attempt[]) => {
    const counts: Record<string, number> = {};
    for (const attempt of list) counts[attempt.outcome] = (counts[attempt.outcome] ?? 0) + 1;
    return JSON.stringify(counts);
  };
  t.diagnostic(`exit ${exit.at - sigtermAt} ms after SIGTERM; before it: ${outcomes(attempts.filter((a) => a.sentAt < sigtermAt))}; after: ${outcomes(attempts.filter((a) => a.sentAt >= sigtermAt))}; ${events.length} audit lines`);
  assert.equal(exit.killed, false, 'it had to be killed');
  assert.equal(exit.signal, null);
  assert.equal(exit.code, 0, server.stderr().slice(-2000));
  const tookMs = exit.at - sigtermAt;
  assert.ok(tookMs <= SHUTDOWN_SECONDS * 1000 + 1000, `exit ${tookMs} ms after SIGTERM`);
});

test('the load was real: calls were answered before SIGTERM on keep-alive connections, and requests kept coming after it', () => {
  const before = attempts.filter((a) => a.sentAt < sigtermAt);
  const afterwards = attempts.filter((a) => a.sentAt >= sigtermAt + SIGNAL_DELIVERY_MS);
  assert.ok(before.filter((a) => a.outcome === 'answered').length >= CLIENTS * 10, `${before.length} calls before SIGTERM`);
  assert.ok(before.some((a) => a.headers?.connection === 'keep-alive'), 'the clients used keep-alive');
  assert.ok(afterwards.length >= CLIENTS, `${afterwards.length} requests after SIGTERM`);
});

test('every answered call has exactly one audit event (by jsonRpcId and tool), and no record is duplicated', () => {
  const answered = attempts.filter((a) => a.outcome === 'answered');
  const byId = new Map<string, number>();
  for (const event of toolEvents()) byId.set(event.jsonRpcId!, (byId.get(event.jsonRpcId!) ?? 0) + 1);
  const toolOf = (id: string) => (id.startsWith('slow-1') ? 'kusto_query' : 'server_info_get');
  const missing = answered.filter((a) => !toolEvents().some((e) => e.jsonRpcId === a.id && e.tool === toolOf(a.id)));
  assert.deepEqual(missing.map((a) => a.id), [], `${missing.length} of ${answered.length} answered calls have no event`);
  const doubled = [...byId].filter(([, count]) => count > 1);
  assert.deepEqual(doubled, [], 'a call with more than one event');
  assert.ok(toolEvents().length >= answered.length + 1, `${toolEvents().length} tool events for ${answered.length} answered calls and the long query`);
  const recordIds = events.map((event) => event.recordId);
  assert.ok(recordIds.every((id) => typeof id === 'string' && id.length > 0), 'every record has a recordId');
  assert.equal(new Set(recordIds).size, recordIds.length, 'recordIds are unique');
});

test('after SIGTERM nothing hangs and nothing new is served: each request got 503 with Connection: close, or a refused or closed connection', () => {
  const timedOut = attempts.filter((a) => a.outcome === 'timeout' || a.outcome === 'other');
  assert.deepEqual(timedOut.map((a) => `${a.id}: ${a.outcome} ${a.status ?? ''} ${a.detail ?? ''}`), []);
  const servedLate = attempts.filter((a) => a.sentAt >= sigtermAt + SIGNAL_DELIVERY_MS && a.outcome === 'answered');
  assert.deepEqual(servedLate.map((a) => a.id), [], 'requests sent after SIGTERM were served');
  const refused = attempts.filter((a) => a.outcome === 'refused_503');
  for (const attempt of refused) {
    assert.equal(attempt.headers?.connection, 'close');
    assert.equal(attempt.headers?.['retry-after'], '1');
  }
  const rejectedEvents = events.filter((event) => event.event === 'mcp.request.rejected' && event.errorClass === 'shutting_down');
  assert.ok(rejectedEvents.length >= refused.length, `${refused.length} answered 503, ${rejectedEvents.length} audited`);
  // Calls in flight at SIGTERM were answered, and told the client to close the connection.
  const inFlight = attempts.filter((a) => a.sentAt < sigtermAt && a.endedAt > sigtermAt + SIGNAL_DELIVERY_MS && a.outcome === 'answered');
  for (const attempt of inFlight) assert.equal(attempt.headers?.connection, 'close', attempt.id);
});

test('a call in flight at SIGTERM that ends within the grace gets its normal answer with Connection: close; its keep-alive connection serves nothing more', () => {
  assert.ok(slow.first.sentAt < sigtermAt && slow.first.endedAt > sigtermAt + SIGNAL_DELIVERY_MS, 'it was in flight across SIGTERM');
  assert.equal(slow.first.outcome, 'answered', `${slow.first.status} ${slow.first.detail ?? ''}`);
  assert.equal(slow.first.headers?.connection, 'close');
  const [event] = toolEvents().filter((e) => e.jsonRpcId === 'slow-1');
  assert.equal(event?.outcome, 'success');
  // Sent on the same agent: an old host would reuse the kept-alive socket and serve it.
  assert.notEqual(slow.followUp.outcome, 'answered');
  assert.ok(['connection_refused', 'connection_closed', 'refused_503'].includes(slow.followUp.outcome), slow.followUp.outcome);
});

test('a vault that never answers does not delay the exit: the events were written without fingerprints, flagged', () => {
  const vaultReads = emulator.requestsFor('keyvault').filter((r) => r.url.includes(`/secrets/${FINGERPRINT_SECRET}`));
  assert.ok(vaultReads.length > 0, 'the fingerprint key was asked for');
  assert.ok(vaultReads.every((r) => r.status === 0), 'and never answered');
  assert.ok(toolEvents().length > 0);
  const unflagged = toolEvents().filter((event) => event.fingerprint !== 'unavailable');
  assert.equal(unflagged.length, 0, `${unflagged.length} events not flagged fingerprint=unavailable`);
  assert.match(server.stderr(), /fingerprint|shutdown/i);
});

test('the Kusto query still running at the end of the grace was stopped, audited as shutdown, and cancelled on the cluster', () => {
  assert.equal(longQuery.status, 200);
  const result = (JSON.parse(longQuery.text) as { result: { isError: boolean; content: Array<{ text: string }> } }).result;
  assert.equal(result.isError, true);
  assert.match(result.content[0]?.text ?? '', /shutting down/);
  const [event] = toolEvents().filter((e) => e.jsonRpcId === 'long-1');
  assert.equal(event?.tool, 'kusto_query');
  assert.equal(event?.errorClass, 'shutdown');
  assert.match(event?.target ?? '', /^kusto:https:\/\/help\.kusto\.localhost/);
  assert.match(event?.queryText ?? '', /StormEvents/);
  const cancelled = kusto.cancellations.find((c) => c.clientRequestId === event?.upstreamRequestId);
  assert.ok(cancelled, `.cancel query for ${event?.upstreamRequestId}; seen: ${JSON.stringify(kusto.cancellations)}`);
  assert.equal(cancelled.wasRunning, true);
});

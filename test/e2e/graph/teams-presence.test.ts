import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../../emulator/server.ts';
import { callAs, lastToolAudit, requestsTo, startGraphServerProcess, textOf } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * graph_presence_get in both identity modes: 650 ids in exactly one Graph
 * request; names resolved with `userPrincipalName in (…)` filters inside
 * one $batch, unknown users reported, status messages framed as untrusted.
 */
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator?.close());

interface Presences {
  presences: Array<{ user: string; id: string; displayName?: string; availability: string; activity: string; statusMessage?: string }>;
  notFound: string[];
  unresolved: unknown[];
}

for (const identity of ['onBehalfOf', 'managedIdentity'] as const) {
  describe(`graph_presence_get, GRAPH_IDENTITY=${identity}`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await startGraphServerProcess(emulator, identity);
    });
    after(() => server?.stop());

    test('650 user ids: exactly one Graph request', async () => {
      emulator.graph.reset();
      const ids = [SAMPLE.users.megan, SAMPLE.users.johanna, ...Array.from({ length: 648 }, () => randomUUID())];
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_presence_get', { users: ids });
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(emulator.graph.calls.map((call) => `${call.method} ${call.path}`), ['POST /communications/getPresencesByUserId']);
      const data = result.structuredContent as unknown as Presences;
      assert.equal(data.presences.length, 650);
      assert.deepEqual(data.presences.slice(0, 2).map((p) => [p.availability, p.activity]), [['Busy', 'InACall'], ['Available', 'Available']]);
      assert.match(textOf(result), /<<<untrusted id=[\w-]+>>>[\s\S]*Heads down on the Mark 8 firmware/);
      const audit = lastToolAudit(server);
      assert.deepEqual([audit?.outcome, audit?.target, audit?.downstreamIdentity, String(audit?.resultRows)], ['success', 'graph:/communications/getPresencesByUserId', identity, '650']);
    });

    test('user principal names: resolved in one $batch of filters, unknown ones reported, ids and names mixed', async () => {
      emulator.graph.reset();
      const upns = ['megan.bowen@emulator.localhost', 'test.user@emulator.localhost', 'nobody@emulator.localhost', 'SEAN.OBRIEN@emulator.localhost'];
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_presence_get', { users: [...upns, SAMPLE.users.diego] });
      assert.equal(result.isError, undefined, textOf(result));
      const data = result.structuredContent as unknown as Presences;
      assert.deepEqual(data.notFound, ['nobody@emulator.localhost']);
      assert.deepEqual(data.presences.map((p) => p.id), [SAMPLE.users.megan, TEST_USER_ID, SAMPLE.users.sean, SAMPLE.users.diego]);
      assert.equal(data.presences[0]?.displayName, 'Megan Bowen');
      assert.equal(data.presences[3]?.availability, 'DoNotDisturb');
      // The emulator records a $batch by its items (each with the envelope's request id), not the envelope.
      assert.deepEqual(requestsTo(emulator).map((call) => `${call.method} ${call.path}`), ['POST /communications/getPresencesByUserId']);
      const items = emulator.graph.calls.filter((call) => call.batchItemId !== undefined);
      assert.equal(new Set(items.map((call) => call.batchRequestId)).size, 1, 'one $batch request');
      assert.equal(items.length, 1, 'four names fit one filter');
      const [item] = items;
      assert.match(decodeURIComponent(item?.path ?? ''), /^\/users\?\$filter=userPrincipalName in \('megan\.bowen@emulator\.localhost','test\.user@emulator\.localhost',/);
      assert.match(textOf(result), /Not found \(1\): nobody@emulator\.localhost/);
    });

    test('650 names: 44 filters of 15 in 3 $batch requests (20 filters each), then one presence request', async () => {
      emulator.graph.reset();
      const upns = ['megan.bowen@emulator.localhost', ...Array.from({ length: 649 }, (_, index) => `user${index}@emulator.localhost`)];
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_presence_get', { users: upns });
      const data = result.structuredContent as unknown as Presences;
      assert.deepEqual([data.presences.length, data.notFound.length], [1, 649], textOf(result));
      const items = emulator.graph.calls.filter((call) => call.batchItemId !== undefined);
      assert.deepEqual([items.length, new Set(items.map((call) => call.batchRequestId)).size], [44, 3]);
      assert.equal(requestsTo(emulator).length, 1);
    });

    test('651 users, or a value that is neither id nor name, are refused before any request', async () => {
      emulator.graph.reset();
      for (const users of [Array.from({ length: 651 }, () => randomUUID()), ["x') or (1 eq 1"]]) {
        const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_presence_get', { users });
        assert.equal(result.isError, true);
      }
      assert.deepEqual(emulator.graph.calls, []);
    });
  });
}

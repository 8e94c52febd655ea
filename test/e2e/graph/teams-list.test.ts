import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../../../emulator/server.ts';
import { callAs, startGraphServerProcess } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * graph_teams_list through the real server against the emulated Graph, in
 * both identity modes: on behalf of the user (`/me/joinedTeams`, the user's
 * token) and app-only (`/users/<caller>/joinedTeams`, the managed identity),
 * where "me" is always the caller.
 */
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator?.close());

for (const identity of ['onBehalfOf', 'managedIdentity'] as const) {
  describe(`graph_teams_list, GRAPH_IDENTITY=${identity}`, () => {
    let server: ServerProcess;
    before(async () => {
      // ENTRA_APP_ROLE admits app-only callers to the server, so the Graph tools' own refusal of them is what is tested.
      server = await startGraphServerProcess(emulator, identity, { env: { ENTRA_APP_ROLE: 'mcp.caller' } });
    });
    after(() => server?.stop());

    test("lists the caller's teams, and Graph saw the identity it should", async () => {
      emulator.graph.reset();
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_teams_list');
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const teams = (result.structuredContent as { teams: Array<{ id: string }> }).teams.map((team) => team.id);
      assert.ok(teams.includes(SAMPLE.teams.mark8), JSON.stringify(teams));
      assert.ok(!teams.includes(SAMPLE.teams.retail), 'a team the test user is not in is not listed');
      const [call] = emulator.graph.calls.filter((entry) => entry.path.endsWith('/joinedTeams'));
      assert.ok(call, JSON.stringify(emulator.graph.calls));
      assert.equal(call.path, identity === 'onBehalfOf' ? '/me/joinedTeams' : `/users/${TEST_USER_ID}/joinedTeams`);
      const audit = server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1);
      assert.deepEqual([audit?.tool, audit?.outcome, audit?.target, audit?.downstreamIdentity], ['graph_teams_list', 'success', 'graph:/users/{caller}/joinedTeams', identity]);
    });

    test('an app-only caller (no user) is refused before anything reaches Graph', async () => {
      emulator.graph.reset();
      const appToken = await emulator.entra.mintApiToken({ kind: 'app', roles: ['mcp.caller'] });
      const result = await callAs(server, appToken, 'graph_teams_list');
      assert.equal(result.isError, true);
      assert.match(JSON.stringify(result.content), /signed-in user|on-behalf-of needs a signed-in user/);
      assert.equal(server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1)?.errorClass, 'unauthenticated');
      assert.equal(emulator.graph.calls.length, 0, 'nothing was sent to Graph');
    });
  });
}

describe('graph_teams_list with includeChannels: fan-out in $batch', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startGraphServerProcess(emulator, 'onBehalfOf');
  });
  after(() => server?.stop());

  test('k teams take ⌈k/20⌉ $batch requests; a throttled item is sent again, a failed one is reported and the rest kept', async () => {
    const tenant = emulator.graph.tenant;
    const base = tenant.teams.find((t) => t.id === SAMPLE.teams.mark8)!;
    for (let index = 0; index < 22; index++) {
      tenant.teams.push({ ...base, id: `1e2f0000-0000-4000-8000-0000000b${String(index).padStart(4, '0')}`, displayName: `Fan-out team ${index}`, channels: base.channels.slice(0, 1) });
    }
    emulator.graph.reset();
    const token = await emulator.entra.mintApiToken();
    const result = await callAs(server, token, 'graph_teams_list', { includeChannels: true });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    const teams = (result.structuredContent as { teams: Array<{ id: string; channels?: unknown[] }> }).teams;
    const k = teams.length;
    assert.ok(k > 20, `enough teams for two envelopes (${k})`);
    const envelopes = new Set(emulator.graph.calls.filter((call) => call.batchRequestId).map((call) => call.batchRequestId));
    assert.equal(envelopes.size, Math.ceil(k / 20), 'one $batch request per 20 teams');
    assert.equal(emulator.graph.calls.filter((call) => !call.batchRequestId).length, 1, 'besides the batches, only joinedTeams');
    assert.ok(teams.every((t) => Array.isArray(t.channels)));

    emulator.graph.reset();
    emulator.graph.failBatchItems({ urlPrefix: `/teams/${SAMPLE.teams.mark8}/channels`, status: 429, retryAfterSeconds: 1, times: 1 });
    emulator.graph.failBatchItems({ urlPrefix: `/teams/${SAMPLE.teams.sales}/channels`, status: 500, times: 5 });
    const partial = await callAs(server, token, 'graph_teams_list', { includeChannels: true });
    const data = partial.structuredContent as { partial: boolean; teams: Array<{ id: string; channels?: unknown[]; channelsError?: string }> };
    assert.equal(data.partial, true);
    assert.ok(data.teams.find((t) => t.id === SAMPLE.teams.mark8)?.channels, 'the throttled item was sent again and succeeded');
    assert.match(data.teams.find((t) => t.id === SAMPLE.teams.sales)?.channelsError ?? '', /HTTP 500/);
    const salesItems = emulator.graph.calls.filter((call) => call.path.startsWith(`/teams/${SAMPLE.teams.sales}/channels`));
    assert.equal(salesItems.length, 1, 'a failed (non-429) item is not retried');
    assert.deepEqual(emulator.graph.earlyRetries, [], 'the throttled item waited for its Retry-After');
    const audit = server.auditLines().filter((line) => line.event === 'mcp.tool.call').at(-1) ?? {};
    assert.equal(audit.batchFailed, 1);
    assert.equal(audit.batchRetried, 1);
  });
});

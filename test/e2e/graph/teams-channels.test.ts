import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE } from '../../../emulator/graph/sample-tenant.ts';
import { startEmulator, type Emulator } from '../../../emulator/server.ts';
import { callAs, lastToolAudit, requestsTo, startGraphServerProcess, textOf } from '../../support/graph-server.ts';
import type { ServerProcess } from '../../support/server-process.ts';

/**
 * graph_team_channels_list through the real server, in both identity modes:
 * Graph's own membership rules on behalf of the user; app-only, the server's
 * guard (a team the caller is not in is refused before its channels are
 * read, private channels are left out).
 */
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator?.close());

interface Channels {
  channels: Array<{ id: string; displayName: string; membershipType?: string }>;
  hiddenChannels?: number;
  partial: boolean;
}

for (const identity of ['onBehalfOf', 'managedIdentity'] as const) {
  describe(`graph_team_channels_list, GRAPH_IDENTITY=${identity}`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await startGraphServerProcess(emulator, identity);
    });
    after(() => server?.stop());

    test("lists a team's channels with $select, leaving out the private channel the caller is not in", async () => {
      emulator.graph.reset();
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_team_channels_list', { teamId: SAMPLE.teams.mark8 });
      assert.equal(result.isError, undefined, textOf(result));
      const data = result.structuredContent as unknown as Channels;
      const ids = data.channels.map((channel) => channel.id);
      assert.deepEqual(ids.sort(), [SAMPLE.channels.mark8Design, SAMPLE.channels.mark8General].sort());
      assert.ok(data.channels.every((channel) => channel.membershipType === 'standard'));
      assert.match(textOf(result), /^id,displayName,membershipType,description\n/);
      const [list] = requestsTo(emulator, `/teams/${SAMPLE.teams.mark8}/channels`);
      assert.equal(list?.path, `/teams/${SAMPLE.teams.mark8}/channels?$select=id%2CdisplayName%2Cdescription%2CmembershipType`);
      if (identity === 'managedIdentity') {
        // Graph would list the private channel to the app: the server leaves it out and says so.
        assert.equal(data.hiddenChannels, 1);
        assert.match(textOf(result), /1 private or shared channel\(s\) left out/);
        assert.equal(requestsTo(emulator, '/users/').filter((call) => call.path.endsWith('/joinedTeams')).length, 1, 'one membership check');
      } else {
        assert.equal(data.hiddenChannels, undefined);
        assert.equal(requestsTo(emulator).length, 1, 'delegated: one request, Graph applies membership');
      }
      const audit = lastToolAudit(server);
      assert.deepEqual([audit?.outcome, audit?.target, audit?.downstreamIdentity, String(audit?.resultRows)], ['success', 'graph:/teams/{teamId}/channels', identity, '2']);
    });

    test('a team the caller is not a member of is refused', async () => {
      emulator.graph.reset();
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_team_channels_list', { teamId: SAMPLE.teams.retail });
      assert.equal(result.isError, true);
      assert.equal(lastToolAudit(server)?.errorClass, 'permission_denied');
      if (identity === 'managedIdentity') {
        assert.match(textOf(result), /not a member of the team/);
        assert.deepEqual(requestsTo(emulator, '/teams/'), [], 'app-only: the team was never read');
      } else {
        // Graph itself refuses a delegated non-member.
        assert.equal(requestsTo(emulator, `/teams/${SAMPLE.teams.retail}/channels`)[0]?.status, 403);
      }
    });

    test('an unknown team: not found, naming graph_teams_list', async () => {
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_team_channels_list', { teamId: '1e2f0000-0000-4000-8000-0000000000ff' });
      assert.equal(result.isError, true);
      // App-only, the membership check answers before Graph could say 404.
      assert.match(textOf(result), identity === 'managedIdentity' ? /not a member/ : /graph_teams_list/);
    });

    test('a malformed team id never reaches Graph', async () => {
      emulator.graph.reset();
      const result = await callAs(server, await emulator.entra.mintApiToken(), 'graph_team_channels_list', { teamId: "x' or 1 eq 1" });
      assert.equal(result.isError, true);
      assert.deepEqual(emulator.graph.calls, []);
    });
  });
}

import type { GraphCallRecord } from '../emulator/graph/service.ts';
import { GRAPH_SAMPLE_NOW } from '../emulator/graph/sample-tenant.ts';
import type { Channel, GraphUser, Team } from '../emulator/graph/store.ts';
import { graphToolPermissions } from '../emulator/sandbox.ts';
import { startEmulator, TEST_USER_ID, type Emulator } from '../emulator/server.ts';
import { startGraphServerProcess } from '../test/support/graph-server.ts';
import { startEntraServerProcess, type ServerProcess } from '../test/support/server-process.ts';
import { MCP_HEADERS } from './server-process.ts';

/**
 * Microsoft Graph figures through the real server process (GRAPH_IDENTITY=onBehalfOf, entra
 * mode) against the emulated Graph, for the budgets: Graph requests per tool call
 * (counted by the emulator: each top-level request, and each `$batch` envelope once) and p50
 * latency, for presence of 650 users, listing 1,000 channel messages (every page, following
 * cursors), the channel fan-out over k teams, and graph_teams_list as the baseline; beside them,
 * cold start with Graph on versus off (process start → first authenticated tools/list).
 * A tool that is not in tools/list yet is reported as not available, not measured.
 */

const PRESENCE_USERS = 650;
const CHANNEL_MESSAGES = 1000;
/** Teams added for the fan-out, beside the test user's own in the sample tenant. */
const EXTRA_TEAMS = 45;
/** GRAPH_MAX_ITEMS at its maximum, so 1,000 messages take the fewest calls. */
const MAX_ITEMS = 200;

export interface GraphFigure {
  /** The tool measured, and whether the server offers it. */
  tool: string;
  available: boolean;
  note?: string;
  /** Graph HTTP requests of one operation (the same on every run; the largest is kept). */
  requests?: number;
  /** The budget for `requests`. */
  budget?: number;
  items?: number;
  /** Tool calls of one operation (more than one when it follows cursors). */
  toolCalls?: number;
  p50Ms?: number;
  runs?: number;
}

/** HTTP requests Graph received: each top-level call once, each `$batch` envelope once (its items are not requests). */
export function graphRequests(calls: readonly GraphCallRecord[]): number {
  return calls.filter((call) => call.batchItemId === undefined).length + new Set(calls.flatMap((call) => (call.batchRequestId ? [call.batchRequestId] : []))).size;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

interface ToolAnswer {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

let rpcId = 0;
async function callTool(server: ServerProcess, token: string, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const response = await fetch(server.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name, arguments: args } }),
  });
  const body = (await response.json()) as { result?: ToolAnswer; error?: { message: string } };
  if (!body.result) throw new Error(`${name}: ${body.error?.message ?? response.status}`);
  if (body.result.isError) throw new Error(`${name}: ${body.result.content.map((c) => c.text).join(' ')}`);
  return body.result;
}

async function listTools(server: ServerProcess, token: string): Promise<Array<{ name: string; inputSchema?: { properties?: Record<string, unknown> } }>> {
  const response = await fetch(server.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/list', params: {} }) });
  const body = (await response.json()) as { result: { tools: Array<{ name: string; inputSchema?: { properties?: Record<string, unknown> } }> } };
  return body.result.tools;
}

/** Runs `operation` `runs` times (after one warm-up); each run's Graph requests are counted from the emulator's calls. */
async function measure(emulator: Emulator, runs: number, operation: () => Promise<{ items: number; toolCalls: number }>): Promise<Pick<GraphFigure, 'requests' | 'items' | 'toolCalls' | 'p50Ms' | 'runs'>> {
  await operation();
  const times: number[] = [];
  let requests = 0;
  let last = { items: 0, toolCalls: 0 };
  for (let i = 0; i < runs; i++) {
    emulator.graph.reset();
    const started = performance.now();
    last = await operation();
    times.push(performance.now() - started);
    requests = Math.max(requests, graphRequests(emulator.graph.calls));
  }
  return { requests, ...last, p50Ms: median(times), runs };
}

/** The bench's additions to the sample tenant: 650 users with presence, a team whose channel holds 1,000 messages, and more teams for the fan-out. */
function seedTenant(emulator: Emulator): { userIds: string[]; team: string; channel: string } {
  const tenant = emulator.graph.tenant;
  const availability = ['Available', 'Busy', 'Away', 'DoNotDisturb', 'Offline'];
  const userIds: string[] = [];
  for (let i = 0; i < PRESENCE_USERS; i++) {
    const id = `b3c40000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const state = availability[i % availability.length]!;
    const user: GraphUser = {
      id, displayName: `Bench User ${i}`, givenName: 'Bench', surname: `User ${i}`, userPrincipalName: `bench.user${i}@${tenant.domain}`, mail: `bench.user${i}@${tenant.domain}`,
      jobTitle: null, department: null, officeLocation: null, businessPhones: [], mobilePhone: null, preferredLanguage: 'en-US', accountEnabled: true,
      presence: { availability: state, activity: state },
    };
    tenant.users.push(user);
    userIds.push(id);
  }
  const created = new Date(GRAPH_SAMPLE_NOW - 30 * 86_400_000).toISOString();
  const newTeam = (n: number, channels: Channel[]): Team => ({
    id: `b3c4aaaa-0000-4000-8000-${String(n).padStart(12, '0')}`, displayName: `Bench team ${n}`, description: null, visibility: 'private', isArchived: false, createdDateTime: created,
    members: [{ id: `member-${n}`, userId: TEST_USER_ID, roles: ['owner'] }], channels, migrationMode: false,
  });
  const newChannel = (n: number, name: string): Channel => ({
    id: `19:bench${String(n).padStart(6, '0')}${name.toLowerCase()}@thread.tacv2`, displayName: name, description: null, membershipType: 'standard', createdDateTime: created, memberIds: [], messages: [],
  });
  const busy = newTeam(0, [newChannel(0, 'General')]);
  tenant.teams.push(busy);
  const channel = busy.channels[0]!;
  for (let i = CHANNEL_MESSAGES; i > 0; i--) {
    tenant.addChannelMessage(busy.id, channel.id, { fromUserId: userIds[i % userIds.length]!, content: `<p>Bench message <b>${i}</b> with a little <i>formatting</i>.</p>`, createdDateTime: new Date(GRAPH_SAMPLE_NOW - i * 60_000).toISOString() });
  }
  for (let n = 1; n < EXTRA_TEAMS; n++) tenant.teams.push(newTeam(n, [newChannel(n, 'General'), newChannel(n, 'Planning')]));
  return { userIds, team: busy.id, channel: channel.id };
}

/** Process start → first authenticated tools/list answered, Graph on and off, interleaved; medians. */
async function coldStart(emulator: Emulator, runs: number) {
  const samples = { on: [] as number[], off: [] as number[] };
  const token = await emulator.entra.mintApiToken();
  for (let i = -1; i < runs; i++) {
    for (const graph of ['off', 'on'] as const) {
      const started = performance.now();
      const server = await startEntraServerProcess(emulator, graph === 'on' ? { GRAPH_IDENTITY: 'onBehalfOf' } : {});
      await listTools(server, token);
      const ms = performance.now() - started;
      await server.stop();
      if (i >= 0) samples[graph].push(ms);
    }
  }
  return { graphOffMedianMs: median(samples.off), graphOnMedianMs: median(samples.on), runs, samplesMs: samples };
}

export async function measureGraph(quick = false) {
  const runs = quick ? 3 : 15;
  const emulator = await startEmulator();
  const seeded = seedTenant(emulator);
  const server = await startGraphServerProcess(emulator, 'onBehalfOf', {
    permissions: ['User.Read', ...graphToolPermissions('delegated')],
    // The per-caller rate limit off: the bench is one caller making many calls on purpose.
    env: { GRAPH_MAX_ITEMS: String(MAX_ITEMS), MCP_RATE_LIMIT_PER_MINUTE: '0' },
  });
  try {
    const token = await emulator.entra.mintApiToken();
    const tools = new Map((await listTools(server, token)).map((tool) => [tool.name, tool]));
    const unavailable = (tool: string, note = 'tool not available (not in tools/list yet)'): GraphFigure => ({ tool, available: false, note });

    const teamsList: GraphFigure = tools.has('graph_teams_list')
      ? {
          tool: 'graph_teams_list',
          available: true,
          budget: 1,
          ...(await measure(emulator, runs, async () => {
            const answer = await callTool(server, token, 'graph_teams_list', {});
            return { items: (answer.structuredContent?.teams as unknown[]).length, toolCalls: 1 };
          })),
        }
      : unavailable('graph_teams_list');

    const presence: GraphFigure = tools.has('graph_presence_get')
      ? {
          tool: 'graph_presence_get',
          available: true,
          budget: 1,
          ...(await measure(emulator, runs, async () => {
            const answer = await callTool(server, token, 'graph_presence_get', { users: seeded.userIds });
            const found = (answer.structuredContent?.presences as unknown[] | undefined)?.length ?? 0;
            if (found !== PRESENCE_USERS) throw new Error(`graph_presence_get answered ${found} presences for ${PRESENCE_USERS} users`);
            return { items: found, toolCalls: 1 };
          })),
        }
      : unavailable('graph_presence_get');

    const messages: GraphFigure = tools.has('graph_channel_messages_list')
      ? {
          tool: 'graph_channel_messages_list',
          available: true,
          budget: 20,
          note: `all ${CHANNEL_MESSAGES} messages of one channel, following nextCursor, GRAPH_MAX_ITEMS=${MAX_ITEMS}`,
          ...(await measure(emulator, quick ? 2 : 5, async () => {
            const seen = new Set<string>();
            let cursor: string | undefined;
            let toolCalls = 0;
            do {
              const answer = await callTool(server, token, 'graph_channel_messages_list', { teamId: seeded.team, channelId: seeded.channel, limit: MAX_ITEMS, ...(cursor && { cursor }) });
              toolCalls++;
              for (const message of (answer.structuredContent?.messages as Array<{ id: string }>) ?? []) seen.add(message.id);
              cursor = answer.structuredContent?.nextCursor as string | undefined;
            } while (cursor && toolCalls < 100);
            if (seen.size !== CHANNEL_MESSAGES) throw new Error(`graph_channel_messages_list returned ${seen.size} distinct messages of ${CHANNEL_MESSAGES}`);
            return { items: seen.size, toolCalls };
          })),
        }
      : unavailable('graph_channel_messages_list');

    // The fan-out: graph_teams_list with includeChannels reads every team's channels in $batch envelopes of 20.
    const fanOutAvailable = tools.get('graph_teams_list')?.inputSchema?.properties?.includeChannels !== undefined;
    let fanOut: GraphFigure & { teams?: number; fanOutRequests?: number } = unavailable('graph_teams_list includeChannels', 'channel fan-out not available (graph_teams_list has no includeChannels yet)');
    if (fanOutAvailable) {
      let teams = 0;
      const figure = await measure(emulator, runs, async () => {
        const answer = await callTool(server, token, 'graph_teams_list', { includeChannels: true });
        const listed = answer.structuredContent?.teams as Array<{ channels?: unknown[]; channelsError?: string }>;
        const failed = listed.filter((team) => team.channels === undefined);
        if (failed.length > 0) throw new Error(`channels missing for ${failed.length} teams: ${failed[0]?.channelsError ?? ''}`);
        teams = listed.length;
        return { items: listed.reduce((sum, team) => sum + (team.channels?.length ?? 0), 0), toolCalls: 1 };
      });
      // One request lists the teams (joinedTeams); the rest is the fan-out.
      fanOut = { tool: 'graph_teams_list includeChannels', available: true, teams, ...figure, fanOutRequests: (figure.requests ?? 0) - 1, budget: Math.ceil(teams / 20), note: `k = ${teams} teams; budget is for the fan-out, plus 1 request listing the teams` };
    }

    await server.stop();
    const cold = await coldStart(emulator, quick ? 3 : 7);
    return { teamsList, presence, messages, fanOut, coldStart: cold };
  } finally {
    await server.stop();
    await emulator.close();
  }
}

// `node --import tsx bench/graph.ts [--quick]`: these figures alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureGraph(process.argv.includes('--quick')), null, 2));
}

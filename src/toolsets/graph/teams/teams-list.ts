import { z } from 'zod';
import { batchAuditSummary, runBatch } from '../../../graph/batch.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphPermissions } from '../common.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Team.ReadBasic.All'], application: ['Team.ReadBasic.All'] };
/** With `includeChannels`: listing a team's channels needs this as well. */
const CHANNEL_PERMISSIONS: GraphPermissions = { delegated: ['Team.ReadBasic.All', 'Channel.ReadBasic.All'], application: ['Team.ReadBasic.All', 'Channel.ReadBasic.All'] };

const channel = z.object({ id: z.string(), displayName: z.string(), membershipType: z.string().optional() });
const team = z.object({
  id: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
  isArchived: z.boolean().optional(),
  channels: z.array(channel).optional(),
  /** Why this team's channels are missing (its request failed; other teams' did not). */
  channelsError: z.string().optional(),
});
const output = z.object({ teams: z.array(team), count: z.number(), partial: z.boolean() });

interface JoinedTeam {
  id: string;
  displayName?: string | null;
  description?: string | null;
  isArchived?: boolean | null;
}

interface ChannelItem {
  id: string;
  displayName?: string | null;
  membershipType?: string | null;
}

export const graphTeamsList = defineGraphTool({
  name: 'graph_teams_list',
  title: 'List my teams',
  description:
    'List the Microsoft Teams teams the signed-in user is a member of: id, name, description, archived. ' +
    'With includeChannels, also each team\'s channels (fetched together in $batch requests: one Graph request per 20 teams). ' +
    'Use a team id with graph_team_channels_list, then graph_channel_messages_list. To find a team from a pasted Teams link, use graph_teams_link_resolve instead.',
  summary: 'Teams the caller is a member of (optionally with their channels)',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      includeChannels: z.boolean().optional().describe("Also list each team's channels (one extra Graph request per 20 teams). Default false."),
    })
    .strict(),
  output,
  handler: (args, ctx) =>
    withGraph(ctx, { target: '/users/{caller}/joinedTeams', permissions: args.includeChannels ? CHANNEL_PERMISSIONS : PERMISSIONS }, async (session) => {
      // joinedTeams takes no query options and is not paged: one request, every team.
      const page = (await session.client.api(`/${session.me}/joinedTeams`).option('signal', ctx.signal).get()) as { value?: JoinedTeam[] };
      const teams: Array<z.infer<typeof team>> = (page.value ?? []).map((item) => ({
        id: item.id,
        displayName: item.displayName ?? '',
        ...(item.description && { description: item.description }),
        ...(typeof item.isArchived === 'boolean' && { isArchived: item.isArchived }),
      }));
      let partial = false;
      let batchAudit: ReturnType<typeof batchAuditSummary> | undefined;
      if (args.includeChannels && teams.length > 0) {
        // Fan-out in $batch (20 per envelope); only throttled items are sent again, a failed team is reported, not fatal.
        const batch = await runBatch(
          teams.map((t) => ({ key: t.id, method: 'GET' as const, url: `/teams/${encodeURIComponent(t.id)}/channels${odataQuery({ $select: 'id,displayName,membershipType' })}` })),
          { client: session.client, signal: ctx.signal },
        );
        for (const outcome of batch.outcomes) {
          const target = teams.find((t) => t.id === outcome.key);
          if (!target) continue;
          if (outcome.status >= 200 && outcome.status < 300) {
            const items = ((outcome.body as { value?: ChannelItem[] } | undefined)?.value ?? []).map((c) => ({ id: c.id, displayName: c.displayName ?? '', ...(c.membershipType && { membershipType: c.membershipType }) }));
            target.channels = items;
          } else {
            partial = true;
            target.channelsError = `HTTP ${outcome.status}${outcome.error?.code ? ` ${outcome.error.code}` : ''}${outcome.error?.requestId ? ` (request ${outcome.error.requestId})` : ''}`;
          }
        }
        batchAudit = batchAuditSummary(batch);
      }
      const rows = teams.flatMap((t) =>
        args.includeChannels && t.channels
          ? t.channels.map((c) => csvLine([t.id, t.displayName, t.isArchived, c.id, c.displayName, c.membershipType]))
          : [csvLine(args.includeChannels ? [t.id, t.displayName, t.isArchived, '', t.channelsError ? `(channels not read: ${t.channelsError})` : '', ''] : [t.id, t.displayName, t.isArchived, t.description])],
      );
      const header = args.includeChannels ? 'teamId,teamName,isArchived,channelId,channelName,membershipType' : 'id,displayName,isArchived,description';
      const note = partial ? '\nSome teams\' channels could not be read (channelsError): the list of channels is partial.' : '';
      return jsonResult({ teams, count: teams.length, partial }, `${[header, ...rows].join('\n')}${note}`, {
        resultRows: teams.length,
        ...(partial && { truncated: true }),
        ...(batchAudit && { batch: batchAudit }),
      });
    }),
});

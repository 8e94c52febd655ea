import { z } from 'zod';
import { graphResource, teamIdSchema } from '../../../graph/ids.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { collectPages } from '../../../graph/paging.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphPermissions } from '../common.ts';
import { appOnlyTeamRefusal, readableAppOnly } from './team-access.ts';

/** Team.ReadBasic.All for the app-only membership check (joinedTeams). */
const PERMISSIONS: GraphPermissions = { delegated: ['Channel.ReadBasic.All'], application: ['Channel.ReadBasic.All', 'Team.ReadBasic.All'] };
const TEMPLATE = '/teams/{teamId}/channels';
/** Teams allows at most 1,000 channels per team (deleted ones included); one call reads them all. */
const MAX_CHANNELS = 1000;

const channel = z.object({ id: z.string(), displayName: z.string(), description: z.string().optional(), membershipType: z.string().optional() });
const output = z.object({
  teamId: z.string(),
  channels: z.array(channel),
  count: z.number(),
  /** App-only: private and shared channels left out (membership cannot be checked). */
  hiddenChannels: z.number().optional(),
  partial: z.boolean(),
});

interface GraphChannel {
  id: string;
  displayName?: string | null;
  description?: string | null;
  membershipType?: string | null;
}

export const graphTeamChannelsList = defineGraphTool({
  name: 'graph_team_channels_list',
  title: 'List the channels of a team',
  description:
    'List the channels of one Microsoft Teams team: id, name, description and membershipType (standard, private or shared). ' +
    'Get the teamId from graph_teams_list (or from a pasted link with graph_teams_link_resolve); use a channel id with graph_channel_messages_list. ' +
    'Only channels the signed-in user can see are listed.',
  summary: 'Channels of a team',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ teamId: teamIdSchema.describe('The team id (a GUID) from graph_teams_list.') }).strict(),
  output,
  handler: ({ teamId }, ctx) =>
    withGraph(ctx, { target: TEMPLATE, permissions: PERMISSIONS, findWith: 'graph_teams_list' }, async (session) => {
      const refused = await appOnlyTeamRefusal(ctx, session, { teamId });
      if (refused) return refused;
      const resource = graphResource(TEMPLATE, { teamId });
      const collected = await collectPages<GraphChannel>({
        client: session.client,
        endpoint: ctx.services.endpoint,
        cursors: ctx.services.cursors,
        scope: { caller: ctx.caller, tool: 'graph_team_channels_list', resource: resource.path },
        firstPage: `${resource.path}${odataQuery({ $select: ['id', 'displayName', 'description', 'membershipType'] })}`,
        limit: MAX_CHANNELS,
        signal: ctx.signal,
      });
      const appOnly = session.identity === 'managedIdentity';
      const readable = collected.items.filter((item) => !appOnly || readableAppOnly(item.membershipType));
      const hidden = collected.items.length - readable.length;
      const channels = readable.map((item) => ({
        id: item.id,
        displayName: item.displayName ?? '',
        ...(item.description && { description: item.description }),
        ...(item.membershipType && { membershipType: item.membershipType }),
      }));
      const notes = [
        ...(hidden > 0 ? [`${hidden} private or shared channel(s) left out: this server reads Teams as its own identity (app-only) and cannot tell whether you are a member of them.`] : []),
        ...(collected.partial ? ['The list is incomplete: Graph did not return every page of channels; call again.'] : []),
      ];
      const text = ['id,displayName,membershipType,description', ...channels.map((c) => csvLine([c.id, c.displayName, c.membershipType, c.description])), ...notes].join('\n');
      return jsonResult(
        { teamId, channels, count: channels.length, ...(hidden > 0 && { hiddenChannels: hidden }), partial: collected.partial },
        text,
        { resultRows: channels.length, truncated: collected.partial },
      );
    }),
});

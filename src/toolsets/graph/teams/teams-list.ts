import { z } from 'zod';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphPermissions } from '../common.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Team.ReadBasic.All'], application: ['Team.ReadBasic.All'] };

const team = z.object({ id: z.string(), displayName: z.string(), description: z.string().optional(), isArchived: z.boolean().optional() });
const output = z.object({ teams: z.array(team), count: z.number() });

interface JoinedTeam {
  id: string;
  displayName?: string | null;
  description?: string | null;
  isArchived?: boolean | null;
}

export const graphTeamsList = defineGraphTool({
  name: 'graph_teams_list',
  title: 'List my teams',
  description:
    'List the Microsoft Teams teams the signed-in user is a member of: id, name, description, archived. ' +
    'Use a team id with graph_team_channels_list, then graph_channel_messages_list. To find a team from a pasted Teams link, use graph_teams_link_resolve instead.',
  summary: 'Teams the caller is a member of',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}).strict(),
  output,
  handler: (_args, ctx) =>
    withGraph(ctx, { target: '/users/{caller}/joinedTeams', permissions: PERMISSIONS }, async (session) => {
      // joinedTeams takes no query options and is not paged: one request, every team.
      const page = (await session.client.api(`/${session.me}/joinedTeams`).option('signal', ctx.signal).get()) as { value?: JoinedTeam[] };
      const teams = (page.value ?? []).map((item) => ({
        id: item.id,
        displayName: item.displayName ?? '',
        ...(item.description && { description: item.description }),
        ...(typeof item.isArchived === 'boolean' && { isArchived: item.isArchived }),
      }));
      const text = ['id,displayName,isArchived,description', ...teams.map((t) => csvLine([t.id, t.displayName, t.isArchived, t.description]))].join('\n');
      return jsonResult({ teams, count: teams.length }, text, { resultRows: teams.length });
    }),
});

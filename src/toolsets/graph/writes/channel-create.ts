import { z } from 'zod';
import { graphResource, teamIdSchema } from '../../../graph/ids.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, writeOutput } from './write-schemas.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Channel.Create'], application: ['Channel.Create'] };
const TEMPLATE = '/teams/{teamId}/channels';

// Teams' rules for channel names: at most 50 characters, none of ~ # % & * { } + / \ : < > ? | ' " , and no leading _ or . nor trailing .
const FORBIDDEN = /[~#%&*{}+/\\:<>?|'",]/;
const channelName = z
  .string()
  .trim()
  .min(1)
  .max(50, { error: 'must be at most 50 characters (a Teams limit)' })
  .refine((name) => !FORBIDDEN.test(name) && !/^[_.]/.test(name) && !name.endsWith('.') && !name.includes('..'), {
    error: 'must not contain ~ # % & * { } + / \\ : < > ? | \' " , or "..", start with _ or ., or end with . (Teams rules)',
  });

const input = z
  .object({
    teamId: teamIdSchema,
    displayName: channelName,
    description: z.string().trim().max(1024).optional(),
    membershipType: z.enum(['standard', 'private', 'shared']).default('standard').describe('standard (default): everyone in the team; private or shared: only the members added (you become the owner).'),
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['created'], { channelId: z.string().optional(), webUrl: z.string().optional(), membershipType: z.string().optional() });

export const graphChannelCreate = defineGraphTool({
  name: 'graph_channel_create',
  title: 'Create a channel',
  description:
    'Create a channel in a Microsoft Teams team: displayName (at most 50 characters), optional description, membershipType standard (default), private or shared. ' +
    'Returns the channel id, for graph_channel_message_send. A channel name already used in the team is reported as a conflict. ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token.',
  summary: 'Create a channel in a team',
  toolset: 'graph.admin',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input,
  output,
  sensitiveArguments: ['description', 'confirmationToken'],
  handler: (args, ctx) => {
    const resource = graphResource(TEMPLATE, { teamId: args.teamId });
    return runWrite(ctx, {
      tool: 'graph_channel_create',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST', findWith: 'graph_teams_list' },
      howToCheck: 'Look at the team\'s channels in Teams (or graph_team_channels_list) for a channel of this name.',
      async prepare(session) {
        // App-only, Graph needs an owner for a private or shared channel: the caller ("me"), never someone they name.
        const owner = args.membershipType !== 'standard' && session.identity === 'managedIdentity'
          ? [{ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': `${ctx.services.endpoint.root}/users('${session.userId}')` }]
          : undefined;
        const request = { displayName: args.displayName, ...(args.description && { description: args.description }), membershipType: args.membershipType, ...(owner && { members: owner }) };
        const text = [`Name: ${args.displayName}`, `Membership: ${args.membershipType}`, ...(args.description ? [`Description: ${args.description}`] : [])].join('\n');
        return { request, preview: { action: 'Create this channel', where: `in team ${args.teamId}`, text, request: { method: 'POST', path: resource.path, body: request } } };
      },
      async send(session, request) {
        const channel = (await session.client.api(resource.path).option('signal', ctx.signal).post(request)) as { id: string; webUrl?: string | null; membershipType?: string | null };
        return jsonResult(
          { status: 'created', channelId: channel.id, ...(channel.webUrl && { webUrl: channel.webUrl }), membershipType: channel.membershipType ?? args.membershipType },
          `Created channel ${channel.id} ("${args.displayName}", ${channel.membershipType ?? args.membershipType}) in team ${args.teamId}.`,
          { resultRows: 1 },
        );
      },
    });
  },
});

import { z } from 'zod';
import { graphResource, teamIdSchema, userRefSchema } from '../../../graph/ids.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, writeOutput } from './write-schemas.ts';

// TeamMember.ReadWriteNonOwnerRole.All adds members but not owners; TeamMember.ReadWrite.All adds both.
const PERMISSIONS: GraphPermissions = { delegated: ['TeamMember.ReadWriteNonOwnerRole.All', 'TeamMember.ReadWrite.All'], application: ['TeamMember.ReadWriteNonOwnerRole.All', 'TeamMember.ReadWrite.All'] };
const TEMPLATE = '/teams/{teamId}/members';

const input = z
  .object({
    teamId: teamIdSchema,
    user: userRefSchema.describe('The user to add: object id or user principal name (ada@contoso.com).'),
    role: z.enum(['member', 'owner']).default('member'),
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['added'], { membershipId: z.string().optional(), userId: z.string().optional(), roles: z.array(z.string()).optional() });

/** `users('<key>')` as OData writes a key: single quotes doubled, then percent-encoded as part of a URL. */
const userBind = (root: string, user: string) => `${root}/users('${encodeURIComponent(user.replace(/'/g, "''"))}')`;

export const graphTeamMemberAdd = defineGraphTool({
  name: 'graph_team_member_add',
  title: 'Add a team member',
  description:
    'Add a user to a Microsoft Teams team as member (default) or owner. user is an object id or a user principal name (find people with graph_users_search). ' +
    'On behalf of a user, only team owners can add members. Adding owners needs TeamMember.ReadWrite.All. A user who is already a member is reported as a conflict. ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token.',
  summary: 'Add a member or owner to a team',
  toolset: 'graph.admin',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input,
  output,
  sensitiveArguments: ['confirmationToken'],
  handler: (args, ctx) => {
    const resource = graphResource(TEMPLATE, { teamId: args.teamId });
    return runWrite(ctx, {
      tool: 'graph_team_member_add',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST', findWith: 'graph_teams_list' },
      howToCheck: 'Look at the team\'s members in Teams.',
      async prepare() {
        const request = { '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: args.role === 'owner' ? ['owner'] : [], 'user@odata.bind': userBind(ctx.services.endpoint.root, args.user) };
        return { request, preview: { action: `Add ${args.user} as ${args.role}`, where: `to team ${args.teamId}`, text: `User: ${args.user}\nRole: ${args.role}`, request: { method: 'POST', path: resource.path, body: request } } };
      },
      async send(session, request) {
        const member = (await session.client.api(resource.path).option('signal', ctx.signal).post(request)) as { id: string; userId?: string | null; roles?: string[] | null };
        const roles = member.roles ?? [];
        return jsonResult(
          { status: 'added', membershipId: member.id, ...(member.userId && { userId: member.userId }), roles },
          `Added ${args.user} to team ${args.teamId} as ${roles.includes('owner') ? 'owner' : 'member'} (membership ${member.id}).`,
          { resultRows: 1 },
        );
      },
    });
  },
});

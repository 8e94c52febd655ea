import { z } from 'zod';
import { guidSchema } from '../../../graph/ids.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { toolError } from '../../../tools/define-tool.ts';
import { pollTeamCreation, postForLocation } from './team-operation.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, writeOutput } from './write-schemas.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Team.Create'], application: ['Team.Create'] };
const TEMPLATE = '/teams';

const input = z
  .object({
    displayName: z.string().trim().min(1).max(256),
    description: z.string().trim().max(1024).optional(),
    visibility: z.enum(['private', 'public']).default('private').describe('private (default): members only; public: anyone in the organization can join.'),
    ownerUserIds: z.array(guidSchema).max(20).optional().describe('Object ids of users to make owners (from graph_users_search). Required when the server acts as its own identity (app-only); on behalf of a user, that user is an owner anyway.'),
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['created', 'pending'], {
  teamId: z.string().optional(),
  operationId: z.string().optional(),
  operationStatus: z.string().optional(),
});

export const graphTeamCreate = defineGraphTool({
  name: 'graph_team_create',
  title: 'Create a team',
  description:
    'Create a Microsoft Teams team (with its General channel). Creation is asynchronous: the tool waits a few seconds for it and returns status "created" with the team id, ' +
    'or "pending" with the team id and operation id when provisioning takes longer (the team then appears in graph_teams_list within minutes; do not create it again). ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token.',
  summary: 'Create a Teams team',
  toolset: 'graph.admin',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input,
  output,
  sensitiveArguments: ['description', 'confirmationToken'],
  handler: (args, ctx) =>
    runWrite(ctx, {
      tool: 'graph_team_create',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST' },
      howToCheck: 'Call graph_teams_list (or look in Teams) for a team of this name.',
      async prepare(session) {
        const owners = [...new Set((args.ownerUserIds ?? []).map((id) => id.toLowerCase()))];
        // Graph answers 400 to an app-only creation without an owner: said before sending anything.
        if (session.identity === 'managedIdentity' && owners.length === 0) {
          return toolError({
            message: 'Creating a team as the server\'s own identity (app-only) needs at least one owner in ownerUserIds; Graph refuses it otherwise. Nothing was sent.',
            nextStep: 'Call again with ownerUserIds (the object ids of the owners; your own is fine).',
            errorClass: 'invalid_arguments',
          });
        }
        const root = ctx.services.endpoint.root;
        const request = {
          'template@odata.bind': `${root}/teamsTemplates('standard')`,
          displayName: args.displayName,
          ...(args.description && { description: args.description }),
          visibility: args.visibility,
          ...(owners.length && {
            members: owners.map((id) => ({ '@odata.type': '#microsoft.graph.aadUserConversationMember', roles: ['owner'], 'user@odata.bind': `${root}/users('${id}')` })),
          }),
        };
        const lines = [`Name: ${args.displayName}`, `Visibility: ${args.visibility}`, ...(args.description ? [`Description: ${args.description}`] : []), ...(owners.length ? [`Owners: ${owners.join(', ')}`] : [])];
        return { request, preview: { action: 'Create this team', where: 'in Microsoft Teams', text: lines.join('\n'), request: { method: 'POST', path: TEMPLATE, body: request } } };
      },
      async send(session, request) {
        const accepted = await postForLocation(session.client, TEMPLATE, request, ctx.signal);
        const outcome = await pollTeamCreation(session.client, accepted, ctx.signal);
        if (outcome.status === 'failed') {
          return toolError({
            message: `Microsoft Graph could not create the team (operation ${outcome.operationId}: ${outcome.error ?? 'no reason given'}).`,
            nextStep: 'Check the name and owners, then try again; if it keeps failing, an admin checks the Teams service health.',
            errorClass: 'upstream_error',
          });
        }
        if (outcome.status === 'succeeded') {
          return jsonResult({ status: 'created', teamId: outcome.teamId, operationId: outcome.operationId, operationStatus: 'succeeded' }, `Created team ${outcome.teamId} ("${args.displayName}").`, { resultRows: 1 });
        }
        return jsonResult(
          { status: 'pending', teamId: outcome.teamId, operationId: outcome.operationId, operationStatus: outcome.status },
          `Team "${args.displayName}" is still being created (operation ${outcome.operationId}: ${outcome.status}); its id will be ${outcome.teamId}. It appears in graph_teams_list once ready, usually within minutes. Do not create it again.`,
          { resultRows: 0 },
        );
      },
    }),
});

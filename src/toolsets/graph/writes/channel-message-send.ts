import { z } from 'zod';
import { channelIdSchema, graphResource, teamIdSchema, teamsMessageIdSchema } from '../../../graph/ids.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { outgoingBody, sentMarker, TEAMS_MESSAGE_MAX_BYTES } from './outgoing-body.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, formatInput, messageContentInput, writeOutput } from './write-schemas.ts';

// Delegated only: Graph lets applications post only into teams in migration mode (Teamwork.Migrate.All).
const PERMISSIONS: GraphPermissions = { delegated: ['ChannelMessage.Send'], application: [] };

const input = z
  .object({
    teamId: teamIdSchema,
    channelId: channelIdSchema,
    content: messageContentInput,
    format: formatInput,
    replyToMessageId: teamsMessageIdSchema.optional().describe('Reply in the thread of this root message (its id from a channel message list) instead of starting a new thread.'),
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['sent'], { messageId: z.string().optional(), webUrl: z.string().optional(), createdDateTime: z.string().optional() });

interface PostedMessage {
  id: string;
  webUrl?: string | null;
  createdDateTime?: string | null;
}

export const graphChannelMessageSend = defineGraphTool({
  name: 'graph_channel_message_send',
  title: 'Post a channel message',
  description:
    'Post a message to a Microsoft Teams channel as the signed-in user, or reply in a thread (replyToMessageId). ' +
    'Give teamId and channelId (from graph_teams_list and graph_team_channels_list, or graph_teams_link_resolve for a pasted link). ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token. ' +
    'Returns the new message id and link. Works only when the server acts for the signed-in user (on-behalf-of).',
  summary: 'Post a message or thread reply to a Teams channel',
  toolset: 'graph.send',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input,
  output,
  sensitiveArguments: ['content', 'confirmationToken'],
  handler: (args, ctx) => {
    const reply = args.replyToMessageId !== undefined;
    const template = reply ? '/teams/{teamId}/channels/{channelId}/messages/{messageId}/replies' : '/teams/{teamId}/channels/{channelId}/messages';
    const resource = graphResource(template, { teamId: args.teamId, channelId: args.channelId, ...(reply && { messageId: args.replyToMessageId! }) });
    return runWrite(ctx, {
      tool: 'graph_channel_message_send',
      args,
      call: { target: template, permissions: PERMISSIONS, method: 'POST', findWith: 'graph_team_channels_list' },
      delegatedOnly: 'Posting a channel message',
      howToCheck: 'Look at the channel in Teams (or list its recent messages, if you have the read tools) for this message.',
      async prepare() {
        const body = await outgoingBody(args.content, args.format, sentMarker(ctx.services.settings.sentMarker, ctx.caller), TEAMS_MESSAGE_MAX_BYTES);
        const request = { body: { contentType: 'html', content: body.html } };
        // Ids only: naming the team or channel would need read permissions a send-only grant does not bring.
        const where = `${reply ? `as a reply to message ${args.replyToMessageId} ` : ''}in channel ${args.channelId} of team ${args.teamId}`;
        return { request, preview: { action: reply ? 'Post this reply' : 'Post this message', where, text: body.previewText, request: { method: 'POST', path: resource.path, body: request } } };
      },
      async send(session, request) {
        const posted = (await session.client.api(resource.path).option('signal', ctx.signal).post(request)) as PostedMessage;
        const text = `Posted message ${posted.id} ${reply ? `as a reply to ${args.replyToMessageId}` : 'in the channel'}.${posted.webUrl ? ` Link: ${posted.webUrl}` : ''}`;
        return jsonResult(
          { status: 'sent', messageId: posted.id, ...(posted.webUrl && { webUrl: posted.webUrl }), ...(posted.createdDateTime && { createdDateTime: posted.createdDateTime }) },
          text,
          { resultRows: 1 },
        );
      },
    });
  },
});

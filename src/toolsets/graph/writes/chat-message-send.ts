import { z } from 'zod';
import { chatIdSchema, graphResource } from '../../../graph/ids.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { outgoingBody, sentMarker, TEAMS_MESSAGE_MAX_BYTES } from './outgoing-body.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, formatInput, messageContentInput, writeOutput } from './write-schemas.ts';

// Delegated only: as for channels, Graph lets applications post chat messages only for migration.
const PERMISSIONS: GraphPermissions = { delegated: ['ChatMessage.Send'], application: [] };
const TEMPLATE = '/chats/{chatId}/messages';

const input = z
  .object({
    chatId: chatIdSchema,
    content: messageContentInput,
    format: formatInput,
    confirmationToken: confirmationTokenInput,
  })
  .strict();

const output = writeOutput(['sent'], { messageId: z.string().optional(), createdDateTime: z.string().optional() });

export const graphChatMessageSend = defineGraphTool({
  name: 'graph_chat_message_send',
  title: 'Send a chat message',
  description:
    'Send a message in a Microsoft Teams chat (one-to-one, group or meeting chat) as the signed-in user. ' +
    'Give the chatId (from graph_chats_list, or graph_teams_link_resolve for a pasted link). ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token. ' +
    'Returns the new message id. Works only when the server acts for the signed-in user (on-behalf-of).',
  summary: 'Send a message in a Teams chat',
  toolset: 'graph.send',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input,
  output,
  sensitiveArguments: ['content', 'confirmationToken'],
  handler: (args, ctx) => {
    const resource = graphResource(TEMPLATE, { chatId: args.chatId });
    return runWrite(ctx, {
      tool: 'graph_chat_message_send',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST', findWith: 'graph_chats_list' },
      delegatedOnly: 'Sending a chat message',
      howToCheck: 'Look at the chat in Teams (or list its recent messages, if you have the read tools) for this message.',
      async prepare() {
        const body = await outgoingBody(args.content, args.format, sentMarker(ctx.services.settings.sentMarker, ctx.caller), TEAMS_MESSAGE_MAX_BYTES);
        const request = { body: { contentType: 'html', content: body.html } };
        return { request, preview: { action: 'Send this message', where: `in chat ${args.chatId}`, text: body.previewText, request: { method: 'POST', path: resource.path, body: request } } };
      },
      async send(session, request) {
        const posted = (await session.client.api(resource.path).option('signal', ctx.signal).post(request)) as { id: string; createdDateTime?: string | null };
        return jsonResult({ status: 'sent', messageId: posted.id, ...(posted.createdDateTime && { createdDateTime: posted.createdDateTime }) }, `Sent message ${posted.id} in the chat.`, { resultRows: 1 });
      },
    });
  },
});

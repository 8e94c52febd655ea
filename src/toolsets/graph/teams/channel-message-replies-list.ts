import { z } from 'zod';
import { isSystemEventMessage } from '../../../graph/content.ts';
import { graphFailure } from '../../../graph/graph-errors.ts';
import { channelIdSchema, graphResource, teamIdSchema, teamsMessageIdSchema } from '../../../graph/ids.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { collectPages } from '../../../graph/paging.ts';
import { frameUntrusted } from '../../../graph/untrusted.ts';
import { defineGraphTool, type GraphPermissions, itemCap, jsonResult, withGraph } from '../common.ts';
import { renderMessages, replyView, replyViewSchema, type GraphChatMessage } from './channel-message-view.ts';
import { cursorSchema, limitSchema, plural } from './list-arguments.ts';
import { appOnlyTeamRefusal } from './team-access.ts';

/** Team.ReadBasic.All and Channel.ReadBasic.All for the app-only membership checks. */
const PERMISSIONS: GraphPermissions = { delegated: ['ChannelMessage.Read.All'], application: ['ChannelMessage.Read.All', 'Team.ReadBasic.All', 'Channel.ReadBasic.All'] };
const TEMPLATE = '/teams/{teamId}/channels/{channelId}/messages/{messageId}/replies';
const TOOL = 'graph_channel_message_replies_list';
const PAGE_SIZE = 50;

const output = z.object({
  teamId: z.string(),
  channelId: z.string(),
  messageId: z.string(),
  replies: z.array(replyViewSchema),
  count: z.number(),
  systemEventsDropped: z.number(),
  duplicatesDropped: z.number(),
  partial: z.boolean(),
  nextCursor: z.string().optional(),
});

export const graphChannelMessageRepliesList = defineGraphTool({
  name: TOOL,
  title: 'Read the replies of a channel thread',
  description:
    'Read the replies to one top-level channel message (a thread), newest first, as Markdown: author, time, body (mentions as @Name, files and cards as short markers). ' +
    'messageId is the id of the thread\'s first message, from graph_channel_messages_list (or the parentMessageId of a pasted link, via graph_teams_link_resolve). ' +
    'When the result says more exists, call again with the same arguments and cursor=nextCursor.',
  summary: 'Replies of a channel thread',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      teamId: teamIdSchema.describe('The team id (a GUID) from graph_teams_list.'),
      channelId: channelIdSchema.describe('The channel id (19:…@thread.tacv2) from graph_team_channels_list.'),
      messageId: teamsMessageIdSchema.describe('The id of the thread\'s top-level message, from graph_channel_messages_list.'),
      limit: limitSchema.optional(),
      cursor: cursorSchema.optional(),
    })
    .strict(),
  output,
  handler: ({ teamId, channelId, messageId, limit, cursor }, ctx) =>
    withGraph(ctx, { target: TEMPLATE, permissions: PERMISSIONS, findWith: 'graph_channel_messages_list' }, async (session) => {
      if (!cursor) {
        const refused = await appOnlyTeamRefusal(ctx, session, { teamId, channelId });
        if (refused) return refused;
      }
      const resource = graphResource(TEMPLATE, { teamId, channelId, messageId });
      const settings = ctx.services.settings;
      const collected = await collectPages<GraphChatMessage>({
        client: session.client,
        endpoint: ctx.services.endpoint,
        cursors: ctx.services.cursors,
        scope: { caller: ctx.caller, tool: TOOL, resource: resource.path },
        // Like the message list, replies take only $top (no $select, no $filter).
        firstPage: `${resource.path}${odataQuery({ $top: PAGE_SIZE })}`,
        cursor,
        limit: itemCap(settings, limit),
        signal: ctx.signal,
      });
      const written = collected.items.filter((message) => !isSystemEventMessage(message));
      const replies = await Promise.all(written.map((message) => replyView(message, settings.maxBodyChars)));
      const systemEventsDropped = collected.items.length - written.length;
      const lines = [
        [
          `${plural(replies.length, 'reply', 'replies')} to message ${messageId}, newest first.`,
          ...(systemEventsDropped > 0 ? [`${plural(systemEventsDropped, 'system event')} left out.`] : []),
          ...(collected.duplicatesDropped > 0 ? [`${plural(collected.duplicatesDropped, 'duplicate')} Graph repeated across pages dropped.`] : []),
        ].join(' '),
      ];
      if (replies.length > 0) lines.push(frameUntrusted(renderMessages(replies), `replies in a thread of the Teams channel ${channelId}`));
      if (collected.failure !== undefined) {
        const failure = graphFailure(collected.failure, { target: TEMPLATE, identity: session.identity });
        lines.push(`A later page could not be read (${failure.message}); the result is partial, and the cursor below retries that page.`);
      }
      if (collected.nextCursor) lines.push(`More replies exist: call again with the same arguments and cursor=${collected.nextCursor}`);
      return jsonResult(
        {
          teamId,
          channelId,
          messageId,
          replies,
          count: replies.length,
          systemEventsDropped,
          duplicatesDropped: collected.duplicatesDropped,
          partial: collected.partial,
          ...(collected.nextCursor && { nextCursor: collected.nextCursor }),
        },
        lines.join('\n'),
        { resultRows: replies.length, truncated: collected.partial },
      );
    }),
});

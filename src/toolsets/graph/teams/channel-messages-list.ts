import { z } from 'zod';
import { graphFailure } from '../../../graph/graph-errors.ts';
import { channelIdSchema, graphResource, teamIdSchema } from '../../../graph/ids.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { collectPages } from '../../../graph/paging.ts';
import { frameUntrusted } from '../../../graph/untrusted.ts';
import { isSystemEventMessage } from '../../../graph/content.ts';
import { defineGraphTool, type GraphPermissions, itemCap, jsonResult, withGraph } from '../common.ts';
import { messageView, messageViewSchema, renderMessages, REPLIES_SHOWN, type GraphChatMessage } from './channel-message-view.ts';
import { cursorSchema, limitSchema, plural, sinceSchema } from './list-arguments.ts';
import { appOnlyTeamRefusal } from './team-access.ts';

/** Team.ReadBasic.All and Channel.ReadBasic.All for the app-only membership checks. */
const PERMISSIONS: GraphPermissions = { delegated: ['ChannelMessage.Read.All'], application: ['ChannelMessage.Read.All', 'Team.ReadBasic.All', 'Channel.ReadBasic.All'] };
const TEMPLATE = '/teams/{teamId}/channels/{channelId}/messages';
const TOOL = 'graph_channel_messages_list';
/** Graph's largest page of channel messages: 1,000 messages are 20 requests. */
const PAGE_SIZE = 50;

const output = z.object({
  teamId: z.string(),
  channelId: z.string(),
  messages: z.array(messageViewSchema),
  count: z.number(),
  since: z.string().optional(),
  systemEventsDropped: z.number(),
  duplicatesDropped: z.number(),
  partial: z.boolean(),
  nextCursor: z.string().optional(),
});

export const graphChannelMessagesList = defineGraphTool({
  name: TOOL,
  title: 'Read the messages of a channel',
  description:
    'Read the top-level messages (thread starters) of a Teams channel, newest first, as Markdown: author, time, subject, body ' +
    '(mentions as @Name, files and cards as short markers; membership and other system events are left out). ' +
    'Narrow with since (a date, or date and time with zone: only messages posted or changed since then) and limit. ' +
    `includeReplies=true also returns each thread's reply count and its newest ${REPLIES_SHOWN} replies; for a whole thread use graph_channel_message_replies_list. ` +
    'When the result says more exists, call again with the same arguments and cursor=nextCursor. ' +
    'Ids come from graph_teams_list and graph_team_channels_list, or from a pasted link via graph_teams_link_resolve. To find messages by words or people across teams and chats, use graph_messages_search instead.',
  summary: 'Channel messages, newest first, as Markdown',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      teamId: teamIdSchema.describe('The team id (a GUID) from graph_teams_list.'),
      channelId: channelIdSchema.describe('The channel id (19:…@thread.tacv2) from graph_team_channels_list.'),
      since: sinceSchema.optional().describe('Only messages posted or changed at or after this moment: 2026-03-01 or 2026-03-01T08:00:00Z.'),
      includeReplies: z.boolean().optional().describe(`Also read each thread's replies (count and newest ${REPLIES_SHOWN}). Default false.`),
      limit: limitSchema.optional(),
      cursor: cursorSchema.optional(),
    })
    .strict(),
  output,
  handler: ({ teamId, channelId, since, includeReplies = false, limit, cursor }, ctx) =>
    withGraph(ctx, { target: TEMPLATE, permissions: PERMISSIONS, findWith: 'graph_team_channels_list' }, async (session) => {
      if (!cursor) {
        const refused = await appOnlyTeamRefusal(ctx, session, { teamId, channelId });
        if (refused) return refused;
      }
      const resource = graphResource(TEMPLATE, { teamId, channelId });
      const sinceIso = since === undefined ? undefined : new Date(since).toISOString();
      const sinceMs = sinceIso === undefined ? undefined : Date.parse(sinceIso);
      const settings = ctx.services.settings;
      const collected = await collectPages<GraphChatMessage>({
        client: session.client,
        endpoint: ctx.services.endpoint,
        cursors: ctx.services.cursors,
        // A cursor continues only the listing it came from: same channel, same since, same replies choice.
        scope: { caller: ctx.caller, tool: TOOL, resource: `${resource.path}#since=${sinceIso ?? ''}&replies=${includeReplies}` },
        // The list takes only $top and $expand=replies (graph-protocol.md §2): no $select, no $filter.
        firstPage: `${resource.path}${odataQuery({ $top: PAGE_SIZE, $expand: includeReplies ? 'replies' : undefined })}`,
        cursor,
        limit: itemCap(settings, limit),
        signal: ctx.signal,
        // `since`, client-side: the list comes newest first (by lastModifiedDateTime) and Graph filters
        // it on nothing, so reading stops at the first older message, with no cursor (nothing newer is
        // left). Not messages/delta: its $filter=lastModifiedDateTime gt only reaches back about eight
        // months, and it returns the oldest changes first, so a capped call would miss the newest ones.
        ...(sinceMs !== undefined && { until: (message: GraphChatMessage) => Date.parse(message.lastModifiedDateTime ?? message.createdDateTime ?? '') < sinceMs }),
      });
      const written = collected.items.filter((message) => !isSystemEventMessage(message));
      const messages = await Promise.all(written.map((message) => messageView(message, settings.maxBodyChars, includeReplies)));
      const systemEventsDropped = collected.items.length - written.length;
      const data = {
        teamId,
        channelId,
        messages,
        count: messages.length,
        ...(sinceIso && { since: sinceIso }),
        systemEventsDropped,
        duplicatesDropped: collected.duplicatesDropped,
        partial: collected.partial,
        ...(collected.nextCursor && { nextCursor: collected.nextCursor }),
      };
      const summary = [
        `${plural(messages.length, 'message')} in channel ${channelId}, newest first${sinceIso ? `, posted or changed since ${sinceIso}` : ''}.`,
        ...(systemEventsDropped > 0 ? [`${plural(systemEventsDropped, 'system event')} (members added, renames, …) left out.`] : []),
        ...(collected.duplicatesDropped > 0 ? [`${plural(collected.duplicatesDropped, 'duplicate')} Graph repeated across pages dropped.`] : []),
      ].join(' ');
      const lines = [summary];
      if (messages.length > 0) lines.push(frameUntrusted(renderMessages(messages), `messages in the Teams channel ${channelId}`));
      if (collected.failure !== undefined) {
        const failure = graphFailure(collected.failure, { target: TEMPLATE, identity: session.identity });
        lines.push(`A later page could not be read (${failure.message}); the result is partial, and the cursor below retries that page.`);
      }
      if (collected.nextCursor) lines.push(`More messages exist: call again with the same arguments and cursor=${collected.nextCursor}`);
      return jsonResult(data, lines.join('\n'), { resultRows: messages.length, truncated: collected.partial });
    }),
});

import { z } from 'zod';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { outgoingBody, sentMarker } from './outgoing-body.ts';
import { runWrite } from './write-frame.ts';
import { confirmationTokenInput, formatInput, writeOutput } from './write-schemas.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['Calendars.ReadWrite'], application: ['Calendars.ReadWrite'] };
const TEMPLATE = '/users/{caller}/events';

// Graph's dateTimeTimeZone: a local date and time, and the zone it is in.
const LOCAL_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/;
const localTime = (what: string) => z.string().trim().regex(LOCAL_TIME, { error: 'must be a local date and time like 2026-12-01T14:30 (no offset; the zone is timeZone)' }).describe(what);
/** IANA (Europe/Paris) or Windows (W. Europe Standard Time) names, as Graph accepts them. */
const timeZone = z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_+\-/ ().]{0,63}$/, { error: 'must be a time zone name like Europe/Paris, UTC or W. Europe Standard Time' });

const input = z
  .object({
    subject: z.string().trim().min(1).max(255),
    start: localTime('Start, local time in timeZone, e.g. 2026-12-01T14:30.'),
    end: localTime('End, local time in timeZone; after start.'),
    timeZone: timeZone.default('UTC').describe('Time zone of start and end (IANA or Windows name); default UTC.'),
    attendees: z.array(z.email({ error: 'must be an email address' }).max(320)).max(50).optional().describe('Email addresses to invite (required attendees), up to 50. Graph sends them the invitation.'),
    body: z.string().max(20_000).optional().describe('Description of the event, as Markdown (default) or text.'),
    format: formatInput,
    location: z.string().trim().min(1).max(255).optional(),
    online: z.boolean().optional().describe('true: make it a Teams meeting (a join link is created).'),
    confirmationToken: confirmationTokenInput,
  })
  .strict()
  .refine((value) => value.end.padEnd(19, ':00') > value.start.padEnd(19, ':00'), { error: 'end must be after start', path: ['end'] });

const output = writeOutput(['created'], { eventId: z.string().optional(), webLink: z.string().optional(), joinUrl: z.string().optional(), attendees: z.number().optional() });

interface CreatedEvent {
  id: string;
  webLink?: string | null;
  onlineMeeting?: { joinUrl?: string | null } | null;
}

export const graphEventCreate = defineGraphTool({
  name: 'graph_event_create',
  title: 'Create a calendar event',
  description:
    "Create an event in the signed-in user's calendar, optionally inviting attendees (Graph sends them the invitation) and as a Teams meeting (online: true). " +
    'start and end are local times in timeZone (default UTC). ' +
    'The user is asked to confirm first; with clients that cannot ask, the first call returns status "preview" and a confirmationToken: show the preview to the user and call again with the same arguments and that token. ' +
    'Returns the event id, its Outlook link and the join link of an online meeting.',
  summary: "Create an event in the signed-in user's calendar",
  toolset: 'graph.send',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input,
  output,
  sensitiveArguments: ['subject', 'body', 'attendees', 'location', 'confirmationToken'],
  handler: (args, ctx) =>
    runWrite(ctx, {
      tool: 'graph_event_create',
      args,
      call: { target: TEMPLATE, permissions: PERMISSIONS, method: 'POST' },
      howToCheck: "Look in the user's calendar at that time for this event.",
      async prepare(session) {
        // The invitation goes to other people, so it carries the marker like a message does.
        const body = await outgoingBody(args.body?.trim() ? args.body : args.subject, args.body?.trim() ? args.format : 'text', sentMarker(ctx.services.settings.sentMarker, ctx.caller));
        const request = {
          subject: args.subject,
          start: { dateTime: args.start, timeZone: args.timeZone },
          end: { dateTime: args.end, timeZone: args.timeZone },
          body: { contentType: 'HTML', content: body.html },
          ...(args.location && { location: { displayName: args.location } }),
          ...(args.attendees && { attendees: args.attendees.map((address) => ({ emailAddress: { address }, type: 'required' })) }),
          ...(args.online && { isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' }),
        };
        const lines = [
          `Subject: ${args.subject}`,
          `When: ${args.start} to ${args.end} (${args.timeZone})`,
          ...(args.location ? [`Where: ${args.location}`] : []),
          ...(args.attendees?.length ? [`Invites: ${args.attendees.join(', ')}`] : []),
          ...(args.online ? ['Teams meeting: yes'] : []),
          '',
          body.previewText,
        ];
        return { request, preview: { action: 'Create this event', where: "in the signed-in user's calendar", text: lines.join('\n'), request: { method: 'POST', path: `/${session.me}/events`, body: request } } };
      },
      async send(session, request) {
        const created = (await session.client.api(`/${session.me}/events`).option('signal', ctx.signal).post(request)) as CreatedEvent;
        const joinUrl = created.onlineMeeting?.joinUrl ?? undefined;
        const invited = args.attendees?.length ?? 0;
        const text = `Created event ${created.id}${invited ? `, ${invited} attendee${invited === 1 ? '' : 's'} invited` : ''}.${created.webLink ? ` Link: ${created.webLink}` : ''}${joinUrl ? ` Join: ${joinUrl}` : ''}`;
        return jsonResult(
          { status: 'created', eventId: created.id, ...(created.webLink && { webLink: created.webLink }), ...(joinUrl && { joinUrl }), attendees: invited },
          text,
          { resultRows: 1 },
        );
      },
    }),
});

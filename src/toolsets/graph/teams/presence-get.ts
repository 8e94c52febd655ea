import { z } from 'zod';
import { batchAuditSummary, runBatch, type BatchRequest } from '../../../graph/batch.ts';
import { isGuid, userRefSchema } from '../../../graph/ids.ts';
import { odataQuery, odataString } from '../../../graph/odata.ts';
import { frameUntrusted } from '../../../graph/untrusted.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphPermissions } from '../common.ts';
import { plural } from './list-arguments.ts';

/** User.ReadBasic.All / User.Read.All only to turn user principal names into ids. */
const PERMISSIONS: GraphPermissions = { delegated: ['Presence.Read.All', 'User.ReadBasic.All'], application: ['Presence.Read.All', 'User.Read.All'] };
/** getPresencesByUserId takes at most 650 ids (cloudcommunications-getpresencesbyuserid). */
export const MAX_PRESENCE_USERS = 650;
/** `in (…)` is limited to 15 values per filter (learn.microsoft.com/graph/filter-query-parameter). */
const UPNS_PER_FILTER = 15;

const presence = z.object({
  user: z.string(),
  id: z.string(),
  displayName: z.string().optional(),
  availability: z.string(),
  activity: z.string(),
  statusMessage: z.string().optional(),
  outOfOffice: z.boolean().optional(),
});
const output = z.object({
  presences: z.array(presence),
  count: z.number(),
  /** Users Graph has no account for (a UPN that resolved to nobody, or an id without presence). */
  notFound: z.array(z.string()),
  /** UPNs that could not be looked up (the lookup itself failed), with why. */
  unresolved: z.array(z.object({ user: z.string(), reason: z.string() })),
});

interface GraphUser {
  id?: string;
  userPrincipalName?: string;
  displayName?: string | null;
}

interface GraphPresence {
  id?: string;
  availability?: string | null;
  activity?: string | null;
  statusMessage?: { message?: { content?: string | null } | null } | null;
  outOfOfficeSettings?: { isOutOfOffice?: boolean | null } | null;
}

const chunks = <T>(items: readonly T[], size: number) => Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, index * size + size));

export const graphPresenceGet = defineGraphTool({
  name: 'graph_presence_get',
  title: 'Get the presence of users',
  description:
    'Get the Teams presence of up to 650 users at once: availability (Available, Busy, DoNotDisturb, Away, BeRightBack, Offline, PresenceUnknown), activity (InACall, InAMeeting, Presenting, …), status message and out-of-office. ' +
    'Give user object ids (GUIDs) or user principal names (ada@contoso.com, usually the work email). Ids are answered in one Graph request; names are looked up first (15 to a filter, 300 to a request). Users that do not exist are listed as not found. ' +
    'To find a user by name first, use graph_users_search.',
  summary: 'Presence of up to 650 users in one request',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      users: z
        .array(userRefSchema)
        .min(1)
        .max(MAX_PRESENCE_USERS)
        .describe('User object ids (GUIDs) or user principal names (ada@contoso.com), at most 650.'),
    })
    .strict(),
  output,
  handler: ({ users }, ctx) =>
    withGraph(ctx, { target: '/communications/getPresencesByUserId', permissions: PERMISSIONS, method: 'POST', findWith: 'graph_users_search' }, async (session) => {
      // As given, once each (ids and names compare case-insensitively).
      const given = [...new Map(users.map((user) => [user.toLowerCase(), user])).values()];
      const upns = given.filter((user) => !isGuid(user));
      const idOf = new Map<string, { id: string; displayName?: string }>();
      for (const user of given.filter(isGuid)) idOf.set(user.toLowerCase(), { id: user.toLowerCase() });

      const unresolved: Array<{ user: string; reason: string }> = [];
      let batch: ReturnType<typeof batchAuditSummary> | undefined;
      if (upns.length > 0) {
        // Names to ids in as few requests as Graph allows: `userPrincipalName in (…)` filters of 15, 20 of them per $batch.
        const groups = chunks(upns, UPNS_PER_FILTER);
        const requests: BatchRequest[] = groups.map((group, index) => ({
          key: String(index),
          method: 'GET',
          url: `/users${odataQuery({ $filter: `userPrincipalName in (${group.map(odataString).join(',')})`, $select: ['id', 'userPrincipalName', 'displayName'], $top: UPNS_PER_FILTER })}`,
        }));
        const result = await runBatch(requests, { client: session.client, signal: ctx.signal, maxWaitSeconds: ctx.services.settings.retry.maxTotalWaitSeconds });
        batch = batchAuditSummary(result);
        result.outcomes.forEach((outcome, index) => {
          const group = groups[index] ?? [];
          if (outcome.status !== 200) {
            const reason = `lookup failed: ${outcome.status || 'no answer'}${outcome.error?.code ? ` ${outcome.error.code}` : ''}${outcome.error?.message ? ` (${outcome.error.message})` : ''}`;
            for (const user of group) unresolved.push({ user, reason });
            return;
          }
          for (const found of (outcome.body as { value?: GraphUser[] } | undefined)?.value ?? []) {
            if (found.id && found.userPrincipalName) idOf.set(found.userPrincipalName.toLowerCase(), { id: found.id.toLowerCase(), ...(found.displayName && { displayName: found.displayName }) });
          }
        });
      }
      const failed = new Set(unresolved.map((entry) => entry.user.toLowerCase()));
      const notFound = given.filter((user) => !failed.has(user.toLowerCase()) && !idOf.has(user.toLowerCase()));
      const ids = [...new Set([...idOf.values()].map((entry) => entry.id))];

      const byId = new Map<string, GraphPresence>();
      if (ids.length > 0) {
        const answer = (await session.client.api('/communications/getPresencesByUserId').option('signal', ctx.signal).post({ ids })) as { value?: GraphPresence[] };
        for (const item of answer.value ?? []) if (item.id) byId.set(item.id.toLowerCase(), item);
      }
      const presences: Array<z.infer<typeof presence>> = [];
      for (const user of given) {
        const entry = idOf.get(user.toLowerCase());
        if (!entry) continue;
        const item = byId.get(entry.id);
        if (!item) {
          notFound.push(user);
          continue;
        }
        const status = item.statusMessage?.message?.content?.trim();
        presences.push({
          user,
          id: entry.id,
          ...(entry.displayName && { displayName: entry.displayName }),
          availability: item.availability ?? 'PresenceUnknown',
          activity: item.activity ?? 'PresenceUnknown',
          ...(status && { statusMessage: status }),
          ...(typeof item.outOfOfficeSettings?.isOutOfOffice === 'boolean' && { outOfOffice: item.outOfOfficeSettings.isOutOfOffice }),
        });
      }

      const csv = ['user,id,displayName,availability,activity,outOfOffice,statusMessage', ...presences.map((p) => csvLine([p.user, p.id, p.displayName, p.availability, p.activity, p.outOfOffice, p.statusMessage]))].join('\n');
      const lines = [
        `Presence of ${plural(presences.length, 'user')}.`,
        // Status messages are written by the users themselves.
        presences.some((p) => p.statusMessage) ? frameUntrusted(csv, 'presence with status messages') : csv,
        ...(notFound.length ? [`Not found (${notFound.length}): ${notFound.join(', ')}`] : []),
        ...(unresolved.length ? [`Could not look up (${unresolved.length}): ${unresolved.map((entry) => `${entry.user} (${entry.reason})`).join('; ')}. Call again for these.`] : []),
      ];
      return jsonResult({ presences, count: presences.length, notFound, unresolved }, lines.join('\n'), { resultRows: presences.length, truncated: unresolved.length > 0, ...(batch && { batch }) });
    }),
});

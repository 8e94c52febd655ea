import { z } from 'zod';
import { directorySearch, odataQuery } from '../../../graph/odata.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphCall, type GraphPermissions } from '../common.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['User.ReadBasic.All'], application: ['User.Read.All'] };
const CALL: GraphCall = { target: '/users?$search', permissions: PERMISSIONS };
/** The properties one search hit shows, and all that is asked of Graph. */
const SELECT = ['id', 'displayName', 'mail', 'userPrincipalName', 'jobTitle', 'department'] as const;
/** The directory properties the text is matched against (each an indexed $search property of users). */
const SEARCHED = ['displayName', 'mail', 'userPrincipalName'] as const;
const MAX_RESULTS = 50;

const user = z.object({
  id: z.string(),
  displayName: z.string(),
  mail: z.string().optional(),
  userPrincipalName: z.string().optional(),
  jobTitle: z.string().optional(),
  department: z.string().optional(),
});
const output = z.object({ users: z.array(user), count: z.number(), moreMayExist: z.boolean() });

type GraphUser = { [K in (typeof SELECT)[number]]?: string | null };

export const graphUsersSearch = defineGraphTool({
  name: 'graph_users_search',
  title: 'Find people in the directory',
  description:
    'Search the organization\'s directory for people by name, mail address or user principal name (prefix matching on each word: "meg" finds Megan Bowen, "bowen" too). ' +
    'Returns id, name, mail, UPN, job title and department. Use the id or UPN with graph_user_get for the full profile, or with other tools that take a user. ' +
    'The text is matched as typed (no search operators); narrow with more of the name.',
  summary: 'Directory search by name, mail or UPN',
  toolset: 'graph',
  permissions: PERMISSIONS,
  // Search terms name people and topics: only their length and a keyed fingerprint reach the audit log.
  sensitiveArguments: ['query'],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z
    .object({
      query: z.string().trim().min(1).max(120).describe('Name, mail address or UPN, or the start of one (e.g. "Megan", "megan.bowen@contoso.com").'),
      limit: z.number().int().min(1).max(MAX_RESULTS).optional().describe(`Most people to return (default 25, at most ${MAX_RESULTS}).`),
    })
    .strict(),
  output,
  handler: (args, ctx) =>
    withGraph(ctx, CALL, async (session) => {
      const limit = Math.min(args.limit ?? 25, MAX_RESULTS);
      // Each clause escaped on its own (directorySearch), joined with OR: the caller's text cannot add operators.
      const search = SEARCHED.map((property) => directorySearch(property, args.query)).join(' OR ');
      const path = `/users${odataQuery({ $search: search, $select: SELECT, $top: limit })}`;
      // $search on directory objects is an advanced query: Graph refuses it without this header.
      const page = (await session.client.api(path).header('ConsistencyLevel', 'eventual').option('signal', ctx.signal).get()) as { value?: GraphUser[]; '@odata.nextLink'?: string };
      const users = (page.value ?? []).slice(0, limit).map((item) => ({
        id: item.id ?? '',
        displayName: item.displayName ?? '',
        ...(item.mail && { mail: item.mail }),
        ...(item.userPrincipalName && { userPrincipalName: item.userPrincipalName }),
        ...(item.jobTitle && { jobTitle: item.jobTitle }),
        ...(item.department && { department: item.department }),
      }));
      const moreMayExist = Boolean(page['@odata.nextLink']);
      const csv = ['id,displayName,mail,userPrincipalName,jobTitle,department', ...users.map((u) => csvLine([u.id, u.displayName, u.mail, u.userPrincipalName, u.jobTitle, u.department]))].join('\n');
      const text = [users.length ? csv : `No one in the directory matches "${args.query}".`, moreMayExist ? `More people match: showing the first ${users.length}; type more of the name to narrow.` : ''].filter(Boolean).join('\n');
      return jsonResult({ users, count: users.length, moreMayExist }, text, { resultRows: users.length, truncated: moreMayExist });
    }),
});

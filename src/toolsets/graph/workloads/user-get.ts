import { z } from 'zod';
import { graphResource, userRefSchema } from '../../../graph/ids.ts';
import { odataQuery } from '../../../graph/odata.ts';
import { csvLine, defineGraphTool, jsonResult, withGraph, type GraphCall, type GraphPermissions } from '../common.ts';

const PERMISSIONS: GraphPermissions = { delegated: ['User.ReadBasic.All'], application: ['User.Read.All'] };
const CALL: GraphCall = { target: '/users/{user}', permissions: PERMISSIONS, findWith: 'graph_users_search' };
const SELECT = ['id', 'displayName', 'mail', 'userPrincipalName', 'jobTitle', 'department', 'officeLocation', 'businessPhones', 'mobilePhone'] as const;

const output = z.object({
  id: z.string(),
  displayName: z.string(),
  mail: z.string().optional(),
  userPrincipalName: z.string().optional(),
  jobTitle: z.string().optional(),
  department: z.string().optional(),
  officeLocation: z.string().optional(),
  businessPhones: z.array(z.string()),
  mobilePhone: z.string().optional(),
});

interface GraphUser {
  id?: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  officeLocation?: string | null;
  businessPhones?: string[] | null;
  mobilePhone?: string | null;
}

export const graphUserGet = defineGraphTool({
  name: 'graph_user_get',
  title: 'Show a person\'s profile',
  description:
    'One person\'s directory profile by object id or user principal name: id, name, mail, UPN, job title, department, office, phone numbers, as the directory shows them. ' +
    'To find someone by name first, use graph_users_search.',
  summary: "One user's directory profile",
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ user: userRefSchema.describe('The user\'s object id (GUID) or user principal name (ada@contoso.com), e.g. from graph_users_search.') }).strict(),
  output,
  handler: (args, ctx) =>
    withGraph(ctx, CALL, async (session) => {
      // One encoded path segment: a UPN with ' or # (guests: jane_contoso.com#EXT#@…) cannot change the path or start a fragment.
      const resource = graphResource('/users/{user}', { user: args.user });
      const item = (await session.client.api(`${resource.path}${odataQuery({ $select: SELECT })}`).option('signal', ctx.signal).get()) as GraphUser;
      const profile = {
        id: item.id ?? '',
        displayName: item.displayName ?? '',
        ...(item.mail && { mail: item.mail }),
        ...(item.userPrincipalName && { userPrincipalName: item.userPrincipalName }),
        ...(item.jobTitle && { jobTitle: item.jobTitle }),
        ...(item.department && { department: item.department }),
        ...(item.officeLocation && { officeLocation: item.officeLocation }),
        businessPhones: (item.businessPhones ?? []).filter((phone): phone is string => typeof phone === 'string'),
        ...(item.mobilePhone && { mobilePhone: item.mobilePhone }),
      };
      const text = [
        'id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation,businessPhones,mobilePhone',
        csvLine([profile.id, profile.displayName, profile.mail, profile.userPrincipalName, profile.jobTitle, profile.department, profile.officeLocation, profile.businessPhones.join('; '), profile.mobilePhone]),
      ].join('\n');
      return jsonResult(profile, text, { resultRows: 1 });
    }),
});

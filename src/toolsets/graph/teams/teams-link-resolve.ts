import { z } from 'zod';
import { toolError } from '../../../tools/define-tool.ts';
import { defineGraphTool, jsonResult, type GraphPermissions } from '../common.ts';
import { parseTeamsLink, TeamsLinkError } from './teams-link-parse.ts';

/** Pure parsing: no Graph request, so no permission. */
const PERMISSIONS: GraphPermissions = { delegated: [], application: [] };

const output = z.object({
  kind: z.enum(['channelMessage', 'chatMessage', 'channel', 'team', 'chat', 'newChat', 'meeting', 'meetingById']),
  ids: z.record(z.string(), z.string()),
  names: z.record(z.string(), z.string()).optional(),
  users: z.array(z.string()).optional(),
  next: z.object({ tool: z.string(), arguments: z.record(z.string(), z.string()) }).optional(),
  notes: z.array(z.string()),
});

export const graphTeamsLinkResolve = defineGraphTool({
  name: 'graph_teams_link_resolve',
  title: 'Resolve a Teams link to ids',
  description:
    'Turn a Microsoft Teams link someone pasted (a message, channel, team, chat or meeting link; "Copy link" in Teams, or a Safe Links-wrapped one from Outlook) ' +
    'into the ids the other Graph tools take (teamId, channelId, messageId and its thread, chatId), with the tool to call next and its arguments. ' +
    'Use it whenever the user gives a teams.microsoft.com or teams.cloud.microsoft link instead of names. It reads nothing from Teams; links to other sites are refused.',
  summary: 'Teams links to ids, and the tool to call next',
  toolset: 'graph',
  permissions: PERMISSIONS,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ url: z.string().trim().min(1).max(4096).describe('The Teams link, as pasted (https://teams.microsoft.com/l/…).') }).strict(),
  output,
  handler: async ({ url }) => {
    let resolved;
    try {
      resolved = parseTeamsLink(url);
    } catch (error) {
      if (!(error instanceof TeamsLinkError)) throw error;
      return toolError({ message: error.message, nextStep: 'Paste the link exactly as Teams gives it ("Copy link" on the message or channel), or give the team and channel by name.', errorClass: 'bad_request' });
    }
    const lines = [
      `A Teams ${resolved.kind} link.`,
      ...Object.entries(resolved.ids).map(([name, value]) => `${name}: ${value}`),
      ...Object.entries(resolved.names ?? {}).map(([name, value]) => `${name} name in the link: ${value}`),
      ...(resolved.users ? [`users: ${resolved.users.join(', ')}`] : []),
      ...(resolved.next ? [`Next: call ${resolved.next.tool} with ${JSON.stringify(resolved.next.arguments)}.`] : []),
      ...resolved.notes,
    ];
    return jsonResult({ ...resolved }, lines.join('\n'), { resultRows: Object.keys(resolved.ids).length });
  },
});

import { graphResource } from '../../../graph/ids.ts';
import { toolError, type ToolResult } from '../../../tools/define-tool.ts';
import type { GraphToolContext } from '../common.ts';
import type { GraphSession } from '../services.ts';

/**
 * The app-only guard for team-scoped reads. With GRAPH_IDENTITY=managedIdentity
 * Graph lets the app read every team and every channel, private ones
 * included, so Graph's own membership checks no longer protect anything:
 * before a team's channels or messages are read, the caller must be a
 * member of the team (`/users/<caller>/joinedTeams`, one request), and
 * messages of a private or shared channel are refused, because whether the
 * caller is one of that channel's members cannot be told with the
 * permissions the tools ask for. Delegated calls need none of this: Graph
 * applies the signed-in user's own membership.
 *
 * A call that continues with a cursor is not checked again: the cursor was
 * issued after this check passed, is signed and bound to the same caller and
 * the same team and channel, and expires (GRAPH_CURSOR_TTL_SECONDS), so a
 * removed member reads on at most to the end of a listing already started.
 */

interface JoinedTeam {
  id?: string;
}

/** The refusal, or nothing when the caller may read the team (and the channel, when given). */
export async function appOnlyTeamRefusal(ctx: GraphToolContext, session: GraphSession, ids: { teamId: string; channelId?: string }): Promise<ToolResult | undefined> {
  if (session.identity !== 'managedIdentity') return undefined;
  const joined = (await session.client.api(`/${session.me}/joinedTeams`).option('signal', ctx.signal).get()) as { value?: JoinedTeam[] };
  const teamId = ids.teamId.toLowerCase();
  if (!(joined.value ?? []).some((team) => team.id?.toLowerCase() === teamId)) {
    return refusal(
      `You are not a member of the team ${ids.teamId}. This server reads Microsoft Teams as its own identity (app-only), so it lets each caller read only the teams they belong to; nothing of that team was read.`,
      'Call graph_teams_list for the teams you are a member of, or ask one of the team\'s owners to add you.',
    );
  }
  if (ids.channelId === undefined) return undefined;
  const channel = graphResource('/teams/{teamId}/channels/{channelId}', { teamId: ids.teamId, channelId: ids.channelId });
  const found = (await session.client.api(`${channel.path}?$select=id,membershipType`).option('signal', ctx.signal).get()) as { membershipType?: string };
  if (found.membershipType && found.membershipType !== 'standard') {
    return refusal(
      `The channel ${ids.channelId} is a ${found.membershipType} channel. This server reads Microsoft Teams as its own identity (app-only) and cannot tell whether you are one of that channel's members, so it does not read it; nothing was read.`,
      'Read it through a server whose Graph tools act for the signed-in user (GRAPH_IDENTITY=onBehalfOf), where Teams applies your own channel membership.',
    );
  }
  return undefined;
}

/** Private and shared channels are left out of app-only channel lists, for the reason above. */
export function readableAppOnly(membershipType: string | null | undefined): boolean {
  return membershipType === undefined || membershipType === null || membershipType === 'standard';
}

/** The tool's own target stays on the audit event (withGraph sets it). */
function refusal(message: string, nextStep: string): ToolResult {
  return toolError({ message, nextStep, errorClass: 'permission_denied' });
}

import { graphChannelMessageRepliesList } from './channel-message-replies-list.ts';
import { graphChannelMessagesList } from './channel-messages-list.ts';
import { graphMessagesSearch } from './messages-search.ts';
import { graphPresenceGet } from './presence-get.ts';
import { graphTeamChannelsList } from './team-channels-list.ts';
import { graphTeamsLinkResolve } from './teams-link-resolve.ts';
import { graphTeamsList } from './teams-list.ts';

/** The Teams read tools (toolset `graph`), in the order tools/list and the docs show them. */
export const teamsReadTools = [
  graphTeamsList,
  graphTeamChannelsList,
  graphChannelMessagesList,
  graphChannelMessageRepliesList,
  graphPresenceGet,
  graphMessagesSearch,
  graphTeamsLinkResolve,
] as const;

import { graphChannelCreate } from './channel-create.ts';
import { graphChannelMessageSend } from './channel-message-send.ts';
import { graphChatMessageSend } from './chat-message-send.ts';
import { graphEventCreate } from './event-create.ts';
import { graphMailSend } from './mail-send.ts';
import { graphTeamCreate } from './team-create.ts';
import { graphTeamMemberAdd } from './team-member-add.ts';

/** Tools that send in the user's name (toolset `graph.send`): channel and chat messages, mail, events. */
export const sendTools = [graphChannelMessageSend, graphChatMessageSend, graphMailSend, graphEventCreate] as const;

/** Tools that administer Teams (toolset `graph.admin`): create teams and channels, add members. */
export const adminTools = [graphTeamCreate, graphTeamMemberAdd, graphChannelCreate] as const;

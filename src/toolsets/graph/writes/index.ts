import { graphChannelMessageSend } from './channel-message-send.ts';

/** Tools that send in the user's name (toolset `graph.send`): channel and chat messages, mail, events. */
export const sendTools = [graphChannelMessageSend] as const;

/** Tools that administer Teams (toolset `graph.admin`): create teams and channels, add members. */
export const adminTools = [] as const;

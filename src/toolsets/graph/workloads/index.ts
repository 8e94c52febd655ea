import { graphChatMessagesList } from './chat-messages-list.ts';
import { graphChatsList } from './chats-list.ts';
import { graphEventsList } from './events-list.ts';
import { graphFileRead } from './file-read.ts';
import { graphFilesSearch } from './files-search.ts';
import { graphMailGet } from './mail-get.ts';
import { graphMailList } from './mail-list.ts';
import { graphMailSearch } from './mail-search.ts';
import { graphUserGet } from './user-get.ts';
import { graphUsersSearch } from './users-search.ts';

/** The read tools beyond Teams (toolset `graph`): chats, users, mail, calendar, files. */
export const workloadReadTools = [
  graphChatsList,
  graphChatMessagesList,
  graphUsersSearch,
  graphUserGet,
  graphMailList,
  graphMailGet,
  graphMailSearch,
  graphEventsList,
  graphFilesSearch,
  graphFileRead,
] as const;

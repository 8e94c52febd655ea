/** The read tools beyond Teams (toolset `graph`): chats, users, mail, calendar, files. */
export const workloadReadTools = [] as const;

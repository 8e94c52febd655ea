import { graphTeamsList } from './teams-list.ts';

/** The Teams read tools (toolset `graph`), in the order tools/list and the docs show them. */
export const teamsReadTools = [graphTeamsList] as const;

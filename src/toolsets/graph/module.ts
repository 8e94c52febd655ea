import { defineToolsetModule } from '../define-toolset.ts';
import { graphModuleSettings } from './settings.ts';
import { createGraphServices } from './services.ts';
import { teamsReadTools } from './teams/index.ts';
import { workloadReadTools } from './workloads/index.ts';
import { adminTools, sendTools } from './writes/index.ts';

/**
 * Microsoft Graph: Teams first, then chats, users, mail, calendar and files
 * (docs/graph.md). Three toolsets so reading, sending and administering are
 * granted separately: a grant to send never brings the permission to read
 * what other people wrote. Off until GRAPH_IDENTITY says who Graph sees.
 */
export const graphModule = defineToolsetModule({
  name: 'graph',
  settings: graphModuleSettings,
  unavailable: (_settings, config) =>
    config.downstream.graph === undefined ? 'Microsoft Graph is not configured on this server (GRAPH_IDENTITY: onBehalfOf or managedIdentity)' : undefined,
  services: (settings, deps) =>
    createGraphServices(settings, { identities: deps.downstream(deps.config.downstream.graph ?? 'onBehalfOf'), secrets: deps.secrets }),
  toolsets: [
    {
      id: 'graph',
      description: 'Microsoft Graph, read: Teams (teams, channels, messages, replies, presence, message search), chats, users, mail, calendar and files, as the signed-in user sees them.',
      enabledByDefault: true,
      tools: [...teamsReadTools, ...workloadReadTools],
    },
    {
      id: 'graph.send',
      description: 'Microsoft Graph, send in the signed-in user\'s name: channel and chat messages, mail, calendar events. Each write is confirmed and marked as sent by an assistant; it brings no permission to read.',
      enabledByDefault: true,
      tools: [...sendTools],
    },
    {
      id: 'graph.admin',
      description: 'Microsoft Graph, administer Teams: create teams and channels, add members. Each write is confirmed.',
      enabledByDefault: true,
      tools: [...adminTools],
    },
  ],
});

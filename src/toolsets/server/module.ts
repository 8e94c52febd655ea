import { defineToolsetModule } from '../define-toolset.ts';
import { serverInfoGet } from './info-get.ts';

/** Facts about the server itself; always available, no settings, no backend. */
export const serverModule = defineToolsetModule({
  name: 'server',
  services: () => undefined,
  toolsets: [{ id: 'server', description: 'Facts about this server and how it sees the caller.', enabledByDefault: true, tools: [serverInfoGet] }],
});

import type { SecretProvider } from '../azure/secrets.ts';
import type { KustoServices } from '../kusto/services.ts';

/**
 * Backend clients handed to tools. Each toolset adds its own member; all are
 * created lazily by the composition root (src/app.ts) so that start-up loads
 * no Azure SDK.
 */
export interface ToolServices {
  secrets?: SecretProvider;
  kusto?: KustoServices;
}

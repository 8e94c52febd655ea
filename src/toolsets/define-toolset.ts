import type { z } from 'zod';
import type { CredentialProvider } from '../azure/credential.ts';
import type { DownstreamIdentities, DownstreamIdentityMode } from '../azure/downstream-identity.ts';
import type { SecretProvider } from '../azure/secrets.ts';
import type { GeneralConfig } from '../config.ts';
import type { Limiter } from '../core/limiter.ts';
import type { ToolDefinition } from '../tools/define-tool.ts';

/**
 * A toolset module is one folder, `src/toolsets/<name>/`, that declares
 * everything about its toolsets: their ids, its own app settings, when it
 * cannot work, the services its tools get, and the tools. The registry
 * (./registry.ts) lists the modules; config, catalog, grants and docs are
 * derived from it.
 *
 * A module may declare several toolsets that share its settings and one
 * services object (e.g. read tools in one toolset, sending tools in
 * another, so they can be granted separately).
 *
 * @example
 * export const kustoModule = defineToolsetModule({
 *   name: 'kusto',
 *   settings: kustoSettings,
 *   unavailable: (settings) => (settings.clusters.length === 0 ? 'no cluster is configured' : undefined),
 *   services: (settings, deps) => createKustoServices(settings, ...),
 *   toolsets: [{ id: 'kusto', description: '…', enabledByDefault: true, tools: [kustoQuery] }],
 * });
 */

/** A module's own app settings: zod fields composed into the one schema of src/config.ts, cross-checks, and the typed view its services get. */
export interface ToolsetSettings<Shape extends z.ZodRawShape, Settings> {
  shape: Shape;
  /** Checks across fields, run with the other settings' checks so one start-up error lists every bad setting. */
  check?(values: z.output<z.ZodObject<Shape>>, ctx: z.RefinementCtx): void;
  /** The typed view, after every check passed. */
  from(values: z.output<z.ZodObject<Shape>>): Settings;
}

/** Identity function that types `check` and `from` from the shape. */
export function defineToolsetSettings<Shape extends z.ZodRawShape, Settings>(settings: ToolsetSettings<Shape, Settings>): ToolsetSettings<Shape, Settings> {
  return settings;
}

/** One toolset: what MCP_TOOLSETS and MCP_TOOLSET_GRANTS name, and the app role `toolset.<id>`. */
export interface Toolset<Id extends string = string, Services = unknown> {
  id: Id;
  /** What it is for (docs/tools.md). */
  description: string;
  /** On when MCP_TOOLSETS is not set. */
  enabledByDefault: boolean;
  /** In the order tools/list and the docs show them. */
  tools: ReadonlyArray<ToolDefinition<z.ZodObject, Services, Id>>;
}

/** What the app hands a services factory: the shared parts built once by src/app.ts. */
export interface ToolsetDeps {
  /** The settings every module may read (auth, downstream identities, limits). */
  config: GeneralConfig;
  /** The server name, for request ids and user agents. */
  appName: string;
  /** The app's managed identity (a lazily loaded credential). */
  credential: CredentialProvider;
  /** Key Vault secrets, when KEY_VAULT_URL is set. */
  secrets: SecretProvider | undefined;
  /** One cap for every backend call of this instance (MCP_MAX_BACKEND_CALLS). */
  backendLimiter: Limiter;
  /** Who a backend sees for each caller: the app's identity, or the caller on-behalf-of. */
  downstream(mode: DownstreamIdentityMode): DownstreamIdentities;
  /** Work that outlives its call (e.g. a backend cancel), which the shutdown waits for. */
  background(work: Promise<unknown>): void;
}

export interface ToolsetModule<Name extends string = string, Id extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape, Settings = unknown, Services = unknown> {
  /** The folder name; also the key of its settings in AppConfig (`config.<name>`). */
  name: Name;
  /** Absent when the module reads no setting of its own. */
  settings?: ToolsetSettings<Shape, Settings>;
  /** Why the module's toolsets cannot work in this deployment (their tools are then disabled with this reason), or undefined. */
  unavailable?(settings: Settings, config: GeneralConfig): string | undefined;
  /**
   * The services every tool of the module gets, never optional: a tool only
   * runs when the module is available. Called on the first call of one of
   * its tools, so start-up creates no client and loads no SDK.
   */
  services(settings: Settings, deps: ToolsetDeps): Services;
  toolsets: ReadonlyArray<Toolset<Id, Services>>;
}

/** Identity function that infers the ids as literal types, so the registry can derive their union. */
export function defineToolsetModule<const Name extends string, const Id extends string, Shape extends z.ZodRawShape = {}, Settings = undefined, Services = undefined>(
  module: ToolsetModule<Name, Id, Shape, Settings, Services>,
): ToolsetModule<Name, Id, Shape, Settings, Services> {
  return module;
}

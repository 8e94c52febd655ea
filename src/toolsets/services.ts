import type { GeneralConfig } from '../config.ts';
import type { ToolsetDeps } from './define-toolset.ts';
import { ANY_TOOLSET_MODULES, settingsOf, type AnyToolsetModule, type ToolsetSettingsByModule } from './settings.ts';

type Config = GeneralConfig & ToolsetSettingsByModule;

/** Toolset id → why it cannot work in this deployment, from each module's availability rule. */
export function unavailableToolsets(config: Config, modules: readonly AnyToolsetModule[] = ANY_TOOLSET_MODULES): Map<string, string> {
  const unavailable = new Map<string, string>();
  for (const module of modules) {
    const reason = module.unavailable?.(settingsOf(config, module), config);
    if (reason) for (const toolset of module.toolsets) unavailable.set(toolset.id, reason);
  }
  return unavailable;
}

/**
 * The services of a tool's toolset: each module's, created on the first call
 * of one of its tools (so start-up creates no client and loads no SDK), and
 * shared by all the toolsets of that module.
 */
export function createToolsetServices(config: Config, deps: ToolsetDeps, modules: readonly AnyToolsetModule[] = ANY_TOOLSET_MODULES): (toolset: string) => unknown {
  const byToolset = new Map<string, () => unknown>();
  for (const module of modules) {
    let created: { services: unknown } | undefined;
    const services = () => (created ??= { services: module.services(settingsOf(config, module), deps) }).services;
    for (const toolset of module.toolsets) byToolset.set(toolset.id, services);
  }
  return (toolset) => {
    const services = byToolset.get(toolset);
    if (!services) throw new Error(`no toolset module declares the toolset "${toolset}"`);
    return services();
  };
}

import type { z } from 'zod';
import type { ToolsetModule } from './define-toolset.ts';
import { TOOLSET_MODULES, type ToolsetModules } from './registry.ts';

/**
 * The toolset modules' own settings, composed for src/config.ts: one zod
 * shape (so every setting is validated and listed in one schema), their
 * checks, and the typed view each module gets, as `config.<module name>`.
 */

type UnionToIntersection<U> = (U extends unknown ? (part: U) => void : never) extends (whole: infer I) => void ? I : never;
type ShapeOf<M> = M extends ToolsetModule<string, string, infer Shape, any, any> ? Shape : never;
type SettingsOf<M> = M extends ToolsetModule<string, string, any, infer Settings, any> ? Settings : never;

/** Every module's settings fields, as one shape. */
export type ToolsetSettingsShape = UnionToIntersection<ShapeOf<ToolsetModules>>;

/** `config.<module name>`: each module's typed settings; a module without settings has no entry. */
export type ToolsetSettingsByModule = { [M in ToolsetModules as SettingsOf<M> extends undefined ? never : M['name']]: SettingsOf<M> };

/** A module with its types erased, for the code that treats every module alike (each module types its own settings). */
export type AnyToolsetModule = ToolsetModule<string, string, z.ZodRawShape, unknown, unknown>;
export const ANY_TOOLSET_MODULES: readonly AnyToolsetModule[] = TOOLSET_MODULES;

/** The modules' fields as one shape; a setting declared twice would be validated by only one of them, so it is refused. */
export function mergeSettingsShapes(modules: readonly AnyToolsetModule[], taken: readonly string[]): z.ZodRawShape {
  const merged: Record<string, z.core.$ZodType> = {};
  const owner = new Map<string, string>(taken.map((name) => [name, 'src/config.ts']));
  for (const module of modules) {
    for (const [name, field] of Object.entries(module.settings?.shape ?? {})) {
      const other = owner.get(name);
      if (other) throw new Error(`the setting ${name} is declared by both ${other} and the toolset module ${module.name}`);
      owner.set(name, `the toolset module ${module.name}`);
      merged[name] = field;
    }
  }
  return merged;
}

/** Every module's own shape, after the general settings (`generalNames`). */
export const toolsetSettingsShape = (generalNames: readonly string[]): ToolsetSettingsShape =>
  mergeSettingsShapes(ANY_TOOLSET_MODULES, generalNames) as ToolsetSettingsShape;

/** Every module's cross-field checks; call from config.ts's `superRefine`. */
export function checkToolsetSettings(values: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const module of ANY_TOOLSET_MODULES) module.settings?.check?.(values, ctx);
}

/** Each module's typed settings, keyed by module name (after the checks passed). */
export function toolsetSettingsFrom(values: Record<string, unknown>): ToolsetSettingsByModule {
  const byModule: Record<string, unknown> = {};
  for (const module of ANY_TOOLSET_MODULES) if (module.settings) byModule[module.name] = module.settings.from(values);
  // Each entry is the `from` of the module of that name, which is what the mapped type says.
  return byModule as ToolsetSettingsByModule;
}

/** A module's settings, out of the app config (undefined for a module without settings). */
export function settingsOf(config: ToolsetSettingsByModule, module: AnyToolsetModule): unknown {
  return (config as unknown as Readonly<Record<string, unknown>>)[module.name];
}

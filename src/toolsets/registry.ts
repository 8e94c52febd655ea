import type { Toolset } from './define-toolset.ts';
import { graphModule } from './graph/module.ts';
import { kustoModule } from './kusto/module.ts';
import { serverModule } from './server/module.ts';

/**
 * Every toolset module of the product: the one place that names them.
 * Config (settings, MCP_TOOLSETS), the catalog, the grants, docs/tools.md and
 * the README's tool table are all derived from this list; its order is the
 * order of tools/list and of the docs. Adding a toolset: a folder
 * src/toolsets/<name>/ with its module.ts, and one entry here.
 */
export const TOOLSET_MODULES = [serverModule, kustoModule, graphModule] as const;

export type ToolsetModules = (typeof TOOLSET_MODULES)[number];
/** Every toolset id, as a type: naming a toolset that does not exist is a compile error. */
export type ToolsetId = ToolsetModules['toolsets'][number]['id'];

/** Every toolset, in registry order. */
export const TOOLSETS: ReadonlyArray<Toolset<ToolsetId>> = TOOLSET_MODULES.flatMap((module): ReadonlyArray<Toolset<ToolsetId>> => module.toolsets);

export const TOOLSET_IDS: readonly ToolsetId[] = TOOLSETS.map((toolset) => toolset.id);

export const isToolsetId = (id: string): id is ToolsetId => (TOOLSET_IDS as readonly string[]).includes(id);

/** What is wrong with a list of toolset ids (MCP_TOOLSETS), phrased to follow the setting's name; undefined when every id is known. */
export function unknownToolsetsProblem(ids: readonly string[]): string | undefined {
  const unknown = ids.filter((id) => !isToolsetId(id));
  return unknown.length > 0 ? `names unknown toolsets: ${unknown.join(', ')}. Known: ${TOOLSET_IDS.join(', ')}` : undefined;
}

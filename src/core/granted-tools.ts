import type { Tool } from '@modelcontextprotocol/server';
import { isAnonymous, type GrantPolicy, type ToolAccess } from '../auth/grants.ts';
import type { ToolCatalog } from '../tools/catalog.ts';
import type { CallerIdentity } from './caller.ts';

/**
 * The enabled catalog as one caller may see it. The descriptors (JSON
 * Schemas included) are built once at start; a request only computes its
 * caller's grants (a few string comparisons) and picks the list cached for
 * that combination of grants (at most three per toolset).
 */
export interface GrantedTools {
  readonly policy: GrantPolicy;
  /** Whether this caller's `tools/list` may differ from another caller's: its 2026-07-28 cache hint is then `private`. */
  personal(caller: CallerIdentity): boolean;
  /** The `tools/list` descriptors for this caller. */
  descriptors(caller: CallerIdentity): Tool[];
  /** The names of the tools this caller may call. */
  names(caller: CallerIdentity): readonly string[];
  access(caller: CallerIdentity): ToolAccess;
}

export function createGrantedTools(catalog: ToolCatalog, policy: GrantPolicy): GrantedTools {
  const enabled = [...catalog.enabled.values()];
  const allNames = enabled.map((tool) => tool.name);
  const byKey = new Map<string, { descriptors: Tool[]; names: string[] }>();
  const everything = { descriptors: catalog.descriptors, names: allNames };
  // An anonymous listing (entra mode with MCP_ALLOW_ANONYMOUS_TOOLS_LIST, for gateways that register
  // tools before anyone signs in) shows the enabled catalog: it names no caller, and calling still needs a grant.
  const listsAll = (caller: CallerIdentity) => !policy.dependsOnCaller || isAnonymous(caller);
  const forCaller = (caller: CallerIdentity) => {
    if (listsAll(caller)) return everything;
    const access = policy.access(caller);
    let list = byKey.get(access.key);
    if (!list) {
      const descriptors: Tool[] = [];
      const names: string[] = [];
      enabled.forEach((tool, index) => {
        if (!access.allows(tool)) return;
        descriptors.push(catalog.descriptors[index]!);
        names.push(tool.name);
      });
      list = { descriptors, names };
      byKey.set(access.key, list);
    }
    return list;
  };
  return {
    policy,
    personal: (caller) => !listsAll(caller),
    descriptors: (caller) => forCaller(caller).descriptors,
    names: (caller) => forCaller(caller).names,
    access: (caller) => policy.access(caller),
  };
}

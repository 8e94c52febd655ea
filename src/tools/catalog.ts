import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/server';
import type { ToolDefinition } from './define-tool.ts';
import { TOOLSETS, unknownToolsetsProblem } from '../toolsets/registry.ts';

/** Every tool the product has, from the toolset modules (src/toolsets/registry.ts). Filters decide which ones a deployment exposes. */
export const ALL_TOOLS: readonly ToolDefinition[] = TOOLSETS.flatMap((toolset) => toolset.tools);

export interface CatalogOptions {
  /** Toolset ids to enable; empty means each toolset's `enabledByDefault`. */
  toolsets: readonly string[];
  /** Expose only tools whose `readOnlyHint` is true. */
  readOnly: boolean;
  /** Toolsets that cannot work in this deployment (e.g. no cluster configured), with the reason. */
  unavailable?: ReadonlyMap<string, string>;
}

export interface ToolCatalog {
  /** Every tool the product has, enabled or not (disabled ones are still audited by their definition). */
  known: ReadonlyMap<string, ToolDefinition>;
  enabled: ReadonlyMap<string, ToolDefinition>;
  /** Tools that exist but are switched off here, with the reason a caller is told. */
  disabled: ReadonlyMap<string, string>;
  toolsets: readonly string[];
  /** The `tools/list` descriptors, JSON Schemas included, built once. */
  descriptors: Tool[];
}

export function toolDescriptor(tool: ToolDefinition): Tool {
  const descriptor: Tool = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { io: 'input' }) as Tool['inputSchema'],
    annotations: { title: tool.title, ...tool.annotations },
  };
  if (tool.output) descriptor.outputSchema = z.toJSONSchema(tool.output, { io: 'output' }) as Tool['outputSchema'];
  return descriptor;
}

/**
 * Builds the per-deployment tool list once at start-up, JSON Schemas included,
 * so no request ever converts a zod schema.
 */
export function buildToolCatalog(options: CatalogOptions, tools: readonly ToolDefinition[] = ALL_TOOLS): ToolCatalog {
  // config.ts refuses these at start-up already; a programmatic caller gets the same words.
  const unknown = unknownToolsetsProblem(options.toolsets);
  if (unknown) throw new Error(`MCP_TOOLSETS ${unknown}`);
  const active = new Set(
    options.toolsets.length > 0 ? options.toolsets : TOOLSETS.filter((t) => t.enabledByDefault).map((t) => t.id),
  );
  const enabled = new Map<string, ToolDefinition>();
  const disabled = new Map<string, string>();
  for (const tool of tools) {
    const unavailable = options.unavailable?.get(tool.toolset);
    if (unavailable) {
      disabled.set(tool.name, unavailable);
    } else if (!active.has(tool.toolset)) {
      disabled.set(tool.name, `its toolset "${tool.toolset}" is not enabled on this server (MCP_TOOLSETS)`);
    } else if (options.readOnly && !tool.annotations.readOnlyHint) {
      disabled.set(tool.name, 'this server runs in read-only mode (MCP_READ_ONLY) and the tool can make changes');
    } else {
      enabled.set(tool.name, tool);
    }
  }
  return {
    known: new Map(tools.map((tool) => [tool.name, tool])),
    enabled,
    disabled,
    toolsets: [...active].filter((id) => !options.unavailable?.has(id)),
    descriptors: [...enabled.values()].map(toolDescriptor),
  };
}

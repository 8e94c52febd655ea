/** Toolsets are data: an id, what it is for, and whether it is on when MCP_TOOLSETS is not set. */
export interface Toolset {
  id: string;
  description: string;
  enabledByDefault: boolean;
}

export const TOOLSETS: readonly Toolset[] = [
  { id: 'server', description: 'Facts about this server and how it sees the caller.', enabledByDefault: true },
  {
    id: 'kusto',
    description: 'Azure Data Explorer / Fabric Eventhouse: discover databases, tables and schemas, sample, and run read-only KQL with budgets.',
    enabledByDefault: true,
  },
];

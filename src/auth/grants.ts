import type { Principal } from './principal.ts';
import type { McpAuthMode } from './settings.ts';

/**
 * Which toolsets a caller may use: the decision behind `tools/list` (only
 * what the caller may call) and `tools/call` (anything else is `not_granted`).
 *
 * `MCP_TOOLSET_GRANTS` names who gets a toolset, as rules:
 *
 *   kusto=role:toolset.kusto|group:0f1e…;server=scope:user_impersonation
 *
 * entries separated by `;`, each `<toolset>=<subject>|<subject>…`, a subject
 * being `role:<app role value>` (the token's `roles`), `scope:<delegated
 * scope>` (`scp`) or `group:<group object id>` (`groups`). A caller matching
 * any subject of a toolset's rule gets every enabled tool of that toolset,
 * tools that can make changes included (MCP_READ_ONLY still applies).
 *
 * Without a rule, only read-only tools (`readOnlyHint: true`) are ever
 * granted, by the defaults:
 * - the app role `toolset.<id>` (one per toolset, created by infra/) grants
 *   the read-only tools of `<id>`, rule or no rule;
 * - for a toolset no rule names, being admitted at all grants its read-only
 *   tools: in `entra` mode the delegated scope (`ENTRA_REQUIRED_SCOPE`,
 *   `user_impersonation`) or, app-only, the app role `ENTRA_APP_ROLE`; in
 *   `easyAuth` mode App Service authentication's admission.
 * So a tool that can make changes is only ever granted by a rule naming its
 * toolset. In `functionKey` and `none` modes nobody is identified and every
 * enabled tool is granted (the rules are refused at start-up there).
 */

export type GrantSubjectKind = 'role' | 'scope' | 'group';
export interface GrantSubject {
  kind: GrantSubjectKind;
  /** App role or scope value as declared on the app registration; a group's object id, lower case. */
  value: string;
}

/** Toolset id → who it is granted to, from `MCP_TOOLSET_GRANTS`. */
export type ToolsetGrants = ReadonlyMap<string, readonly GrantSubject[]>;

/** The app role infra/modules/entra-app.bicep creates for each toolset. */
export const TOOLSET_ROLE_PREFIX = 'toolset.';
export const toolsetRole = (toolset: string): string => `${TOOLSET_ROLE_PREFIX}${toolset}`;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** App role and scope values as Entra allows them (no spaces, no slash). */
const PERMISSION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$/;
const SUBJECT_KINDS: readonly GrantSubjectKind[] = ['role', 'scope', 'group'];
/** Far beyond any real policy; keeps a pasted blob from becoming a slow per-request check. */
const MAX_SUBJECTS = 100;

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);

/**
 * Parses `MCP_TOOLSET_GRANTS`. Problems are phrased to follow the setting's
 * name (config.ts prefixes it); with any problem, `grants` is empty.
 */
export function parseToolsetGrants(text: string | undefined, knownToolsets: readonly string[]): { grants: ToolsetGrants; problems: string[] } {
  const grants = new Map<string, GrantSubject[]>();
  const problems: string[] = [];
  const syntax = 'entries are <toolset>=<subject>|<subject>…, separated by ";"; a subject is role:<app role>, scope:<delegated scope> or group:<group object id>';
  let count = 0;
  const entries = (text ?? '').split(';').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals < 0) {
      problems.push(`entry ${quote(entry)} has no "=": ${syntax}`);
      continue;
    }
    const toolset = entry.slice(0, equals).trim();
    const right = entry.slice(equals + 1).trim();
    if (!knownToolsets.includes(toolset)) {
      problems.push(`names unknown toolset ${quote(toolset)}; known: ${knownToolsets.join(', ')}`);
      continue;
    }
    if (grants.has(toolset)) {
      problems.push(`names toolset ${toolset} twice; list all its subjects in one entry, joined by "|"`);
      continue;
    }
    if (right === '') {
      problems.push(`entry for ${toolset} grants it to nobody: ${syntax} (to turn a toolset off, leave it out of MCP_TOOLSETS)`);
      continue;
    }
    const subjects: GrantSubject[] = [];
    for (const term of right.split('|').map((part) => part.trim())) {
      const colon = term.indexOf(':');
      const kind = (colon < 0 ? '' : term.slice(0, colon).trim()) as GrantSubjectKind;
      const value = colon < 0 ? '' : term.slice(colon + 1).trim();
      if (!SUBJECT_KINDS.includes(kind)) {
        problems.push(`entry for ${toolset}: ${quote(term)} is not role:<app role>, scope:<delegated scope> or group:<group object id>`);
      } else if (kind === 'group' && !GUID.test(value)) {
        problems.push(`entry for ${toolset}: group ${quote(value)} must be a group's object id (a GUID, as tokens carry it in "groups"), not a name`);
      } else if (kind !== 'group' && (!PERMISSION_VALUE.test(value) || value === 'offline_access')) {
        problems.push(`entry for ${toolset}: ${kind} ${quote(value)} must be ${kind === 'role' ? 'an app role' : 'a delegated scope'} value as declared on the app registration (no spaces or slashes, not fully qualified)`);
      } else if (!subjects.some((s) => s.kind === kind && s.value.toLowerCase() === value.toLowerCase())) {
        subjects.push({ kind, value: kind === 'group' ? value.toLowerCase() : value });
      }
    }
    count += subjects.length;
    grants.set(toolset, subjects);
  }
  if (count > MAX_SUBJECTS) problems.push(`lists ${count} subjects; at most ${MAX_SUBJECTS} (grant app roles to groups in Entra instead of listing many groups here)`);
  return { grants: problems.length > 0 ? new Map() : grants, problems };
}

/** How much of a toolset a caller has: nothing, its read-only tools, or all of its (enabled) tools. */
export type GrantLevel = 'none' | 'read' | 'all';

/** What the decision looks at in a tool. */
export interface GrantableTool {
  name: string;
  toolset: string;
  annotations: { readOnlyHint: boolean };
}

/** One caller's grants, computed once per request. */
export interface ToolAccess {
  /** Same key, same tool set: a stable string for caching per-grant results (e.g. `tools/list`). */
  readonly key: string;
  level(toolset: string): GrantLevel;
  allows(tool: GrantableTool): boolean;
}

export interface GrantPolicyOptions {
  authMode: McpAuthMode;
  /** Every toolset id the product has (src/toolsets/registry.ts). */
  toolsets: readonly string[];
  grants: ToolsetGrants;
  /** entra mode: the delegated scope that admits users (default `user_impersonation`). */
  requiredScope?: string | undefined;
  /** entra mode: the app role that admits app-only callers. */
  appRole?: string | undefined;
}

export interface GrantPolicy {
  /** False in `functionKey` and `none` modes: nobody is identified and everyone gets every enabled tool. */
  readonly dependsOnCaller: boolean;
  access(principal: Principal): ToolAccess;
  /** For a refusal: what grants this tool, and who can grant it, in words for the caller. */
  requirement(tool: GrantableTool): string;
}

/** A caller the server admitted without identifying (anonymous `tools/list` in entra mode, functionKey, none). */
export const isAnonymous = (principal: Principal): boolean => principal.objectId === undefined && principal.appId === undefined && principal.idtyp === undefined;

function levelAllows(level: GrantLevel, tool: GrantableTool): boolean {
  return level === 'all' || (level === 'read' && tool.annotations.readOnlyHint === true);
}

function describeSubject(subject: GrantSubject): string {
  if (subject.kind === 'role') return `the app role '${subject.value}'`;
  if (subject.kind === 'scope') return `the delegated scope '${subject.value}'`;
  return `membership of the group ${subject.value}`;
}

function either(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

export function createGrantPolicy(options: GrantPolicyOptions): GrantPolicy {
  const { authMode, toolsets, grants } = options;
  const dependsOnCaller = authMode === 'entra' || authMode === 'easyAuth';
  const everything: ToolAccess = { key: 'all', level: () => 'all', allows: () => true };
  const nothing: ToolAccess = { key: 'none', level: () => 'none', allows: () => false };
  // Keyed by toolset order, so equal grants always give the same key.
  const order = [...toolsets];
  const letter: Record<GrantLevel, string> = { none: '-', read: 'r', all: 'a' };

  /** Admitted at all, in the way this mode admits people: the default read-only grant for toolsets without a rule. */
  function admitted(principal: Principal): boolean {
    if (authMode === 'easyAuth') return principal.objectId !== undefined;
    if (principal.idtyp === 'app') return options.appRole !== undefined && principal.roles.includes(options.appRole);
    return principal.idtyp === 'user' && principal.scopes.includes(options.requiredScope ?? 'user_impersonation');
  }

  function matches(principal: Principal, subject: GrantSubject): boolean {
    if (subject.kind === 'role') return principal.roles.includes(subject.value);
    if (subject.kind === 'scope') return principal.scopes.includes(subject.value);
    return principal.groups.some((group) => group.toLowerCase() === subject.value);
  }

  function levelFor(principal: Principal, toolset: string, baseline: boolean): GrantLevel {
    const rule = grants.get(toolset);
    if (rule?.some((subject) => matches(principal, subject))) return 'all';
    if (principal.roles.includes(toolsetRole(toolset))) return 'read';
    return !rule && baseline ? 'read' : 'none';
  }

  return {
    dependsOnCaller,
    access(principal) {
      if (!dependsOnCaller) return everything;
      if (isAnonymous(principal)) return nothing;
      const baseline = admitted(principal);
      const levels = new Map<string, GrantLevel>();
      let key = '';
      for (const toolset of order) {
        const level = levelFor(principal, toolset, baseline);
        levels.set(toolset, level);
        key += letter[level];
      }
      return {
        key,
        level: (toolset) => levels.get(toolset) ?? 'none',
        allows: (tool) => levelAllows(levels.get(tool.toolset) ?? 'none', tool),
      };
    },
    requirement(tool) {
      const rule = grants.get(tool.toolset) ?? [];
      const ways = rule.map(describeSubject);
      if (tool.annotations.readOnlyHint) {
        ways.push(describeSubject({ kind: 'role', value: toolsetRole(tool.toolset) }));
        if (rule.length === 0 && authMode === 'entra') {
          ways.push(describeSubject({ kind: 'scope', value: options.requiredScope ?? 'user_impersonation' }));
          if (options.appRole) ways.push(`(for an application) the app role '${options.appRole}'`);
        }
      }
      const admin =
        'An administrator of the Entra app registration grants it: assign you (or a group you are in) the app role in Entra admin center > Enterprise applications > this server\'s app > Users and groups, or add you to the group; then sign in again for a new token.';
      if (ways.length === 0) {
        return `${tool.name} can make changes, and tools that can make changes are granted only by a rule in MCP_TOOLSET_GRANTS naming the toolset "${tool.toolset}"; this server has none. An administrator of this server adds one (e.g. ${tool.toolset}=role:${toolsetRole(tool.toolset)}) and assigns that app role.`;
      }
      return `the toolset "${tool.toolset}" needs ${either(ways)}. ${admin}`;
    },
  };
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config.ts';
import { TOOLSETS } from '../toolsets/registry.ts';
import { createGrantPolicy, parseToolsetGrants, TOOLSET_ROLE_PREFIX, type GrantableTool, type GrantPolicyOptions } from './grants.ts';
import { anonymousPrincipal, createPrincipal, type PrincipalFields } from './principal.ts';

const KNOWN = ['server', 'kusto'];
const GROUP = '0f1e2d3c-4b5a-4697-8877-665544332211';

const read = (toolset: string, name = `${toolset}_read`): GrantableTool => ({ name, toolset, annotations: { readOnlyHint: true } });
const write = (toolset: string, name = `${toolset}_write`): GrantableTool => ({ name, toolset, annotations: { readOnlyHint: false } });

const user = (fields: Partial<PrincipalFields> = {}) =>
  createPrincipal({ authMode: 'entra', idtyp: 'user', objectId: 'oid-user', tenantId: 'tid', scopes: ['user_impersonation'], ...fields });
const app = (fields: Partial<PrincipalFields> = {}) => createPrincipal({ authMode: 'entra', idtyp: 'app', objectId: 'oid-app', tenantId: 'tid', appId: 'client', ...fields });

function policy(text?: string, options: Partial<GrantPolicyOptions> = {}) {
  const parsed = parseToolsetGrants(text, KNOWN);
  assert.deepEqual(parsed.problems, []);
  return createGrantPolicy({ authMode: 'entra', toolsets: KNOWN, grants: parsed.grants, requiredScope: 'user_impersonation', ...options });
}

/** What a principal may call, as `toolset:read|write` pairs, for compact assertions. */
function allowed(p: ReturnType<typeof policy>, principal: ReturnType<typeof user>): string[] {
  const access = p.access(principal);
  return KNOWN.flatMap((toolset) => [read(toolset), write(toolset)]).filter((tool) => access.allows(tool)).map((tool) => tool.name);
}

const configProblems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

const ENTRA = {
  MCP_AUTH_MODE: 'entra',
  ENTRA_TENANT_ID: '12345678-1234-4234-8234-123456789abc',
  ENTRA_API_CLIENT_ID: '99999999-8888-4777-8666-555555555555',
  MCP_PUBLIC_URL: 'https://func.example.net/mcp',
};

describe('MCP_TOOLSET_GRANTS syntax', () => {
  it('parses entries, trims spaces, lower-cases group ids and drops repeated subjects', () => {
    const { grants, problems } = parseToolsetGrants(` kusto = role:Kusto.Read | group:${GROUP.toUpperCase()} | role:kusto.read ;server=scope:user_impersonation;`, KNOWN);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      [...grants],
      [
        ['kusto', [{ kind: 'role', value: 'Kusto.Read' }, { kind: 'group', value: GROUP }]],
        ['server', [{ kind: 'scope', value: 'user_impersonation' }]],
      ],
    );
    assert.equal(parseToolsetGrants(undefined, KNOWN).grants.size, 0);
    assert.equal(parseToolsetGrants('  ', KNOWN).grants.size, 0);
  });

  const bad: Array<[string, RegExp]> = [
    ['kusto', /has no "="/],
    ['teams.send=role:Graph.Send', /unknown toolset "teams\.send"; known: server, kusto/],
    ['kusto=role:a;kusto=role:b', /names toolset kusto twice/],
    ['kusto=', /grants it to nobody/],
    ['kusto=user:ada@contoso.com', /"user:ada@contoso.com" is not role:<app role>, scope:<delegated scope> or group:<group object id>/],
    ['kusto=role:', /role "" must be an app role value/],
    ['kusto=role:Kusto Read', /must be an app role value/],
    ['kusto=scope:api://x/user_impersonation', /must be a delegated scope value/],
    ['kusto=scope:offline_access', /must be a delegated scope value/],
    ['kusto=group:Data Readers', /must be a group's object id \(a GUID/],
    [`kusto=${Array.from({ length: 101 }, (_, i) => `role:r${i}`).join('|')}`, /lists 101 subjects; at most 100/],
  ];
  for (const [text, expected] of bad) {
    it(`refuses ${JSON.stringify(text.slice(0, 40))}, naming the setting`, () => {
      const { grants, problems } = parseToolsetGrants(text, KNOWN);
      assert.equal(grants.size, 0, 'a policy with a problem grants nothing');
      assert.match(problems.join('\n'), expected);
      const fromConfig = configProblems({ ...ENTRA, MCP_TOOLSET_GRANTS: text });
      assert.ok(fromConfig.length > 0 && fromConfig.every((problem) => problem.startsWith('MCP_TOOLSET_GRANTS ')), fromConfig.join('\n'));
    });
  }

  it('is refused in modes that identify nobody, and accepted in entra and easyAuth', () => {
    for (const mode of ['functionKey', 'none']) {
      assert.match(configProblems({ MCP_AUTH_MODE: mode, MCP_TOOLSET_GRANTS: 'kusto=role:toolset.kusto' }).join('\n'), /MCP_TOOLSET_GRANTS only applies when MCP_AUTH_MODE is entra or easyAuth/);
    }
    const entra = loadConfig({ ...ENTRA, MCP_TOOLSET_GRANTS: 'kusto=role:toolset.kusto' });
    assert.deepEqual([...entra.toolsetGrants.keys()], ['kusto']);
    const easy = loadConfig({ MCP_AUTH_MODE: 'easyAuth', WEBSITE_SITE_NAME: 'func', WEBSITE_AUTH_ENABLED: 'True', MCP_TOOLSET_GRANTS: `server=group:${GROUP}` });
    assert.deepEqual(easy.toolsetGrants.get('server'), [{ kind: 'group', value: GROUP }]);
    assert.equal(loadConfig({}).toolsetGrants.size, 0);
  });

  it('validates toolsets against the product\'s toolsets', () => {
    const ids = TOOLSETS.map((toolset) => toolset.id);
    assert.deepEqual(configProblems({ ...ENTRA, MCP_TOOLSET_GRANTS: ids.map((id) => `${id}=role:${TOOLSET_ROLE_PREFIX}${id}`).join(';') }), []);
  });
});

describe('default grants (no MCP_TOOLSET_GRANTS)', () => {
  it('entra: the delegated scope alone grants the read-only tools of every toolset, never a write tool', () => {
    assert.deepEqual(allowed(policy(), user()), ['server_read', 'kusto_read']);
  });

  it('entra: without the scope or a toolset role, nothing (a token for another scope)', () => {
    assert.deepEqual(allowed(policy(), user({ scopes: ['other'] })), []);
  });

  it('the app role toolset.<id> grants the read-only tools of that toolset only; write tools stay ungranted', () => {
    assert.deepEqual(allowed(policy(), user({ scopes: [], roles: ['toolset.kusto'] })), ['kusto_read']);
    assert.deepEqual(allowed(policy(), app({ roles: ['toolset.server', 'toolset.kusto'] })), ['server_read', 'kusto_read']);
  });

  it('app-only: ENTRA_APP_ROLE admits like the scope does (read-only everywhere); other roles do not', () => {
    assert.deepEqual(allowed(policy(undefined, { appRole: 'mcp.call' }), app({ roles: ['mcp.call'] })), ['server_read', 'kusto_read']);
    assert.deepEqual(allowed(policy(undefined, { appRole: 'mcp.call' }), app({ roles: ['something.else'] })), []);
    // A scope in an app token is not a user's delegation.
    assert.deepEqual(allowed(policy(), app({ scopes: ['user_impersonation'] })), []);
  });

  it('a custom ENTRA_REQUIRED_SCOPE is the one that admits', () => {
    assert.deepEqual(allowed(policy(undefined, { requiredScope: 'mcp.use' }), user({ scopes: ['mcp.use'] })), ['server_read', 'kusto_read']);
    assert.deepEqual(allowed(policy(undefined, { requiredScope: 'mcp.use' }), user()), []);
  });

  it('easyAuth: any admitted caller gets the read-only tools; roles work like entra', () => {
    const easy = policy(undefined, { authMode: 'easyAuth' });
    assert.deepEqual(allowed(easy, createPrincipal({ authMode: 'easyAuth', idtyp: 'user', objectId: 'oid' })), ['server_read', 'kusto_read']);
    assert.equal(easy.dependsOnCaller, true);
  });

  it('functionKey and none identify nobody: every enabled tool, write tools included, for everyone', () => {
    for (const authMode of ['functionKey', 'none'] as const) {
      const open = policy(undefined, { authMode });
      assert.equal(open.dependsOnCaller, false);
      assert.deepEqual(allowed(open, anonymousPrincipal(authMode)), ['server_read', 'server_write', 'kusto_read', 'kusto_write']);
    }
  });

  it('an anonymous caller in entra mode (MCP_ALLOW_ANONYMOUS_TOOLS_LIST) is granted nothing', () => {
    assert.deepEqual(allowed(policy(), anonymousPrincipal('entra')), []);
  });
});

describe('configured grants', () => {
  it('a rule grants every tool of its toolset, write tools included, to whoever matches one subject', () => {
    const p = policy(`kusto=role:Kusto.Admin|group:${GROUP}|scope:Kusto.Write`);
    assert.deepEqual(allowed(p, user({ roles: ['Kusto.Admin'] })), ['server_read', 'kusto_read', 'kusto_write']);
    assert.deepEqual(allowed(p, user({ groups: [GROUP.toUpperCase()] })), ['server_read', 'kusto_read', 'kusto_write'], 'group ids compare case-insensitively');
    assert.deepEqual(allowed(p, user({ scopes: ['user_impersonation', 'Kusto.Write'] })), ['server_read', 'kusto_read', 'kusto_write']);
  });

  it('a rule replaces the scope default for its toolset only; the toolset role still grants its read-only tools', () => {
    const p = policy(`kusto=group:${GROUP}`);
    assert.deepEqual(allowed(p, user()), ['server_read'], 'the scope alone no longer grants kusto');
    assert.deepEqual(allowed(p, user({ roles: ['toolset.kusto'] })), ['server_read', 'kusto_read']);
    assert.deepEqual(allowed(p, user({ groups: ['11111111-2222-4333-8444-555555555555'] })), ['server_read'], 'another group');
  });

  it('write tools are granted only by a rule, even to the toolset role', () => {
    assert.deepEqual(allowed(policy(), user({ roles: ['toolset.server'] })), ['server_read', 'kusto_read']);
    assert.deepEqual(allowed(policy('server=role:toolset.server'), user({ roles: ['toolset.server'] })), ['server_read', 'server_write', 'kusto_read']);
  });

  it('equal grants share a key (one cached tool list); different grants do not', () => {
    const p = policy(`kusto=group:${GROUP}`);
    const a = p.access(user({ objectId: 'a' }));
    const b = p.access(user({ objectId: 'b', upn: 'b@contoso' }));
    const c = p.access(user({ objectId: 'c', groups: [GROUP] }));
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, c.key);
    assert.equal(a.level('kusto'), 'none');
    assert.equal(c.level('kusto'), 'all');
    assert.equal(c.level('server'), 'read');
    assert.equal(c.level('unknown'), 'none');
  });
});

describe('what a refused caller is told', () => {
  it('names the role, scope and group that grant the tool, and that an administrator grants them', () => {
    const p = policy(`kusto=role:Kusto.Admin|group:${GROUP}`);
    const text = p.requirement(read('kusto', 'kusto_query'));
    assert.match(text, /the toolset "kusto" needs the app role 'Kusto.Admin', membership of the group 0f1e2d3c-4b5a-4697-8877-665544332211 or the app role 'toolset.kusto'/);
    assert.match(text, /An administrator of the Entra app registration grants it/);
    assert.match(text, /Users and groups/);
    const writeText = p.requirement(write('kusto'));
    assert.doesNotMatch(writeText, /toolset\.kusto/, 'the toolset role does not grant a write tool, so it is not offered');
  });

  it('without a rule: the toolset role or the scope for read-only tools; for a write tool, that a rule is needed', () => {
    assert.match(policy(undefined, { appRole: 'mcp.call' }).requirement(read('server')), /needs the app role 'toolset.server', the delegated scope 'user_impersonation' or \(for an application\) the app role 'mcp.call'/);
    assert.match(policy().requirement(write('server', 'server_restart')), /server_restart can make changes, and tools that can make changes are granted only by a rule in MCP_TOOLSET_GRANTS naming the toolset "server".*server=role:toolset.server/);
  });
});

describe('the roles infra/ creates', () => {
  it('infra/modules/entra-app.bicep names each toolset\'s app role toolset.<id>, as the default grants expect', () => {
    const bicep = readFileSync(new URL('../../infra/modules/entra-app.bicep', import.meta.url), 'utf8');
    assert.ok(bicep.includes(`value: '${TOOLSET_ROLE_PREFIX}\${toolset}'`), 'the app role value pattern changed: update TOOLSET_ROLE_PREFIX (src/auth/grants.ts) with it');
  });
});

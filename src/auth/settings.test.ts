import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authSettingsFrom, authSettingsSchema, qualifiedScope, type AuthSettings } from './settings.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TENANT_2 = '00000000-0000-4000-8000-0000000e7a18';
const CLIENT = '11111111-2222-4333-8444-555555555555';
const ENTRA = { MCP_AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_API_CLIENT_ID: CLIENT, MCP_PUBLIC_URL: 'https://app.azurewebsites.net/mcp' };

function parse(env: Record<string, string>): AuthSettings {
  const parsed = authSettingsSchema.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
  return authSettingsFrom(parsed.data);
}

function problems(env: Record<string, string>): string[] {
  const parsed = authSettingsSchema.safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
}

describe('auth settings', () => {
  it('defaults to functionKey with nothing else set', () => {
    assert.deepEqual(parse({}), { mode: 'functionKey', entra: undefined, publicUrl: undefined, allowAnonymousToolsList: false, facade: undefined });
  });

  it('entra mode: defaults for the identifier URI, scope, skew, authority and v1', () => {
    const settings = parse(ENTRA);
    assert.deepEqual(settings.entra, {
      authorityHost: 'https://login.microsoftonline.com',
      tenantIds: [TENANT],
      clientId: CLIENT,
      identifierUri: `api://${CLIENT}`,
      acceptV1Tokens: false,
      requiredScope: 'user_impersonation',
      appRole: undefined,
      clockSkewSeconds: 60,
    });
    assert.equal(settings.publicUrl, 'https://app.azurewebsites.net/mcp');
    assert.equal(qualifiedScope(settings.entra!), `api://${CLIENT}/user_impersonation`);
  });

  it('entra mode: every setting read', () => {
    const settings = parse({
      ...ENTRA,
      ENTRA_TENANT_ID: ` ${TENANT.toUpperCase()}, ${TENANT_2} ,${TENANT}`,
      ENTRA_API_IDENTIFIER_URI: 'api://contoso.com/mcp/',
      ENTRA_ACCEPT_V1_TOKENS: 'true',
      ENTRA_REQUIRED_SCOPE: 'mcp.invoke',
      ENTRA_APP_ROLE: 'kusto.read',
      ENTRA_CLOCK_SKEW_SECONDS: '0',
      AZURE_AUTHORITY_HOST: 'https://login.localhost:8443/',
      MCP_PUBLIC_URL: 'https://mcp.contoso.com/api/mcp/',
      MCP_ALLOW_ANONYMOUS_TOOLS_LIST: 'yes',
    });
    assert.deepEqual(settings.entra?.tenantIds, [TENANT, TENANT_2]);
    assert.equal(settings.entra?.identifierUri, 'api://contoso.com/mcp');
    assert.equal(settings.entra?.acceptV1Tokens, true);
    assert.equal(settings.entra?.requiredScope, 'mcp.invoke');
    assert.equal(settings.entra?.appRole, 'kusto.read');
    assert.equal(settings.entra?.clockSkewSeconds, 0);
    assert.equal(settings.entra?.authorityHost, 'https://login.localhost:8443');
    assert.equal(settings.publicUrl, 'https://mcp.contoso.com/api/mcp');
    assert.equal(settings.allowAnonymousToolsList, true);
  });

  it('entra mode needs tenant, client id and public URL, each named', () => {
    const found = problems({ MCP_AUTH_MODE: 'entra' });
    assert.ok(found.some((p) => p.startsWith('ENTRA_TENANT_ID is required')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('ENTRA_API_CLIENT_ID is required')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('MCP_PUBLIC_URL is required')), found.join('\n'));
  });

  it('refuses values that would weaken or break validation', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ ...ENTRA, ENTRA_TENANT_ID: 'common' }, 'ENTRA_TENANT_ID'],
      [{ ...ENTRA, ENTRA_TENANT_ID: `${TENANT},contoso.onmicrosoft.com` }, 'ENTRA_TENANT_ID'],
      [{ ...ENTRA, ENTRA_API_CLIENT_ID: 'my-app' }, 'ENTRA_API_CLIENT_ID'],
      [{ ...ENTRA, ENTRA_API_IDENTIFIER_URI: 'urn:x' }, 'ENTRA_API_IDENTIFIER_URI'],
      [{ ...ENTRA, ENTRA_REQUIRED_SCOPE: 'offline_access' }, 'ENTRA_REQUIRED_SCOPE'],
      [{ ...ENTRA, ENTRA_REQUIRED_SCOPE: `api://${CLIENT}/user_impersonation` }, 'ENTRA_REQUIRED_SCOPE'],
      [{ ...ENTRA, ENTRA_APP_ROLE: 'two words' }, 'ENTRA_APP_ROLE'],
      [{ ...ENTRA, ENTRA_CLOCK_SKEW_SECONDS: '3600' }, 'ENTRA_CLOCK_SKEW_SECONDS'],
      [{ ...ENTRA, ENTRA_ACCEPT_V1_TOKENS: 'maybe' }, 'ENTRA_ACCEPT_V1_TOKENS'],
      [{ ...ENTRA, AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.com' }, 'AZURE_AUTHORITY_HOST'],
      // The resource must keep its path, and http is only for loopback.
      [{ ...ENTRA, MCP_PUBLIC_URL: 'https://app.azurewebsites.net/' }, 'MCP_PUBLIC_URL'],
      [{ ...ENTRA, MCP_PUBLIC_URL: 'http://app.azurewebsites.net/mcp' }, 'MCP_PUBLIC_URL'],
      [{ ...ENTRA, MCP_PUBLIC_URL: 'https://app.azurewebsites.net/mcp?x=1' }, 'MCP_PUBLIC_URL'],
      [{ MCP_AUTH_MODE: 'functionKey', MCP_ALLOW_ANONYMOUS_TOOLS_LIST: 'true' }, 'MCP_ALLOW_ANONYMOUS_TOOLS_LIST'],
      [{ MCP_AUTH_MODE: 'none', WEBSITE_SITE_NAME: 'my-app' }, 'MCP_AUTH_MODE'],
      [{ MCP_AUTH_MODE: 'anonymous' }, 'MCP_AUTH_MODE'],
    ];
    for (const [env, setting] of cases) {
      const found = problems(env);
      assert.ok(found.some((p) => p.startsWith(`${setting} `)), `${JSON.stringify(env)} → ${found.join('; ') || 'accepted'}`);
    }
  });

  it('allows http for a loopback public URL (local development) and none off App Service', () => {
    assert.equal(parse({ ...ENTRA, MCP_PUBLIC_URL: 'http://127.0.0.1:7071/mcp' }).publicUrl, 'http://127.0.0.1:7071/mcp');
    assert.equal(parse({ MCP_AUTH_MODE: 'none' }).mode, 'none');
  });

  it('keeps Entra settings in other modes when tenant and client id are set (for on-behalf-of)', () => {
    const settings = parse({ MCP_AUTH_MODE: 'easyAuth', ENTRA_TENANT_ID: TENANT, ENTRA_API_CLIENT_ID: CLIENT });
    assert.equal(settings.entra?.clientId, CLIENT);
    assert.equal(settings.allowAnonymousToolsList, false);
  });

  it('the OAuth facade: entra mode and a Key Vault only; the key secret name defaults; redirect URIs must be exact https URLs', () => {
    const facade = { ...ENTRA, MCP_OAUTH_FACADE: 'true' };
    assert.deepEqual(parse({ ...facade, KEY_VAULT_URL: 'https://kv.vault.azure.net' } as Record<string, string>).facade, { keySecretName: 'oauth-facade-key', redirectUris: [] });
    assert.deepEqual(problems(facade), ['KEY_VAULT_URL is required when MCP_OAUTH_FACADE is true (its sealing keys are a Key Vault secret)']);
    assert.deepEqual(problems({ MCP_AUTH_MODE: 'functionKey', MCP_OAUTH_FACADE: 'true', KEY_VAULT_URL: 'https://kv.vault.azure.net' }), ['MCP_OAUTH_FACADE only applies when MCP_AUTH_MODE is entra']);
    assert.deepEqual(problems({ ...ENTRA, MCP_OAUTH_REDIRECT_URIS: 'https://claude.ai/api/mcp/auth_callback' }), ['MCP_OAUTH_REDIRECT_URIS only applies when MCP_OAUTH_FACADE is true']);
    for (const bad of ['http://claude.ai/cb', 'https://CLAUDE.ai/cb', 'https://claude.ai/cb#x', 'https://u@claude.ai/cb', 'not a url']) {
      assert.equal(problems({ ...facade, KEY_VAULT_URL: 'https://kv.vault.azure.net', MCP_OAUTH_REDIRECT_URIS: bad } as Record<string, string>).length, 1, bad);
    }
    assert.deepEqual(problems({ ...facade, KEY_VAULT_URL: 'https://kv.vault.azure.net', MCP_OAUTH_FACADE_KEY_SECRET: 'not a name!' } as Record<string, string>).length, 1);
  });
});

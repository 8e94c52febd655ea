/**
 * Offline checks of infra/ (there is no Bicep compiler or Azure here):
 * every .bicep and .bicepparam file parses with tree-sitter-bicep, and the
 * parse trees say what the deployment promises: descriptions on parameters,
 * no keys or secrets in outputs, documented role GUIDs, keys off everywhere,
 * Flex Consumption with identity-based storage, and app settings that cover
 * every setting the code reads (read at test time from src/config.ts's
 * schema, which composes the toolset modules' own settings) with defaults
 * the code's own validation accepts; the README's settings table lists them
 * too. Each structural check also runs on a deliberately broken copy, to
 * show it can fail.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, PLATFORM_SETTING_NAMES, SETTING_NAMES } from '../../src/config.ts';
import { MAX_KUSTO_TIMEOUT_SECONDS } from '../../src/toolsets/kusto/settings.ts';
import { TOOLSET_IDS } from '../../src/toolsets/registry.ts';
import {
  appSettings,
  checkAppSettingsCoverage,
  checkEntraApp,
  checkFunctionApp,
  checkKeyVault,
  checkMainOutputs,
  checkModules,
  checkMonitoring,
  checkNoSecretsExposed,
  checkParamFile,
  checkParameterDescriptions,
  checkRoleAssignments,
  checkStorage,
  deployedSettings,
  easyAuthEnabled,
  mainParams,
  type Files,
} from './bicep-checks.ts';
import { declarations, declaredValue, evaluate, formatProblem, infraRoot, listInfraFiles, loadInfra, parseBicep, repoRoot } from './bicep-tree.ts';
import type { Value } from './bicep-tree.ts';

const read = (name: string) => readFileSync(join(infraRoot, name), 'utf8');

/** infra/ with one text replacement in one file, which must apply. */
async function broken(name: string, from: string | RegExp, to: string): Promise<Files> {
  const text = read(name);
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `the replacement of ${String(from)} did not apply to infra/${name}`);
  return loadInfra({ [name]: changed });
}

const files = await loadInfra();
const toolsetIds = TOOLSET_IDS;

describe('infra/ syntax (tree-sitter-bicep)', () => {
  test('infra/ holds main.bicep, main.bicepparam and local modules', () => {
    const names = listInfraFiles();
    assert.ok(names.includes('main.bicep') && names.includes('main.bicepparam'), names.join(', '));
    assert.ok(names.filter((name) => name.startsWith('modules/')).length >= 5, names.join(', '));
  });

  for (const name of listInfraFiles()) {
    test(`${name} parses with no error nodes`, () => {
      const problems = files.get(name)?.problems ?? [];
      assert.deepEqual(problems.map(formatProblem), []);
    });
  }

  test('a syntax error is reported with file, line and column', async () => {
    const text = ["param name string = 'x'", '', "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {", '  name: name', "  kind 'StorageV2'", '}', ''].join('\n');
    const { problems } = await parseBicep('broken.bicep', text);
    assert.ok(problems.length > 0, 'the broken file parsed cleanly');
    const first = problems[0]!;
    assert.equal(first.file, 'broken.bicep');
    assert.equal(first.line, 5);
    assert.ok(first.column >= 3 && first.column <= 8, `column ${first.column}`);
    assert.match(formatProblem(first), /^broken\.bicep:5:\d+: (unexpected|missing) /);
  });

  test('an unclosed object and a .bicepparam error are caught too', async () => {
    const unclosed = await parseBicep('unclosed.bicep', "var x = {\n  a: 'b'\n");
    assert.ok(unclosed.problems.length > 0);
    const params = await parseBicep('bad.bicepparam', "using './main.bicep'\nparam a = 'x'\nparam b = = 1\n");
    assert.deepEqual(params.problems.map((p) => p.line), [3]);
  });

  test('the grammar shims (extension, bicepparam param) keep line and column of later errors', async () => {
    const { problems } = await parseBicep('shim.bicep', "extension microsoftGraphV1\n\nvar ok = 1\nvar bad = [1 2\n");
    assert.ok(problems.length > 0);
    assert.equal(problems[0]!.line, 4);
    const malformed = await parseBicep('shim2.bicep', 'extension\n');
    assert.ok(malformed.problems.length > 0, 'a bare `extension` keyword must not parse');
  });
});

describe('infra/ structure', () => {
  const checks: [string, (f: Files) => string[], () => Promise<Files>, RegExp][] = [
    [
      'every parameter has @description',
      checkParameterDescriptions,
      () => broken('modules/identity.bicep', "@description('Tags for the identity.')\n", ''),
      /param tags has no @description/,
    ],
    [
      'no output or expression exposes a key, connection string or secret',
      checkNoSecretsExposed,
      () => broken('modules/monitoring.bicep', /output appInsightsName string = appInsights\.name/, 'output connection string = appInsights.properties.ConnectionString'),
      /exposes \.ConnectionString/,
    ],
    [
      'no listKeys or other list*() call anywhere',
      checkNoSecretsExposed,
      () => broken('modules/storage.bicep', "output name string = storage.name", 'output name string = storage.listKeys().keys[0].value'),
      /calls storage\.listKeys\(\)/,
    ],
    [
      'main.bicep outputs are UPPER_SNAKE and include the endpoint, metadata URL, app, identity and vault',
      checkMainOutputs,
      () => broken('main.bicep', 'output AZURE_KEY_VAULT_URI string', 'output keyVaultUri string'),
      /no output AZURE_KEY_VAULT_URI/,
    ],
    [
      'role ids are the documented built-in role GUIDs',
      (f) => checkRoleAssignments(f),
      () => broken('modules/role-ids.bicep', '4633458b-17de-408a-b874-0445c86b69e6', '00482a5a-887f-4fb3-b363-3b7fe8e74483'),
      /role keyVaultSecretsUser is 00482a5a/,
    ],
    [
      'role assignments are guid()-named, per resource, for a service principal, by role variable',
      (f) => checkRoleAssignments(f),
      () =>
        broken(
          'modules/keyvault.bicep',
          "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.keyVaultSecretsUser)",
          "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')",
        ),
      /roleDefinitionId must be subscriptionResourceId/,
    ],
    ['storage: shared key access off, no public blob access, TLS 1.2, HTTPS only', checkStorage, () => broken('modules/storage.bicep', 'allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'), /allowSharedKeyAccess must be false/],
    ['Application Insights and Log Analytics: local auth off', checkMonitoring, () => broken('modules/monitoring.bicep', 'DisableLocalAuth: true', 'DisableLocalAuth: false'), /DisableLocalAuth must be true/],
    ['Key Vault: RBAC authorization, soft delete and purge protection on', checkKeyVault, () => broken('modules/keyvault.bicep', 'enablePurgeProtection: true', 'enablePurgeProtection: false'), /enablePurgeProtection must be true/],
    [
      'function app: FC1, Linux, Node 22, HTTPS only, TLS 1.2, no FTP or basic publishing, identity-based deployment storage',
      checkFunctionApp,
      () => broken('modules/function-app.bicep', "ftpsState: 'Disabled'", "ftpsState: 'AllAllowed'"),
      /ftpsState must be "Disabled"/,
    ],
    ['modules are local files and get exactly the parameters they declare', checkModules, () => broken('main.bicep', "module identity 'modules/identity.bicep'", "module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1'"), /comes from a registry/],
    ['main.bicepparam sets only declared parameters, with main.bicep\'s defaults', checkParamFile, () => broken('main.bicepparam', "'FLEX_MAXIMUM_INSTANCE_COUNT', '40'", "'FLEX_MAXIMUM_INSTANCE_COUNT', '100'"), /maximumInstanceCount defaults to 100, main\.bicep to 40/],
    [
      'the Entra app option: api://<client id>, user_impersonation, a role per toolset, VS Code pre-authorized, managed identity credential; admin options off',
      (f) => checkEntraApp(f, toolsetIds),
      () => broken('main.bicep', "  'server'\n  'kusto'\n", "  'server'\n"),
      /toolsetIds .* must list every toolset/,
    ],
  ];

  for (const [name, check, breakIt, expected] of checks) {
    test(name, async () => {
      assert.deepEqual(check(files), []);
      const problems = check(await breakIt());
      assert.match(problems.join('\n'), expected, `the broken copy was not caught: ${problems.join('; ') || 'no problems'}`);
    });
  }

  test('saved audit queries: calls per tool and caller, denials, errors, slowest calls, stdout fallback; listed in docs/deploy.md', () => {
    const module = files.get('modules/audit-queries.bicep')!;
    const queries = declarations(module, 'var').find((v) => v.name === 'queries');
    const value = evaluate(queries && declaredValue(queries), { names: new Map() });
    assert.ok(Array.isArray(value), 'var queries must be a literal array');
    const byId = new Map((value as { id: string; query: string }[]).map((q) => [q.id, q.query]));
    for (const id of ['mcp-audit-calls-by-tool-and-caller', 'mcp-audit-denials', 'mcp-audit-errors', 'mcp-audit-slowest-calls', 'mcp-audit-stdout-fallback']) {
      assert.ok(byId.has(id), id);
    }
    const docs = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
    for (const [id, query] of byId) {
      assert.match(query, /^(AppEvents|AppTraces)\n/, `${id} reads the workspace tables`);
      assert.ok(docs.includes(`\`${id}\``), `docs/deploy.md lists ${id}`);
    }
    assert.match(byId.get('mcp-audit-stdout-fallback')!, /AppTraces/);
  });

  test('a module call missing a required parameter is caught', async () => {
    const problems = checkModules(await broken('main.bicep', '    retentionInDays: logRetentionInDays\n', ''));
    assert.match(problems.join('\n'), /does not pass required retentionInDays/);
  });
});

describe('app settings versus the code\'s configuration schema', () => {
  test('every setting in src/config.ts is set, platform ones are not, nothing unknown is', () => {
    assert.deepEqual(checkAppSettingsCoverage(files, SETTING_NAMES, PLATFORM_SETTING_NAMES), []);
  });

  test('every setting the code reads (config.ts and the toolset modules) is in the README settings table', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const undocumented = (names: readonly string[]) => names.filter((name) => !PLATFORM_SETTING_NAMES.includes(name) && !table.includes(`\`${name}\``));
    assert.ok(SETTING_NAMES.includes('KUSTO_CLUSTERS'), 'a toolset module\'s settings are part of the composed schema');
    assert.deepEqual(undocumented(SETTING_NAMES), []);
    assert.deepEqual(undocumented([...SETTING_NAMES, 'MCP_SETTING_FROM_THE_FUTURE']), ['MCP_SETTING_FROM_THE_FUTURE']);
  });

  test('a setting added to the code without Bicep fails', () => {
    const problems = checkAppSettingsCoverage(files, [...SETTING_NAMES, 'MCP_SETTING_FROM_THE_FUTURE'], PLATFORM_SETTING_NAMES);
    assert.match(problems.join('\n'), /MCP_SETTING_FROM_THE_FUTURE is read by the code/);
  });

  test('settings the code does not read, platform settings and Flex-incompatible ones are refused', async () => {
    const withUnknown = checkAppSettingsCoverage(await broken('main.bicep', "  MCP_AUTH_MODE: authMode\n", "  MCP_AUTH_MODE: authMode\n  GRAPH_TENANT: 'x'\n"), SETTING_NAMES, PLATFORM_SETTING_NAMES);
    assert.match(withUnknown.join('\n'), /GRAPH_TENANT is neither read by the code/);
    const withPlatform = checkAppSettingsCoverage(await broken('main.bicep', "  MCP_AUTH_MODE: authMode\n", "  MCP_AUTH_MODE: authMode\n  WEBSITE_SITE_NAME: 'x'\n"), SETTING_NAMES, PLATFORM_SETTING_NAMES);
    assert.match(withPlatform.join('\n'), /WEBSITE_SITE_NAME is provided by the platform/);
    const withRuntime = checkAppSettingsCoverage(
      await broken('modules/function-app.bicep', "  FUNCTIONS_NODE_BLOCK_ON_ENTRY_POINT_ERROR: 'true'\n", "  FUNCTIONS_NODE_BLOCK_ON_ENTRY_POINT_ERROR: 'true'\n  FUNCTIONS_WORKER_RUNTIME: 'node'\n"),
      SETTING_NAMES,
      PLATFORM_SETTING_NAMES,
    );
    assert.match(withRuntime.join('\n'), /FUNCTIONS_WORKER_RUNTIME is not allowed/);
  });

  test('identity-based host storage, Entra telemetry and AZURE_CLIENT_ID are set; no secret is a setting', () => {
    const keys = new Map(appSettings(files).map((s) => [s.key, s.value.text]));
    assert.equal(keys.get('AzureWebJobsStorage__credential'), "'managedidentity'");
    assert.equal(keys.get('AzureWebJobsStorage__clientId'), 'identityClientId');
    assert.equal(keys.get('AZURE_CLIENT_ID'), 'identityClientId');
    assert.match(keys.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING') ?? '', /Authorization=AAD/);
    assert.match(keys.get('AUDIT_FINGERPRINT_SECRET_NAME') ?? '', /SecretName$/, 'secrets are passed by Key Vault secret name');
  });

  // Values the Bicep takes from resources, as Azure would fill them in.
  const placeholders = {
    AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    KEY_VAULT_URL: 'https://kv-mcp-example.vault.azure.net/',
    // tenant(), environment() and the predicted host name are only known at deployment.
    ENTRA_TENANT_ID: '12345678-1234-4234-8234-123456789abc',
    MCP_PUBLIC_URL: 'https://func-mcp-example.azurewebsites.net/mcp',
    AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=https://eastus2-3.in.applicationinsights.azure.com/;ApplicationId=55555555-6666-7777-8888-999999999999',
  };
  const platformEnv = (overrides: Record<string, Value>) => ({
    WEBSITE_SITE_NAME: 'func-mcp-example',
    IDENTITY_ENDPOINT: 'http://localhost:8081/msi/token',
    ...(easyAuthEnabled(files, overrides) ? { WEBSITE_AUTH_ENABLED: 'True' } : {}),
  });
  const deploy = (overrides: Record<string, Value>, source: Files = files) => {
    const { env, unknown } = deployedSettings(source, overrides, SETTING_NAMES, placeholders);
    assert.deepEqual(unknown, [], 'settings whose deployed value this test cannot know');
    return loadConfig({ ...env, ...platformEnv(overrides) });
  };

  test('the default deployment\'s settings pass the code\'s own validation', () => {
    const config = deploy({});
    assert.equal(config.authMode, 'functionKey');
    assert.equal(config.readOnly, true);
    assert.equal(config.kusto.maxTimeoutSeconds, 180);
    assert.equal(config.managedIdentityClientId, placeholders.AZURE_CLIENT_ID);
    assert.equal(config.keyVaultUrl, 'https://kv-mcp-example.vault.azure.net');
  });

  test('every allowed auth mode, and every numeric parameter at its bounds, passes validation', () => {
    const params = mainParams(files);
    // What else a value needs to work: easyAuth needs an Entra app.
    const entraApp = { entraAppClientId: '99999999-8888-7777-6666-555555555555' };
    // On-behalf-of acts for a signed-in user: it needs entra mode and the app.
    const companions: Record<string, Record<string, Value>> = { easyAuth: entraApp, entra: entraApp, onBehalfOf: { authMode: 'entra', ...entraApp }, managedIdentity: { authMode: 'entra', ...entraApp } };
    for (const param of params.filter((p) => p.allowed && p.type === 'string')) {
      for (const value of param.allowed!) deploy({ [param.name]: value, ...companions[String(value)] });
    }
    const bounded = params.filter((p) => p.type === 'int' && p.min !== undefined && p.max !== undefined);
    assert.ok(bounded.some((p) => p.name === 'kustoMaxTimeoutSeconds'));
    // All at once, so cross-checks (default timeout <= max timeout) hold.
    deploy(Object.fromEntries(bounded.map((p) => [p.name, p.max!])));
    deploy(Object.fromEntries(bounded.map((p) => [p.name, p.min!])));
    const maxTimeout = params.find((p) => p.name === 'kustoMaxTimeoutSeconds');
    assert.ok(maxTimeout?.max !== undefined && maxTimeout.max <= MAX_KUSTO_TIMEOUT_SECONDS, 'the Bicep must not allow a Kusto timeout past the Functions HTTP limit');
  });

  test('easyAuth without an Entra app leaves authentication off, so the server refuses to start', () => {
    assert.equal(easyAuthEnabled(files, { authMode: 'easyAuth' }), false);
    assert.equal(easyAuthEnabled(files, { authMode: 'easyAuth', entraAppClientId: '99999999-8888-7777-6666-555555555555' }), true);
    assert.throws(() => deploy({ authMode: 'easyAuth' }), /App Service authentication is not enabled/);
  });

  test('optional settings with values pass validation; empty ones are left out', () => {
    const config = deploy({
      kustoClusters: 'help=https://help.kusto.windows.net/Samples',
      kustoDefaultCluster: 'help',
      toolsets: ['server', 'kusto'],
      allowedOrigins: ['https://app.example.com'],
      auditFingerprintSecretName: 'audit-fingerprint-key',
      readOnly: false,
    });
    assert.deepEqual(config.kusto.clusters.map((c) => c.name), ['help']);
    assert.deepEqual(config.toolsets, ['server', 'kusto']);
    assert.equal(config.readOnly, false);
    const { env } = deployedSettings(files, {}, SETTING_NAMES, placeholders);
    for (const key of ['KUSTO_CLUSTERS', 'AUDIT_FINGERPRINT_SECRET_NAME', 'MCP_TOOLSETS', 'MCP_ALLOWED_ORIGINS']) assert.equal(key in env, false, key);
  });

  test('a setting the code would reject fails (ARM string(true) is "True")', async () => {
    const changed = await broken('main.bicep', "MCP_READ_ONLY: readOnly ? 'true' : 'false'", 'MCP_READ_ONLY: string(readOnly)');
    assert.throws(() => deploy({}, changed), /MCP_READ_ONLY must be true or false/);
  });
});

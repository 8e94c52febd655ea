/**
 * Structural checks on the parse trees of infra/**.bicep. Each check returns
 * the problems it finds (empty when the deployment is right), so the tests can
 * also run it on a deliberately broken copy and see it fail.
 */
import type { Node } from 'web-tree-sitter';
import {
  declarations,
  declaredValue,
  evaluate,
  modules,
  namedChildren,
  properties,
  property,
  resources,
  stringLiteral,
  UNKNOWN,
  type BicepFile,
  type Scope,
  type Value,
} from './bicep-tree.ts';

export type Files = Map<string, BicepFile>;

/** Built-in role GUIDs as documented (shared/reference azure-hosting.md §8, Azure built-in roles). */
export const DOCUMENTED_ROLES: Record<string, string> = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageQueueDataReader: '19e7f393-937e-4f77-808e-94535e297925',
  storageQueueDataMessageProcessor: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
};

/**
 * App settings the deployment may set that the server code does not read:
 * the Functions host's identity-based storage and Entra-authenticated
 * telemetry, the entry-point guard, and App Service authentication's own.
 */
export const HOST_SETTINGS = new Set([
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'FUNCTIONS_NODE_BLOCK_ON_ENTRY_POINT_ERROR',
  'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID',
  'WEBSITE_AUTH_AAD_ALLOWED_TENANTS',
  'WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES',
]);

/** Settings Flex Consumption rejects or that would bring keys back. */
export const FORBIDDEN_SETTINGS = new Set([
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'AzureWebJobsStorage',
  'AzureWebJobsDashboard',
  'APPINSIGHTS_INSTRUMENTATIONKEY',
]);

/** The files whose `*Settings` variables make up the app settings. */
export const SETTINGS_FILES = ['main.bicep', 'modules/function-app.bicep'];

const file = (files: Files, name: string): BicepFile => {
  const found = files.get(name);
  if (!found) throw new Error(`infra/${name} is missing`);
  return found;
};

const bicepFiles = (files: Files) => [...files.values()].filter((f) => f.kind === 'bicep');
const where = (f: BicepFile, node: Node) => `${f.name}:${node.startPosition.row + 1}`;
const literal = (node: Node | undefined): Value => (node ? evaluate(node, { names: new Map() }) : UNKNOWN);

function descendants(node: Node, type: string): Node[] {
  return node.descendantsOfType(type).filter((n): n is Node => n !== null);
}

// --- Parameters and outputs ----------------------------------------------------

export function checkParameterDescriptions(files: Files): string[] {
  const problems: string[] = [];
  for (const f of bicepFiles(files)) {
    for (const param of declarations(f, 'param')) {
      const description = param.decorators.find((d) => d.name === 'description');
      const text = stringLiteral(description?.args[0]);
      if (!text?.trim()) problems.push(`${where(f, param.node)} param ${param.name} has no @description('...')`);
    }
  }
  return problems;
}

const SECRET_PROPERTY = /^(connectionString|primaryConnectionString|secondaryConnectionString|primaryKey|secondaryKey|primaryMasterKey|instrumentationKey|accountKey|masterKey|key1|key2|value)$/i;
const SECRET_OUTPUT_NAME = /(secret|password|connection_?string|access_?key|account_?key|instrumentation_?key|(^|_)keys?$|sas)/i;

/** Calls that read keys or secrets from ARM (listKeys, listSecrets, listAccountSas, ...). */
function listCalls(root: Node): Node[] {
  return descendants(root, 'call_expression').filter((callNode) => {
    const fn = callNode.childForFieldName('function');
    const name = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : fn?.text;
    return name !== undefined && /^list[A-Z]/.test(name);
  });
}

export function checkNoSecretsExposed(files: Files): string[] {
  const problems: string[] = [];
  for (const f of bicepFiles(files)) {
    for (const callNode of listCalls(f.root)) problems.push(`${where(f, callNode)} calls ${callNode.text.split('(')[0]}(): keys stay out of the deployment`);
    for (const s of descendants(f.root, 'string')) {
      if (/AccountKey=|SharedAccessSignature=|[?&]sig=/i.test(s.text)) problems.push(`${where(f, s)} has a key or SAS in a string`);
    }
    for (const output of declarations(f, 'output')) {
      const value = declaredValue(output);
      if (output.decorators.some((d) => d.name === 'secure')) problems.push(`${where(f, output.node)} output ${output.name} is @secure()`);
      if (SECRET_OUTPUT_NAME.test(output.name)) problems.push(`${where(f, output.node)} output ${output.name} looks like a secret`);
      if (!value) continue;
      if (listCalls(value).length > 0) problems.push(`${where(f, output.node)} output ${output.name} reads keys`);
      for (const member of [value, ...descendants(value, 'member_expression')]) {
        const name = member.type === 'member_expression' ? member.childForFieldName('property')?.text : undefined;
        if (name && SECRET_PROPERTY.test(name)) problems.push(`${where(f, output.node)} output ${output.name} exposes .${name}`);
      }
    }
  }
  return problems;
}

export const REQUIRED_OUTPUTS = [
  'MCP_ENDPOINT_URL',
  'MCP_PROTECTED_RESOURCE_METADATA_URL',
  'AZURE_FUNCTION_APP_NAME',
  'AZURE_MANAGED_IDENTITY_CLIENT_ID',
  'AZURE_MANAGED_IDENTITY_PRINCIPAL_ID',
  'AZURE_KEY_VAULT_URI',
];

export function checkMainOutputs(files: Files): string[] {
  const main = file(files, 'main.bicep');
  const outputs = declarations(main, 'output');
  const problems = outputs.filter((o) => !/^[A-Z][A-Z0-9_]*$/.test(o.name)).map((o) => `${where(main, o.node)} output ${o.name} is not UPPER_SNAKE (azd)`);
  for (const name of REQUIRED_OUTPUTS) if (!outputs.some((o) => o.name === name)) problems.push(`main.bicep has no output ${name}`);
  const endpoint = outputs.find((o) => o.name === 'MCP_ENDPOINT_URL');
  if (endpoint && !/^'https:\/\/\$\{[^}]+\}\/mcp'$/.test(declaredValue(endpoint)?.text ?? '')) problems.push('MCP_ENDPOINT_URL must be https://<host>/mcp');
  const prm = outputs.find((o) => o.name === 'MCP_PROTECTED_RESOURCE_METADATA_URL');
  if (prm && !/\/\.well-known\/oauth-protected-resource\/mcp'$/.test(declaredValue(prm)?.text ?? '')) problems.push('MCP_PROTECTED_RESOURCE_METADATA_URL must end with /.well-known/oauth-protected-resource/mcp');
  return problems;
}

// --- Role assignments --------------------------------------------------------------

export function roleTable(files: Files): Record<string, Value> {
  const roles = declarations(file(files, 'modules/role-ids.bicep'), 'var').find((v) => v.name === 'builtInRoleIds');
  const value = literal(roles ? declaredValue(roles) : undefined);
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

export function checkRoleAssignments(files: Files, documented: Record<string, string> = DOCUMENTED_ROLES): string[] {
  const problems: string[] = [];
  const table = roleTable(files);
  if (Object.keys(table).length === 0) problems.push('modules/role-ids.bicep must export var builtInRoleIds = { name: guid }');
  for (const [name, id] of Object.entries(table)) {
    if (documented[name] === undefined) problems.push(`role ${name} is not a documented built-in role`);
    else if (documented[name] !== id) problems.push(`role ${name} is ${String(id)}, documented ${documented[name]}`);
  }
  for (const f of bicepFiles(files)) {
    const assignments = resources(f).filter((r) => r.type.startsWith('Microsoft.Authorization/roleAssignments@'));
    if (assignments.length > 0 && !/import \{ builtInRoleIds \} from 'role-ids\.bicep'/.test(f.text)) {
      problems.push(`${f.name} assigns roles without importing builtInRoleIds from role-ids.bicep`);
    }
    for (const assignment of assignments) {
      const at = `${where(f, assignment.node)} role assignment ${assignment.symbol}`;
      const name = property(assignment.body, 'name');
      if (name?.type !== 'call_expression' || name.childForFieldName('function')?.text !== 'guid') problems.push(`${at}: name must be guid(...)`);
      const principalType = literal(property(assignment.body, 'properties.principalType'));
      if (principalType !== 'ServicePrincipal') problems.push(`${at}: principalType must be 'ServicePrincipal' (managed identity)`);
      const scope = property(assignment.body, 'scope');
      if (!scope || !['identifier', 'resource_expression'].includes(scope.type)) problems.push(`${at}: scope must be the one resource the role is for`);
      const roleDefinition = property(assignment.body, 'properties.roleDefinitionId');
      const args = roleDefinition?.type === 'call_expression' ? namedChildren(roleDefinition.childForFieldName('arguments')!) : [];
      const [resourceType, roleId] = args;
      const ok =
        roleDefinition?.childForFieldName('function')?.text === 'subscriptionResourceId' &&
        stringLiteral(resourceType) === 'Microsoft.Authorization/roleDefinitions' &&
        roleId?.type === 'member_expression' &&
        roleId.childForFieldName('object')?.text === 'builtInRoleIds';
      if (!ok) {
        problems.push(`${at}: roleDefinitionId must be subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.<role>)`);
        continue;
      }
      const role = roleId.childForFieldName('property')?.text ?? '';
      if (!(role in table)) problems.push(`${at}: builtInRoleIds.${role} is not defined`);
      const guidArgs = name?.type === 'call_expression' ? (name.childForFieldName('arguments')?.text ?? '') : '';
      if (!guidArgs.includes(`builtInRoleIds.${role}`)) problems.push(`${at}: guid(...) must include the role id, so each role gets its own assignment`);
    }
  }
  return problems;
}

// --- Resource settings ----------------------------------------------------------------

type Expectation = [path: string, expected: Value];

function expectProperties(files: Files, typePrefix: string, expectations: Expectation[], absent: string[] = []): string[] {
  const problems: string[] = [];
  let seen = 0;
  for (const f of bicepFiles(files)) {
    for (const r of resources(f).filter((res) => res.type.startsWith(`${typePrefix}@`) && !res.existing)) {
      seen++;
      for (const [path, expected] of expectations) {
        const actual = literal(property(r.body, path));
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          problems.push(`${where(f, r.node)} ${r.symbol}: ${path} must be ${JSON.stringify(expected)} (is ${property(r.body, path)?.text ?? 'not set'})`);
        }
      }
      for (const path of absent) if (property(r.body, path)) problems.push(`${where(f, r.node)} ${r.symbol}: ${path} must not be set`);
    }
  }
  if (seen === 0) problems.push(`no ${typePrefix} resource is declared`);
  return problems;
}

export function checkStorage(files: Files): string[] {
  return [
    ...expectProperties(files, 'Microsoft.Storage/storageAccounts', [
      ['properties.allowSharedKeyAccess', false],
      ['properties.allowBlobPublicAccess', false],
      ['properties.minimumTlsVersion', 'TLS1_2'],
      ['properties.supportsHttpsTrafficOnly', true],
    ]),
  ];
}

export function checkMonitoring(files: Files): string[] {
  return [
    ...expectProperties(files, 'Microsoft.Insights/components', [['properties.DisableLocalAuth', true]]),
    ...expectProperties(files, 'Microsoft.OperationalInsights/workspaces', [['properties.features.disableLocalAuth', true]]),
  ];
}

export function checkKeyVault(files: Files): string[] {
  return expectProperties(
    files,
    'Microsoft.KeyVault/vaults',
    [
      ['properties.enableRbacAuthorization', true],
      ['properties.enableSoftDelete', true],
      ['properties.enablePurgeProtection', true],
    ],
    ['properties.accessPolicies'],
  );
}

export function checkFunctionApp(files: Files): string[] {
  const f = file(files, 'modules/function-app.bicep');
  const problems = [
    ...expectProperties(files, 'Microsoft.Web/serverfarms', [
      ['sku.name', 'FC1'],
      ['sku.tier', 'FlexConsumption'],
      ['properties.reserved', true],
    ]),
    ...expectProperties(files, 'Microsoft.Web/sites', [
      ['kind', 'functionapp,linux'],
      ['identity.type', 'UserAssigned'],
      ['properties.httpsOnly', true],
      ['properties.siteConfig.minTlsVersion', '1.2'],
      ['properties.siteConfig.scmMinTlsVersion', '1.2'],
      ['properties.siteConfig.ftpsState', 'Disabled'],
      ['properties.functionAppConfig.runtime.name', 'node'],
      ['properties.functionAppConfig.runtime.version', '22'],
      ['properties.functionAppConfig.deployment.storage.type', 'blobContainer'],
      ['properties.functionAppConfig.deployment.storage.authentication.type', 'UserAssignedIdentity'],
    ]),
  ];
  const site = resources(f).find((r) => r.type.startsWith('Microsoft.Web/sites@'));
  for (const path of ['maximumInstanceCount', 'instanceMemoryMB', 'triggers.http.perInstanceConcurrency']) {
    const value = property(site?.body, `properties.functionAppConfig.scaleAndConcurrency.${path}`);
    if (value?.type !== 'identifier') problems.push(`site scaleAndConcurrency.${path} must come from a parameter`);
  }
  for (const policy of ['ftp', 'scm']) {
    const found = resources(f).find(
      (r) => r.type.startsWith('Microsoft.Web/sites/basicPublishingCredentialsPolicies@') && literal(property(r.body, 'name')) === policy,
    );
    if (!found || literal(property(found.body, 'properties.allow')) !== false) problems.push(`basic publishing credentials (${policy}) must be turned off`);
  }
  return problems;
}

/** The azd-service-name tag the function app carries, evaluated through main.bicep. */
export function azdServiceNameTag(files: Files): Value {
  const f = file(files, 'modules/function-app.bicep');
  const site = resources(f).find((r) => r.type.startsWith('Microsoft.Web/sites@'));
  const tagNode = site ? descendants(site.body, 'object_property').find((p) => stringLiteral(namedChildren(p)[0]) === 'azd-service-name') : undefined;
  const tagValue = tagNode ? namedChildren(tagNode).at(-1) : undefined;
  if (tagValue?.type !== 'identifier') return UNKNOWN;
  const main = file(files, 'main.bicep');
  const call = modules(main).find((m) => m.path === 'modules/function-app.bicep');
  const passed = property(call?.body, `params.${tagValue.text}`);
  return evaluate(passed, mainScope(files));
}

// --- App settings ------------------------------------------------------------------------

/** Object literal keys a settings variable can produce (through ternaries, unions, parentheses). */
function settingKeys(node: Node | undefined): { key: string; value: Node }[] {
  if (!node) return [];
  if (node.type === 'object') return properties(node).map(({ key, value }) => ({ key, value }));
  if (node.type === 'ternary_expression') {
    return [...settingKeys(node.childForFieldName('consequence') ?? undefined), ...settingKeys(node.childForFieldName('alternative') ?? undefined)];
  }
  if (node.type === 'parenthesized_expression') return namedChildren(node).flatMap(settingKeys);
  if (node.type === 'call_expression' && node.childForFieldName('function')?.text === 'union') {
    return namedChildren(node.childForFieldName('arguments')!).flatMap(settingKeys);
  }
  return [];
}

export interface SettingDeclaration {
  key: string;
  value: Node;
  variable: string;
  file: string;
}

export function appSettings(files: Files): SettingDeclaration[] {
  return SETTINGS_FILES.flatMap((name) => {
    const f = file(files, name);
    return declarations(f, 'var')
      .filter((v) => v.name.endsWith('Settings'))
      .flatMap((v) => settingKeys(declaredValue(v)).map(({ key, value }) => ({ key, value, variable: v.name, file: name })));
  });
}

export function checkAppSettingsCoverage(files: Files, settingNames: readonly string[], platformNames: readonly string[]): string[] {
  const problems: string[] = [];
  const declared = appSettings(files);
  const keys = new Set(declared.map((s) => s.key));
  for (const name of settingNames) {
    if (platformNames.includes(name)) {
      if (keys.has(name)) problems.push(`${name} is provided by the platform; the deployment must not set it`);
    } else if (!keys.has(name)) {
      problems.push(`${name} is read by the code (src/config.ts, with the toolset modules' settings) but no app setting sets it (infra/${SETTINGS_FILES.join(', infra/')})`);
    }
  }
  for (const { key, file: name, variable } of declared) {
    if (FORBIDDEN_SETTINGS.has(key)) problems.push(`${name} ${variable}: ${key} is not allowed (Flex Consumption, or a key-based setting)`);
    else if (!settingNames.includes(key) && !HOST_SETTINGS.has(key)) {
      problems.push(`${name} ${variable}: ${key} is neither read by the code nor a known host setting`);
    }
  }
  // Every settings variable must reach the app.
  for (const name of SETTINGS_FILES) {
    const f = file(files, name);
    for (const v of declarations(f, 'var').filter((d) => d.name.endsWith('Settings'))) {
      const uses = descendants(f.root, 'identifier').filter((id) => id.text === v.name).length;
      if (uses < 2) problems.push(`${name}: ${v.name} is declared but never used`);
    }
  }
  const main = file(files, 'main.bicep');
  const passed = property(modules(main).find((m) => m.path === 'modules/function-app.bicep')?.body, 'params.appSettings')?.text ?? '';
  if (!/filter\(items\(optionalSettings\),\s*(\w+)\s*=>\s*!empty\(\1\.value\)\)/.test(passed)) {
    problems.push('main.bicep must pass optionalSettings filtered to non-empty values (empty ones are invalid, not unset)');
  }
  return problems;
}

// --- Evaluating the settings a deployment produces ----------------------------------------

/** main.bicep parameter defaults and literal variables, with overrides. */
export function mainScope(files: Files, overrides: Record<string, Value> = {}): Scope {
  const main = file(files, 'main.bicep');
  const names = new Map<string, Value>();
  for (const param of declarations(main, 'param')) names.set(param.name, evaluate(declaredValue(param), { names }));
  for (const [name, value] of Object.entries(overrides)) names.set(name, value);
  for (const variable of declarations(main, 'var')) names.set(variable.name, evaluate(declaredValue(variable), { names }));
  return { names };
}

export interface ParamBounds {
  name: string;
  type: string;
  defaultValue: Value;
  hasDefault: boolean;
  allowed: Value[] | undefined;
  min: number | undefined;
  max: number | undefined;
}

export function mainParams(files: Files): ParamBounds[] {
  const main = file(files, 'main.bicep');
  return declarations(main, 'param').map((param) => {
    const decorator = (name: string) => param.decorators.find((d) => d.name === name)?.args[0];
    const allowed = literal(decorator('allowed'));
    const min = literal(decorator('minValue'));
    const max = literal(decorator('maxValue'));
    return {
      name: param.name,
      type: namedChildren(param.node)[1]?.text ?? '',
      defaultValue: literal(declaredValue(param)),
      // A default this offline evaluator cannot compute (newGuid()) is still a default.
      hasDefault: declaredValue(param) !== undefined,
      allowed: Array.isArray(allowed) ? allowed : undefined,
      min: typeof min === 'number' ? min : undefined,
      max: typeof max === 'number' ? max : undefined,
    };
  });
}

/**
 * The app settings a deployment with these parameters would produce, for the
 * settings the code reads: evaluated from the Bicep where the value is known
 * offline, `placeholders` where it comes from a resource (a client id, a
 * vault URI). Empty optional settings are left out, as main.bicep does.
 */
export function deployedSettings(
  files: Files,
  overrides: Record<string, Value>,
  settingNames: readonly string[],
  placeholders: Record<string, string>,
): { env: Record<string, string>; unknown: string[] } {
  const scope = mainScope(files, overrides);
  const env: Record<string, string> = {};
  const unknown: string[] = [];
  for (const setting of appSettings(files)) {
    if (!settingNames.includes(setting.key)) continue;
    const value = setting.file === 'main.bicep' ? evaluate(setting.value, scope) : UNKNOWN;
    if (value === UNKNOWN || typeof value === 'object') {
      if (placeholders[setting.key] !== undefined) env[setting.key] = placeholders[setting.key]!;
      else unknown.push(setting.key);
      continue;
    }
    const text = typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
    if (setting.variable === 'optionalSettings' && text === '') continue;
    env[setting.key] = text;
  }
  return { env, unknown };
}

/** Whether App Service authentication is on for these parameters (the authsettingsV2 condition). */
export function easyAuthEnabled(files: Files, overrides: Record<string, Value>): boolean {
  const f = file(files, 'modules/function-app.bicep');
  const auth = resources(f).find((r) => r.type.startsWith('Microsoft.Web/sites/config@') && literal(property(r.body, 'name')) === 'authsettingsV2');
  if (!auth?.condition) return false;
  const main = file(files, 'main.bicep');
  const call = modules(main).find((m) => m.path === 'modules/function-app.bicep');
  const scope = mainScope(files, overrides);
  // The module's parameters as main.bicep passes them, then its variables.
  const moduleNames = new Map<string, Value>(properties(property(call?.body, 'params')).map(({ key, value }) => [key, evaluate(value, scope)]));
  for (const variable of declarations(f, 'var')) moduleNames.set(variable.name, evaluate(declaredValue(variable), { names: moduleNames }));
  return evaluate(auth.condition, { names: moduleNames }) === true;
}

// --- The parameters file and modules ------------------------------------------------------

export function checkParamFile(files: Files): string[] {
  const problems: string[] = [];
  const paramFile = file(files, 'main.bicepparam');
  if (!/^using '\.\/main\.bicep'$/m.test(paramFile.text)) problems.push("main.bicepparam must start with using './main.bicep'");
  const params = new Map(mainParams(files).map((p) => [p.name, p]));
  // After the grammar shim, `param x = ...` assignments read as `var x = ...`.
  const assigned = declarations(paramFile, 'var');
  for (const assignment of assigned) {
    const target = params.get(assignment.name);
    if (!target) {
      problems.push(`main.bicepparam assigns ${assignment.name}, which main.bicep does not declare`);
      continue;
    }
    if (target.defaultValue === UNKNOWN) continue;
    const value = evaluate(declaredValue(assignment), { names: new Map(), env: {} });
    if (JSON.stringify(value) !== JSON.stringify(target.defaultValue)) {
      problems.push(`main.bicepparam ${assignment.name} defaults to ${JSON.stringify(value)}, main.bicep to ${JSON.stringify(target.defaultValue)}`);
    }
  }
  for (const param of params.values()) {
    if (!param.hasDefault && !assigned.some((a) => a.name === param.name)) {
      problems.push(`main.bicep param ${param.name} has no default and main.bicepparam does not set it`);
    }
  }
  return problems;
}

const directoryOf = (name: string) => (name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '');

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

export function checkModules(files: Files): string[] {
  const problems: string[] = [];
  for (const f of bicepFiles(files)) {
    for (const m of modules(f)) {
      if (/^(br[:/]|ts[:/])/.test(m.path)) {
        problems.push(`${f.name} module ${m.symbol} comes from a registry (${m.path}); modules must be local files`);
        continue;
      }
      const target = files.get(normalize(directoryOf(f.name) + m.path));
      if (!target) {
        problems.push(`${f.name} module ${m.symbol}: ${m.path} does not exist`);
        continue;
      }
      const declared = new Map(declarations(target, 'param').map((p) => [p.name, declaredValue(p)]));
      const passed = properties(property(m.body, 'params')).map((p) => p.key);
      for (const name of passed) if (!declared.has(name)) problems.push(`${f.name} module ${m.symbol} passes ${name}, which ${target.name} does not declare`);
      for (const [name, defaultValue] of declared) {
        if (!defaultValue && !passed.includes(name)) problems.push(`${f.name} module ${m.symbol} does not pass required ${name} (${target.name})`);
      }
    }
    for (const imported of descendants(f.root, 'import_functionality')) {
      const path = stringLiteral(namedChildren(imported).at(-1));
      if (path && !files.has(normalize(directoryOf(f.name) + path))) problems.push(`${f.name} imports ${path}, which does not exist`);
    }
  }
  return problems;
}

// --- The Entra app option -------------------------------------------------------------------

export const VS_CODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';

export function checkEntraApp(files: Files, toolsetIds: readonly string[]): string[] {
  const problems: string[] = [];
  const scope = mainScope(files);
  const roles = scope.names.get('toolsetIds');
  if (!Array.isArray(roles) || JSON.stringify([...roles].sort()) !== JSON.stringify([...toolsetIds].sort())) {
    problems.push(`main.bicep toolsetIds (${JSON.stringify(roles)}) must list every toolset in src/toolsets/registry.ts (${toolsetIds.join(', ')}), one app role each`);
  }
  const preAuthorized = scope.names.get('preAuthorizedClientIds');
  if (!Array.isArray(preAuthorized) || !preAuthorized.includes(VS_CODE_CLIENT_ID)) problems.push('preAuthorizedClientIds must include VS Code by default');
  const entra = file(files, 'modules/entra-app.bicep');
  if (!/^extension microsoftGraphV1$/m.test(entra.text)) problems.push('entra-app.bicep must use the Microsoft Graph extension (extension microsoftGraphV1)');
  const apps = resources(entra).filter((r) => r.type === 'Microsoft.Graph/applications@v1.0');
  if (!apps.some((a) => property(a.body, 'identifierUris')?.text.includes("'api://${app.appId}'"))) problems.push('the Entra app must get the identifier URI api://<client id>');
  if (!/value: scopeValue/.test(entra.text) || !/scopeValue = 'user_impersonation'/.test(entra.text)) problems.push('the Entra app must expose the user_impersonation scope');
  const fic = resources(entra).find((r) => r.type === 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0');
  if (property(fic?.body, 'subject')?.text !== 'identityPrincipalId') problems.push('the federated identity credential must trust the managed identity (subject = its principal id)');
  const audiences = declarations(entra, 'var').find((v) => v.name === 'tokenExchangeAudiences');
  const audienceMap = literal(audiences ? declaredValue(audiences) : undefined);
  if (!audienceMap || typeof audienceMap !== 'object' || (audienceMap as Record<string, Value>).AzureCloud !== 'api://AzureADTokenExchange') {
    problems.push('the federated identity credential audience must be api://AzureADTokenExchange in the public cloud');
  }
  for (const option of ['createEntraApp', 'grantGraphAdminConsent', 'enableVnet']) {
    if (scope.names.get(option) !== false) problems.push(`${option} must be off by default`);
  }
  for (const option of ['graphApplicationPermissions', 'kustoViewerDatabases']) {
    const value = scope.names.get(option);
    if (!Array.isArray(value) || value.length > 0) problems.push(`${option} must be empty by default`);
  }
  return problems;
}

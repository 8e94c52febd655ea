/**
 * azure.yaml against the azd schema's required fields and azd's own rules
 * for function apps, and the packaging hook it runs. The schema facts are
 * from azure-dev's schemas/v1.0/azure.yaml.json: `name` (lower-case letters,
 * digits, dashes, 2+ characters) is the only required top-level field,
 * `services` needs at least one entry, every service needs `host`, and a
 * `host: function` service deploys either code (`project`) or an image; for
 * code, `language` selects the build (ts: npm). azd's function target
 * enables remote build only when .funcignore excludes node_modules, and
 * refuses `remoteBuild: false` when it does (service_target_functionapp.go).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { azdServiceNameTag } from './bicep-checks.ts';
import { loadInfra, repoRoot } from './bicep-tree.ts';

interface Hook {
  shell?: string;
  run?: string;
  windows?: Hook;
  posix?: Hook;
}

interface Service {
  project?: string;
  image?: string;
  language?: string;
  host?: string;
  dist?: string;
  remoteBuild?: boolean;
  hooks?: Record<string, Hook | Hook[]>;
}

interface AzureYaml {
  name?: string;
  infra?: { provider?: string; path?: string; module?: string };
  services?: Record<string, Service>;
}

const LANGUAGES = ['dotnet', 'csharp', 'fsharp', 'py', 'python', 'js', 'ts', 'java', 'go', 'golang', 'docker'];
const HOSTS = ['appservice', 'containerapp', 'function', 'springapp', 'staticwebapp', 'aks'];
const SERVICE_HOOKS = ['prerestore', 'postrestore', 'prebuild', 'postbuild', 'prepackage', 'postpackage', 'prepublish', 'postpublish', 'predeploy', 'postdeploy'];

/** Problems with an azure.yaml document: schema-required fields and azd's function-app rules. */
export function checkAzureYaml(doc: AzureYaml, funcignore: string | undefined): string[] {
  const problems: string[] = [];
  if (typeof doc.name !== 'string' || doc.name.length < 2 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(doc.name)) {
    problems.push('name is required: lower-case letters, digits and dashes, starting and ending with a letter or digit');
  }
  const services = Object.entries(doc.services ?? {});
  if (services.length === 0) problems.push('services needs at least one service');
  for (const [name, service] of services) {
    if (!service.host) problems.push(`services.${name}.host is required`);
    else if (!HOSTS.includes(service.host)) problems.push(`services.${name}.host ${service.host} is not an azd host`);
    if (service.host === 'function' && !service.image) {
      if (!service.project) problems.push(`services.${name}.project is required for a code deployment`);
      if (!service.language || !LANGUAGES.includes(service.language)) problems.push(`services.${name}.language is required (one of ${LANGUAGES.join(', ')})`);
    }
    if (service.remoteBuild !== undefined && service.host !== 'function') problems.push(`services.${name}.remoteBuild is only valid for host: function`);
    if (service.host === 'function' && (service.language === 'ts' || service.language === 'js')) {
      const excludesNodeModules = funcignore !== undefined && /^\/?node_modules\/?\s*$/m.test(funcignore);
      if (service.remoteBuild === true && !excludesNodeModules) problems.push(`services.${name}: remoteBuild: true needs .funcignore to exclude node_modules`);
      if (service.remoteBuild === false && excludesNodeModules) problems.push(`services.${name}: remoteBuild: false cannot be used while .funcignore excludes node_modules`);
      if (service.remoteBuild === undefined && service.dist) problems.push(`services.${name}: set remoteBuild explicitly, or azd leaves node_modules out of a dist package`);
    }
    for (const [event, hooks] of Object.entries(service.hooks ?? {})) {
      if (!SERVICE_HOOKS.includes(event)) problems.push(`services.${name}.hooks.${event} is not a service hook`);
      for (const hook of [hooks].flat()) {
        for (const variant of [hook, hook.windows, hook.posix].filter((h): h is Hook => h !== undefined)) {
          if (!variant.run) problems.push(`services.${name}.hooks.${event}: run is required`);
          if (variant.shell !== undefined && !['sh', 'pwsh'].includes(variant.shell)) problems.push(`services.${name}.hooks.${event}: shell must be sh or pwsh`);
          if (variant.run && !/\.(sh|ps1|py|js|ts|mjs)$/.test(variant.run) && !variant.shell) problems.push(`services.${name}.hooks.${event}: an inline script needs shell`);
        }
      }
    }
  }
  return problems;
}

const azureYaml = parse(readFileSync(join(repoRoot, 'azure.yaml'), 'utf8')) as AzureYaml;
const funcignore = readFileSync(join(repoRoot, '.funcignore'), 'utf8');

describe('azure.yaml', () => {
  test('has the azd schema\'s required fields and follows azd\'s function-app rules', () => {
    assert.deepEqual(checkAzureYaml(azureYaml, funcignore), []);
  });

  test('the checks catch a missing name, host, project or language and a remote build that cannot work', () => {
    assert.match(checkAzureYaml({ services: { a: { host: 'function', language: 'ts', project: '.' } } }, funcignore).join('\n'), /name is required/);
    assert.match(checkAzureYaml({ name: 'x1', services: { a: { language: 'ts', project: '.' } } }, funcignore).join('\n'), /host is required/);
    assert.match(checkAzureYaml({ name: 'x1', services: { a: { host: 'function' } } }, funcignore).join('\n'), /project is required[\s\S]*language is required/);
    assert.match(checkAzureYaml({ name: 'x1', services: { a: { host: 'function', language: 'ts', project: '.', remoteBuild: true } } }, funcignore).join('\n'), /needs \.funcignore to exclude node_modules/);
    assert.match(checkAzureYaml({ name: 'x1', services: {} }, funcignore).join('\n'), /at least one service/);
  });

  test('one function service, TypeScript, whose name is the app\'s azd-service-name tag', async () => {
    const services = Object.entries(azureYaml.services ?? {});
    assert.equal(services.length, 1);
    const [name, service] = services[0]!;
    assert.equal(service.host, 'function');
    assert.equal(service.language, 'ts');
    assert.equal(azdServiceNameTag(await loadInfra()), name);
  });

  test('infra points at infra/main.bicep and its parameters file', () => {
    const infra = azureYaml.infra ?? {};
    assert.equal(infra.provider ?? 'bicep', 'bicep');
    const dir = join(repoRoot, infra.path ?? 'infra');
    assert.ok(existsSync(join(dir, `${infra.module ?? 'main'}.bicep`)));
    assert.ok(existsSync(join(dir, `${infra.module ?? 'main'}.bicepparam`)));
  });

  test('hooks run files that exist, and dist is the folder the packaging hook stages', () => {
    const service = Object.values(azureYaml.services ?? {})[0]!;
    const script = readFileSync(join(repoRoot, 'infra/hooks/stage-package.mjs'), 'utf8');
    assert.equal(service.dist, /STAGING_DIR = '([^']+)'/.exec(script)?.[1]);
    for (const hooks of Object.values(service.hooks ?? {})) {
      for (const hook of [hooks].flat()) {
        for (const variant of [hook, hook.windows, hook.posix].filter((h): h is Hook => h !== undefined)) {
          const file = /node (\S+\.mjs)/.exec(variant.run ?? '')?.[1];
          assert.ok(file && existsSync(join(repoRoot, file)), `hook runs ${variant.run}`);
        }
      }
    }
    assert.match(readFileSync(join(repoRoot, '.gitignore'), 'utf8'), /^\.dist-\*$/m, 'the staging folder must be git-ignored');
    assert.match(funcignore, /^\/\.dist-\*$/m, 'the staging folder must be left out of func publish');
  });
});

describe('infra/hooks/stage-package.mjs', () => {
  const stage = (root: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'infra/hooks/stage-package.mjs'), '--root', root, ...args], { encoding: 'utf8' });

  test('stages dist/ without source maps, host.json and package files, and nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'stage-package-'));
    try {
      mkdirSync(join(root, 'dist'));
      mkdirSync(join(root, 'src'));
      mkdirSync(join(root, 'node_modules/typescript'), { recursive: true });
      for (const file of ['dist/functions.js', 'dist/functions.js.map', 'dist/chunk-abc.js', 'host.json', 'package.json', 'package-lock.json', 'src/app.ts', 'local.settings.json']) {
        writeFileSync(join(root, file), '{}');
      }
      const first = stage(root, '--skip-build', '--skip-install');
      assert.equal(first.status, 0, first.stderr);
      writeFileSync(join(root, '.dist-deploy/stale.txt'), 'left from an earlier run');
      const second = stage(root, '--skip-build', '--skip-install');
      assert.equal(second.status, 0, second.stderr);
      assert.deepEqual(readdirSync(join(root, '.dist-deploy')).sort(), ['dist', 'host.json', 'package-lock.json', 'package.json']);
      assert.deepEqual(readdirSync(join(root, '.dist-deploy/dist')).sort(), ['chunk-abc.js', 'functions.js']);
      const clean = stage(root, '--clean');
      assert.equal(clean.status, 0, clean.stderr);
      assert.equal(existsSync(join(root, '.dist-deploy')), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('refuses to stage without a built entry point', () => {
    const root = mkdtempSync(join(tmpdir(), 'stage-package-'));
    try {
      const result = stage(root, '--skip-build', '--skip-install');
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /dist\/functions\.js is missing/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

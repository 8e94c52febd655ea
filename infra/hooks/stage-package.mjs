// Stages the deployment package for `azd package` / `azd deploy` / `azd up`
// (azure.yaml: the prepackage hook runs this, `dist:` points azd at the
// result, the postpackage hook runs it with --clean).
//
// The package is what the manual path in docs/deploy.md ships: the bundle in
// dist/ (without source maps), host.json, package.json and the production
// dependencies, installed from the lock file into the staging folder, so the
// developer's own node_modules (dev dependencies, the Node 22 test binary)
// never reaches Azure and is never pruned.
//
//   node infra/hooks/stage-package.mjs                 build, stage, install production dependencies
//   node infra/hooks/stage-package.mjs --skip-build    stage the existing dist/
//   node infra/hooks/stage-package.mjs --skip-install  no npm ci (tests)
//   node infra/hooks/stage-package.mjs --clean         remove the staging folder
//   --root <dir>                                       project folder (default: the current one)
import { spawnSync } from 'node:child_process';
import { cp, copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Matches azure.yaml's `dist:`; under .gitignore's and .funcignore's `.dist-*`. */
export const STAGING_DIR = '.dist-deploy';
const FILES = ['host.json', 'package.json', 'package-lock.json'];

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const rootIndex = args.indexOf('--root');
const root = resolve(rootIndex >= 0 ? args[rootIndex + 1] : '.');
const out = join(root, STAGING_DIR);

function run(command, commandArgs, cwd) {
  // npm is npm.cmd on Windows, which only a shell can start.
  const result = spawnSync(command, commandArgs, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal})`);
  }
}

async function stage() {
  if (!flag('--skip-build')) run('npm', ['run', 'build'], root);
  const entry = join(root, 'dist', 'functions.js');
  if (!(await stat(entry).catch(() => null))?.isFile()) {
    throw new Error(`${entry} is missing: run npm run build first`);
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(out);
  // Source maps stay home, as in .funcignore.
  await cp(join(root, 'dist'), join(out, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.map') });
  for (const file of FILES) await copyFile(join(root, file), join(out, file));
  if (!flag('--skip-install')) {
    // A project .npmrc (registry settings) applies to the install, but is never shipped.
    const npmrc = join(root, '.npmrc');
    const hasNpmrc = Boolean((await stat(npmrc).catch(() => null))?.isFile());
    if (hasNpmrc) await copyFile(npmrc, join(out, '.npmrc'));
    try {
      // Exactly the locked production tree; no install scripts; no optional
      // packages (the only one is the Node 22 binary the tests use).
      run('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], out);
    } finally {
      if (hasNpmrc) await rm(join(out, '.npmrc'), { force: true });
    }
  }
  const entries = await readdir(out);
  console.error(`staged ${STAGING_DIR}/ (${entries.sort().join(', ')})`);
}

try {
  if (flag('--clean')) await rm(out, { recursive: true, force: true });
  else await stage();
} catch (error) {
  console.error(`stage-package: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

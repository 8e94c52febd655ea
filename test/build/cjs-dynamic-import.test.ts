import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs build script without type declarations
import { cjsDynamicImportPlugin } from '../../scripts/cjs-dynamic-import.mjs';

/**
 * The esbuild interop gap behind the Application Insights worker's death:
 * `const { Named } = await import('./cjs.js')` inside a CommonJS package,
 * bundled with code splitting. A scratch package reproduces it.
 */
async function bundle(plugins: unknown[]) {
  const dir = await mkdtemp(join(tmpdir(), 'cjs-dynamic-import-'));
  const pkg = join(dir, 'node_modules', 'lazy-cjs');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'lazy-cjs', main: 'index.js' }));
  await writeFile(join(pkg, 'sender.js'), 'exports.HttpSender = class HttpSender {};\n');
  await writeFile(join(pkg, 'index.js'), 'exports.load = async () => { const { HttpSender } = await import("./sender.js"); return typeof HttpSender; };\n');
  await writeFile(join(dir, 'entry.mjs'), "import lazy from 'lazy-cjs';\nexport const load = lazy.load;\n");
  await build({
    entryPoints: [join(dir, 'entry.mjs')],
    outdir: join(dir, 'out'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    plugins: plugins as never[],
    logLevel: 'silent',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  const { load } = (await import(pathToFileURL(join(dir, 'out', 'entry.js')).href)) as { load: () => Promise<string> };
  const result = await load();
  await rm(dir, { recursive: true, force: true });
  return result;
}

test('without the plugin, a CommonJS dynamic import loses its named exports once split (the bug)', async () => {
  assert.equal(await bundle([]), 'undefined');
});

test('with the plugin, the named export survives bundling', async () => {
  assert.equal(await bundle([cjsDynamicImportPlugin]), 'function');
});

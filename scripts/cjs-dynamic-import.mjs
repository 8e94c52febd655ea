// An esbuild plugin for one interop gap of code splitting.
//
// When a CommonJS file in node_modules does `await import('./x.js')` and x is
// CommonJS too, esbuild (with `splitting`) moves x into a chunk whose only
// export is `default`. Node itself would give named exports (cjs-module-lexer),
// so code such as the Azure Monitor exporter's
//   const { HttpSender } = await import('../../platform/nodejs/httpSender.js')
// gets `undefined` once bundled; its first statsbeat export then throws and
// kills the Application Insights worker. OpenTelemetry's getMachineId has the
// same pattern.
//
// The fix: in CommonJS files only, a dynamic import of a literal relative
// path becomes a require that resolves to what Node's import() would give
// (named exports plus `default` = module.exports). esbuild then bundles the
// target statically, as every other require. Bare package specifiers
// (`import('open')`) are left alone: they may be ES modules.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const RELATIVE_DYNAMIC_IMPORT = /\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g;
const ESM_SYNTAX = /^\s*(import\s[^(]|export\s)/m;

const packageTypeCache = new Map();

/** The `type` of the nearest package.json, as Node uses it to pick the module format. */
async function packageType(directory) {
  if (packageTypeCache.has(directory)) return packageTypeCache.get(directory);
  let type;
  try {
    type = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')).type ?? 'commonjs';
  } catch {
    const parent = dirname(directory);
    type = parent === directory ? 'commonjs' : await packageType(parent);
  }
  packageTypeCache.set(directory, type);
  return type;
}

/** Node's namespace for a CommonJS module; esbuild's ESM-to-CJS wrappers already carry `default`. */
const INTEROP = '((m) => (m && m.__esModule ? m : Object.assign({}, m, { default: m })))';

export function rewriteDynamicImports(source) {
  return source.replace(RELATIVE_DYNAMIC_IMPORT, (_, quote, specifier) => `Promise.resolve().then(() => ${INTEROP}(require(${quote}${specifier}${quote})))`);
}

export const cjsDynamicImportPlugin = {
  name: 'cjs-dynamic-import',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import(')) return undefined;
      const commonJs = args.path.endsWith('.cjs') || ((await packageType(dirname(args.path))) !== 'module' && !ESM_SYNTAX.test(source));
      if (!commonJs) return undefined;
      const rewritten = rewriteDynamicImports(source);
      return rewritten === source ? undefined : { contents: rewritten, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

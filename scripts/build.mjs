// Bundles the product into dist/ with esbuild: one file per entry plus lazily
// loaded chunks, so a cold start reads a few files instead of thousands and
// Azure SDKs are only evaluated when first used.
import { build } from 'esbuild';
import { rename, rm } from 'node:fs/promises';
import { cjsDynamicImportPlugin } from './cjs-dynamic-import.mjs';

const banner = [
  "import { createRequire as __mcpCreateRequire } from 'node:module';",
  "import { fileURLToPath as __mcpFileURLToPath } from 'node:url';",
  "import { dirname as __mcpDirname } from 'node:path';",
  'const require = __mcpCreateRequire(import.meta.url);',
  'const __filename = __mcpFileURLToPath(import.meta.url);',
  'const __dirname = __mcpDirname(__filename);',
].join('\n');

// Built beside dist/ and swapped in at the end: a failed build leaves the old one, and processes
// started from dist/ while a build runs never see it half-written.
const staging = `.dist-${process.pid}`;
await rm(staging, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    server: 'src/server.ts',
    functions: 'src/functions.ts',
    'appinsights-worker': 'src/audit/appinsights-worker.ts',
  },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Chunks sit beside the entries so './appinsights-worker.js' resolves from any of them.
  chunkNames: '[name]-[hash]',
  // The Functions host talks to its own copy of @azure/functions; never bundle it.
  external: ['@azure/functions'],
  banner: { js: banner },
  metafile: true,
  plugins: [cjsDynamicImportPlugin],
  logLevel: 'warning',
});
const retired = `.dist-old-${process.pid}`;
await rename('dist', retired).catch(() => undefined);
await rename(staging, 'dist');
await rm(retired, { recursive: true, force: true });
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.error(`built dist/ (${(bytes / 1_048_576).toFixed(1)} MB)`);

// Preload (`--import`) that records every module file a process loads, one line each, to the
// file named by MODULE_LOAD_LOG: ES modules through a loader hook (module-load-log-hooks.mjs, on
// the hooks thread), CommonJS files through Module.prototype.load (the bundle's require(), from
// createRequire, and anything under node_modules). Lines are written synchronously before the
// module runs, so once the process has answered a request, everything that answer needed is logged.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.MODULE_LOAD_LOG;
if (log) {
  register('./module-load-log-hooks.mjs', import.meta.url, { data: { log } });
  const load = Module.prototype.load;
  Module.prototype.load = function (filename) {
    appendFileSync(log, `cjs ${filename}\n`);
    return load.call(this, filename);
  };
}

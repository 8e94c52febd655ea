// The loader hooks of module-load-log.mjs: every ES module URL, as it is loaded.
import { appendFileSync } from 'node:fs';

let log;
export function initialize(data) {
  log = data.log;
}

export async function load(url, context, nextLoad) {
  if (log && url.startsWith('file:')) appendFileSync(log, `esm ${url}\n`);
  return nextLoad(url, context);
}

// The real bundled Application Insights worker, made to die once: the first
// worker thread that creates the file named by DYING_WORKER_FLAG exits with
// code 1 right after its message handler took the DYING_WORKER_AFTER-th event
// (queued or tracked, not yet exported): a crash with records inside, as far
// as the supervisor can tell. Later incarnations (the restarts) find the file
// and live. (Environment, not the URL: Node drops a worker URL's query.)
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const dieAfter = Number(process.env.DYING_WORKER_AFTER ?? '5');
let mayDie = false;
try {
  closeSync(openSync(process.env.DYING_WORKER_FLAG ?? '', 'wx'));
  mayDie = true;
} catch {
  // Not the first incarnation.
}
let events = 0;
const on = parentPort.on.bind(parentPort);
parentPort.on = (name, handler) =>
  on(name, name !== 'message' ? handler : (message) => {
    handler(message);
    if (mayDie && message.type === 'event' && ++events === dieAfter) process.exit(1);
  });
await import(new URL('../../dist/appinsights-worker.js', import.meta.url).href);

import { Worker } from 'node:worker_threads';
import type { AuditEvent, AuditSink } from './events.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './appinsights-messages.ts';
import { createStdoutAuditSink } from './stdout-sink.ts';

export interface AppInsightsSinkOptions extends WorkerSettings {
  /** Where the worker script is; defaults to the file next to this module (source or bundle). */
  workerUrl?: URL;
  flushTimeoutMs?: number;
  confirmIntervalMs?: number;
  onError?: (message: string) => void;
}

const defaultWorkerUrl = () =>
  new URL(import.meta.url.endsWith('.ts') ? './appinsights-worker.ts' : './appinsights-worker.js', import.meta.url);

/**
 * Sends audit events to Application Insights through a worker thread (see
 * appinsights-worker.ts). If the worker cannot start or dies, events fall
 * back to stdout JSON lines rather than being dropped.
 */
export function createAppInsightsAuditSink(options: AppInsightsSinkOptions): AuditSink {
  const report = options.onError ?? ((message) => process.stderr.write(`${message}\n`));
  const fallback = createStdoutAuditSink();
  const settings: WorkerSettings = {
    connectionString: options.connectionString,
    diskRetry: options.diskRetry,
    roleName: options.roleName,
    version: options.version,
    managedIdentityClientId: options.managedIdentityClientId,
    hasManagedIdentityEndpoint: options.hasManagedIdentityEndpoint,
  };
  const worker = new Worker(options.workerUrl ?? defaultWorkerUrl(), { workerData: settings });
  // The worker must not keep an otherwise finished process alive.
  worker.unref();
  let failed = false;
  let nextFlushId = 0;
  const waiting = new Map<number, (error?: string) => void>();
  /** Events not yet confirmed by a flush; replayed to stdout if the worker fails. */
  let unconfirmed: AuditEvent[] = [];

  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    report(`audit: Application Insights unavailable (${message}); writing audit events to stdout`);
    for (const event of unconfirmed) fallback.record(event);
    unconfirmed = [];
    for (const resolve of waiting.values()) resolve(message);
    waiting.clear();
  };

  worker.on('message', (message: FromWorker) => {
    if (message.type === 'failed') return fail(message.error);
    waiting.get(message.id)?.(message.error);
    waiting.delete(message.id);
  });
  worker.on('error', (error) => fail(error.message));
  worker.on('exit', (code) => fail(`worker exited with code ${code}`));

  const send = (message: ToWorker) => worker.postMessage(message);
  // Confirming regularly bounds both the replay buffer and what an abrupt kill can lose.
  const periodicFlush = setInterval(() => {
    if (unconfirmed.length > 0) void flush();
  }, options.confirmIntervalMs ?? 5_000);
  periodicFlush.unref();

  async function flush(): Promise<void> {
    if (failed) return;
    const id = nextFlushId++;
    const confirming = unconfirmed;
    unconfirmed = [];
    const error = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve('flush timed out'), options.flushTimeoutMs ?? 15_000);
      waiting.set(id, (err) => {
        clearTimeout(timer);
        resolve(err);
      });
      send({ type: 'flush', id });
    });
    if (error) {
      report(`audit: flush to Application Insights failed: ${error}`);
      if (!failed) unconfirmed.unshift(...confirming);
    }
  }

  return {
    record(event) {
      if (failed) return fallback.record(event);
      unconfirmed.push(event);
      send({ type: 'event', event });
    },
    flush,
    async close() {
      clearInterval(periodicFlush);
      await flush();
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

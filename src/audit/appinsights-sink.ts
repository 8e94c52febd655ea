import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { AuditEvent, AuditSink } from './events.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './appinsights-messages.ts';
import type { IngestionOutcome } from './ingestion-outcome.ts';
import { createStdoutAuditSink } from './stdout-sink.ts';

export interface AppInsightsSinkOptions extends WorkerSettings {
  /** Where the worker script is; defaults to the file next to this module (source or bundle). */
  workerUrl?: URL;
  /** A record with no answer this long is sent again (dropped from the exporter's queue, a stuck request). */
  confirmTimeoutMs?: number;
  /** Sends per record before it goes to the fallback. */
  maxAttempts?: number;
  /** First wait before a transient failure is sent again; doubles per attempt, up to 30 s. */
  retryBaseMs?: number;
  /** Records awaiting confirmation beyond this go to the fallback, oldest first: memory stays bounded in a long outage. */
  maxPending?: number;
  /** Worker deaths within a minute after which Application Insights is given up for stdout. */
  maxRestarts?: number;
  /** How long a flush without a deadline waits. */
  flushTimeoutMs?: number;
  /** Where undeliverable records go (default: stdout JSON lines). */
  fallback?: AuditSink;
  onError?: (message: string) => void;
}

interface PendingRecord {
  event: AuditEvent;
  attempts: number;
  /** When it was last handed to the worker; undefined while waiting to be sent again. */
  sentAt?: number;
  retryAt?: number;
}

const defaultWorkerUrl = () =>
  new URL(import.meta.url.endsWith('.ts') ? './appinsights-worker.ts' : './appinsights-worker.js', import.meta.url);

const SWEEP_MS = 250;
const RESTART_WINDOW_MS = 60_000;
const MAX_RETRY_WAIT_MS = 30_000;

/**
 * Sends audit records to Application Insights through a supervised worker
 * thread (appinsights-worker.ts) and keeps each record until the ingestion
 * answer for it says delivered. Transient failures are sent again with
 * backoff; a record that is rejected, exhausts its attempts, or is still
 * unconfirmed at a flush deadline is written to the fallback (stdout, which
 * Functions ships to Application Insights traces and Log Analytics) with one
 * loud stderr line per batch. A dead worker is restarted and its records
 * sent again. Nothing is dropped silently.
 */
export function createAppInsightsAuditSink(options: AppInsightsSinkOptions): AuditSink {
  const report = options.onError ?? ((message) => process.stderr.write(`${message}\n`));
  const fallback = options.fallback ?? createStdoutAuditSink();
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const maxPending = options.maxPending ?? 10_000;
  const maxRestarts = options.maxRestarts ?? 5;
  const settings: WorkerSettings = {
    connectionString: options.connectionString,
    sdkStats: options.sdkStats,
    roleName: options.roleName,
    version: options.version,
    managedIdentityClientId: options.managedIdentityClientId,
    hasManagedIdentityEndpoint: options.hasManagedIdentityEndpoint,
  };

  const pending = new Map<string, PendingRecord>();
  const deaths: number[] = [];
  let worker: Worker | undefined;
  let gaveUp = false;
  let closed = false;
  /** Set while a flush waits: failures are sent again at once, not after a backoff. */
  let flushing = false;
  let settled: (() => void) | undefined;

  function writeFallback(records: PendingRecord[], reason: string) {
    if (records.length === 0) return;
    for (const record of records) {
      pending.delete(record.event.properties.recordId ?? '');
      fallback.record(record.event);
    }
    report(
      `AUDIT DELIVERY FAILURE: ${records.length} audit record(s) not delivered to Application Insights (${reason}); written to stdout as JSON lines instead`,
    );
    if (pending.size === 0) settled?.();
  }

  const post = (message: ToWorker) => worker?.postMessage(message);

  function send(record: PendingRecord) {
    record.attempts++;
    record.sentAt = Date.now();
    record.retryAt = undefined;
    post({ type: 'event', event: record.event });
  }

  /** Another try later, or the fallback when the tries are used up. */
  function retryOrGiveUp(records: PendingRecord[], reason: string, notBeforeMs = 0) {
    const exhausted = records.filter((record) => record.attempts >= maxAttempts);
    writeFallback(exhausted, `${reason}; gave up after ${maxAttempts} attempts`);
    for (const record of records) {
      if (record.attempts >= maxAttempts) continue;
      record.sentAt = undefined;
      const backoff = Math.min(retryBaseMs * 2 ** (record.attempts - 1), MAX_RETRY_WAIT_MS);
      // A flush does not wait out the backoff, but still honours the service's Retry-After.
      record.retryAt = Date.now() + Math.max(flushing ? 0 : backoff, Math.min(notBeforeMs, MAX_RETRY_WAIT_MS));
    }
  }

  function onOutcome(outcome: IngestionOutcome) {
    const lookup = (ids: string[]) => ids.map((id) => pending.get(id)).filter((record): record is PendingRecord => record !== undefined);
    for (const id of outcome.delivered) pending.delete(id);
    writeFallback(lookup(outcome.rejected), `rejected: ${outcome.reason ?? 'permanent error'}`);
    retryOrGiveUp(lookup(outcome.retry), outcome.reason ?? 'transient error', outcome.retryAfterMs);
    if (pending.size === 0) settled?.();
  }

  /** Sends what is due again and treats records unanswered for too long as transient failures. */
  function sweep() {
    if (!worker) return;
    const now = Date.now();
    const overdue: PendingRecord[] = [];
    let resent = false;
    for (const record of pending.values()) {
      if (record.retryAt !== undefined && record.retryAt <= now) {
        send(record);
        resent = true;
      } else if (record.sentAt !== undefined && now - record.sentAt > confirmTimeoutMs) {
        overdue.push(record);
      }
    }
    if (overdue.length > 0) retryOrGiveUp(overdue, `no answer within ${confirmTimeoutMs} ms`);
    if (resent && flushing) post({ type: 'flush' });
  }
  const sweeper = setInterval(sweep, SWEEP_MS);
  sweeper.unref();

  function startWorker() {
    const current = new Worker(options.workerUrl ?? defaultWorkerUrl(), { workerData: settings });
    // The worker must not keep an otherwise finished process alive.
    current.unref();
    worker = current;
    const died = (why: string) => {
      if (worker !== current) return;
      worker = undefined;
      void current.terminate();
      onWorkerDeath(why);
    };
    current.on('message', (message: FromWorker) => {
      if (worker !== current) return;
      if (message.type === 'outcome') onOutcome(message);
      else if (message.type === 'failed') died(message.error);
    });
    current.on('error', (error) => died(error.message));
    current.on('exit', (code) => died(`worker exited with code ${code}`));
    // Everything not yet confirmed goes to the new worker; the old one's queue died with it.
    for (const record of pending.values()) {
      record.attempts = Math.max(0, record.attempts - 1);
      send(record);
    }
    if (flushing) post({ type: 'flush' });
  }

  function onWorkerDeath(why: string) {
    if (closed) return;
    const now = Date.now();
    deaths.push(now);
    while (deaths.length > 0 && (deaths[0] ?? now) < now - RESTART_WINDOW_MS) deaths.shift();
    if (deaths.length > maxRestarts) {
      gaveUp = true;
      report(`audit: Application Insights worker failed ${deaths.length} times in a minute (${why}); audit records go to stdout from now on`);
      writeFallback([...pending.values()], `worker failed: ${why}`);
      return;
    }
    report(`audit: Application Insights worker stopped (${why}); restarting it and sending ${pending.size} unconfirmed record(s) again`);
    startWorker();
  }

  startWorker();

  async function flush(deadline?: number): Promise<void> {
    if (pending.size === 0 || !worker) return;
    const end = deadline ?? Date.now() + (options.flushTimeoutMs ?? 15_000);
    flushing = true;
    try {
      for (const record of pending.values()) if (record.retryAt !== undefined) record.retryAt = 0;
      sweep();
      post({ type: 'flush' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, end - Date.now()));
        settled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    } finally {
      settled = undefined;
      flushing = false;
    }
    writeFallback([...pending.values()], 'not confirmed by the flush deadline');
  }

  return {
    record(event) {
      if (gaveUp || closed) return fallback.record(event);
      const id = (event.properties.recordId ??= randomUUID());
      if (pending.size >= maxPending) {
        const oldest = pending.values().next().value as PendingRecord;
        writeFallback([oldest], `more than ${maxPending} records awaiting confirmation`);
      }
      const record: PendingRecord = { event, attempts: 0 };
      pending.set(id, record);
      send(record);
    },
    flush,
    async close(deadline) {
      await flush(deadline);
      closed = true;
      clearInterval(sweeper);
      const last = worker;
      worker = undefined;
      await last?.terminate();
    },
  };
}

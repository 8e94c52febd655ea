import type { AuditEvent } from './events.ts';
import type { CredentialSettings } from '../azure/credential.ts';
import type { IngestionOutcome } from './ingestion-outcome.ts';

/** Messages between the main thread and the Application Insights worker. */
export type ToWorker = { type: 'event'; event: AuditEvent } | { type: 'flush' };
export type FromWorker =
  /** What the ingestion answer (or its absence) meant for the records of one request. */
  | ({ type: 'outcome' } & IngestionOutcome)
  /** The worker cannot send at all (SDK failed to load, bad connection string). */
  | { type: 'failed'; error: string };

export interface WorkerSettings extends CredentialSettings {
  connectionString: string;
  /** Let the SDK send its own usage metrics (statsbeat, SDK stats); off unless configured. */
  sdkStats: boolean;
  /** `ai.cloud.role` / `ai.application.ver` of every event (the site name on Azure). */
  roleName: string;
  version: string;
}

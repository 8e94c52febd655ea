import type { AuditEvent } from './events.ts';
import type { CredentialSettings } from '../azure/credential.ts';

/** Messages between the main thread and the Application Insights worker. */
export type ToWorker = { type: 'event'; event: AuditEvent } | { type: 'flush'; id: number };
export type FromWorker = { type: 'flushed'; id: number; error?: string } | { type: 'failed'; error: string };

export interface WorkerSettings extends CredentialSettings {
  connectionString: string;
  diskRetry: boolean;
  /** `ai.cloud.role` / `ai.application.ver` of every event (the site name on Azure). */
  roleName: string;
  version: string;
}

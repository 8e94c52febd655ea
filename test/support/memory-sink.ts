import type { AuditEvent, AuditSink } from '../../src/audit/events.ts';

/** An audit sink that keeps events in memory for assertions. */
export function memorySink(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    events,
    record: (event) => void events.push(event),
    flush: async () => {},
    close: async () => {},
  };
}

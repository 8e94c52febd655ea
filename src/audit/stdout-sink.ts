import type { AuditEvent, AuditSink } from './events.ts';

/** Without Application Insights, audit events are JSON lines on stdout (collected by the Functions host or a terminal). */
export function createStdoutAuditSink(write: (line: string) => void = (line) => process.stdout.write(line)): AuditSink {
  return {
    record(event: AuditEvent) {
      write(`${JSON.stringify({ time: event.time, event: event.name, ...event.properties, ...event.measurements })}\n`);
    },
    async flush() {},
    async close() {},
  };
}

import autocannon from 'autocannon';
import { rssBytes, startServer, stopServer } from './server-process.ts';
import { toolsCall, type Era } from './requests.ts';

export interface LoadResult {
  era: Era;
  durationSeconds: number;
  connections: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Connection errors (timeouts included), non-2xx answers and answers that are not a tool result. */
  errors: number;
  requests: number;
  rssBeforeMB: number;
  rssAfterMB: number;
}

/** A tool result (JSON or one SSE event), not an error: cheap, so the load generator stays light. */
const isToolResult = (body: string | Buffer | undefined) => {
  const text = body?.toString() ?? '';
  return text.includes('"structuredContent"') && !text.includes('"isError":true');
};

/**
 * A fixed-duration load run of one era's no-I/O tools/call against a fresh
 * real server process on loopback, after a short warm-up; bounded in time
 * and connections. Every answer is checked to be a tool result.
 */
export async function measureLoad(era: Era, durationSeconds = 30, connections = 64, port = 7282): Promise<LoadResult> {
  const { child, url } = await startServer(port);
  try {
    const request = toolsCall(era);
    const options = { url, method: 'POST' as const, connections, headers: request.headers, body: request.body };
    await autocannon({ ...options, duration: Math.min(3, Math.max(1, durationSeconds / 10)) });
    const rssBefore = rssBytes(child.pid as number);
    const result = await autocannon({ ...options, duration: durationSeconds, verifyBody: isToolResult });
    return {
      era,
      durationSeconds,
      connections,
      requestsPerSecond: result.requests.average,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      errors: result.errors + result.non2xx + result.mismatches,
      requests: result.requests.total,
      rssBeforeMB: rssBefore / 1_048_576,
      rssAfterMB: rssBytes(child.pid as number) / 1_048_576,
    };
  } finally {
    await stopServer(child);
  }
}

import autocannon from 'autocannon';
import { MCP_HEADERS, rssBytes, startServer, stopServer } from './server-process.ts';

/** A fixed-duration load run against the real server process on loopback; bounded in time and connections. */
export async function measureLoad(durationSeconds = 30, connections = 64, port = 7282) {
  const { child, url } = await startServer(port);
  const rssBefore = rssBytes(child.pid as number);
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'server_info_get', arguments: {} } }),
  });
  const rssAfter = rssBytes(child.pid as number);
  await stopServer(child);
  return {
    durationSeconds,
    connections,
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    rssBeforeMB: rssBefore / 1_048_576,
    rssAfterMB: rssAfter / 1_048_576,
  };
}

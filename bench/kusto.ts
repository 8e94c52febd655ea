import { readFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { createKustoService } from '../emulator/kusto/service.ts';
import { startEmulator } from '../emulator/server.ts';
import { MCP_HEADERS, startServer, stopServer } from './server-process.ts';

/**
 * Kusto figures against the emulator through the real server process:
 * tokens of our result shape versus the Azure MCP Server's and the common
 * object-per-row JSON on the same 1,000 rows, and peak memory answering a
 * query over a 100,000-row table under the default budget.
 */

interface QueryAnswer {
  text: string;
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

async function callQuery(url: string, args: Record<string, unknown>): Promise<QueryAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'kusto_query', arguments: args } }),
  });
  const body = (await response.json()) as { result: { isError?: boolean; content: Array<{ text: string }>; structuredContent: QueryAnswer } };
  if (body.result.isError) throw new Error(body.result.content[0]?.text);
  return { ...body.result.structuredContent, text: body.result.content.map((c) => c.text).join('\n') };
}

function peakRssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

export async function measureKusto(port = 7283) {
  const kusto = createKustoService();
  const emulator = await startEmulator({ services: [kusto] });
  const { child, url } = await startServer(port, {
    ...emulator.env(),
    KUSTO_CLUSTERS: `bench=${emulator.origin('bench.kusto.localhost')}/AppTelemetry`,
    // Room for all 1,000 rows in the token comparison; the memory query below still runs under the default row budget.
    KUSTO_MAX_RESULT_BYTES: String(1_048_576),
  });
  try {
    const answer = await callQuery(url, {
      query: 'Requests | project Timestamp, Name, ResultCode, DurationMs, Success, Cloud_RoleName | take 1000',
      maxRows: 1000,
    });
    const ours = encode(answer.text).length;
    // The Azure MCP Server's shape: a column→type map, then one JSON array per row.
    const azureShape = [JSON.stringify(Object.fromEntries(answer.columns.map((c) => [c.name, c.type]))), ...answer.rows.map((row) => JSON.stringify(row))].join('\n');
    const objectRows = JSON.stringify(answer.rows.map((row) => Object.fromEntries(answer.columns.map((c, i) => [c.name, row[i]]))));
    const tokens = {
      rows: answer.rows.length,
      ours,
      azureMcpShape: encode(azureShape).length,
      objectPerRowJson: encode(objectRows).length,
    };

    const before = peakRssMB(child.pid as number);
    const big = await callQuery(url, { query: 'PerfHistory', database: 'Metrics' });
    const after = peakRssMB(child.pid as number);
    return {
      tokens: { ...tokens, ratioToAzureShape: ours / tokens.azureMcpShape, ratioToObjectRows: ours / tokens.objectPerRowJson },
      memory: { table: 'Metrics.PerfHistory (100,000 rows)', rowsReturned: big.rows.length, peakRssBeforeMB: before, peakRssAfterMB: after },
    };
  } finally {
    await stopServer(child);
    await emulator.close();
  }
}

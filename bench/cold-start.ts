import { startServer, stopServer } from './server-process.ts';

const median = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)] ?? NaN;

/**
 * Process start → first tools/list answered, over several fresh processes;
 * the median is the figure. Beside it, when the port first accepted a
 * connection: start-up (Node, modules, createApp) versus the first request.
 * One discarded run first warms the file cache and this process's own HTTP
 * client, so the figure is the server's start-up.
 */
export async function measureColdStart(runs = 7, port = 7281) {
  const samples: number[] = [];
  const listening: number[] = [];
  for (let i = -1; i < runs; i++) {
    const { child, coldStartMs, listeningMs } = await startServer(port);
    await stopServer(child);
    if (i < 0) continue;
    samples.push(coldStartMs);
    listening.push(listeningMs);
  }
  samples.sort((a, b) => a - b);
  listening.sort((a, b) => a - b);
  return { medianMs: median(samples), minMs: samples[0] ?? NaN, maxMs: samples.at(-1) ?? NaN, listeningMedianMs: median(listening), runs, samplesMs: samples };
}

import { startServer, stopServer } from './server-process.ts';

/**
 * Process start → first tools/list answered, over several fresh processes;
 * the median is the figure. One discarded run first warms the file cache and
 * this process's own HTTP client, so the figure is the server's start-up.
 */
export async function measureColdStart(runs = 7, port = 7281) {
  const samples: number[] = [];
  for (let i = -1; i < runs; i++) {
    const { child, coldStartMs } = await startServer(port);
    await stopServer(child);
    if (i >= 0) samples.push(coldStartMs);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)] ?? NaN, minMs: samples[0] ?? NaN, maxMs: samples.at(-1) ?? NaN, runs, samplesMs: samples };
}

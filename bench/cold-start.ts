import { startServer, stopServer } from './server-process.ts';

/** Process start → first tools/list answered, over several fresh processes; the median is the figure. */
export async function measureColdStart(runs = 7, port = 7281) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { child, coldStartMs } = await startServer(port);
    samples.push(coldStartMs);
    await stopServer(child);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[Math.floor(samples.length / 2)] ?? NaN, minMs: samples[0] ?? NaN, maxMs: samples.at(-1) ?? NaN, runs };
}

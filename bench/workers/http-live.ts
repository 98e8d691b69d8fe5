/**
 * Bench worker for the HTTP live list (its own process, so its peak RSS is the function's alone).
 * BENCH_MODE=overhead: alternates a direct first-page call through the instance's client with the
 * list handler answering the same 100 referrals (flat json), and prints both latency series.
 * BENCH_MODE=stream: one ndjson answer of BENCH_ROWS referrals through the handler, read to the end,
 * and the process's peak RSS. Settings come from the environment, as in the function app.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import azureFunctions from '@azure/functions';
import { listReferralsHandler } from '../../src/live/handlers.js';
import { liveInstance } from '../../src/live/instance.js';

const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;
const work = await mkdtemp(join(tmpdir(), 'bench-http-live-'));
process.env.PARTNER_CENTER_TOKEN_CACHE = join(work, 'cache.json');
const silent = () => {};

/** One call of the handler, body read to the end; returns the bytes and lines read. */
async function callHandler(query: Record<string, string>): Promise<{ bytes: number; lines: number }> {
  const url = new URL('https://bench.example/api/referrals');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const context = new InvocationContext({ invocationId: 'bench', functionName: 'listReferrals', logHandler: silent });
  const response = new HttpResponse(
    await listReferralsHandler(new HttpRequest({ method: 'GET', url: url.href }), context),
  );
  if (response.status !== 200) throw new Error(`handler answered ${response.status}: ${await response.text()}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) lines++;
  }
  return { bytes, lines };
}

async function directFirstPage(): Promise<number> {
  for await (const page of liveInstance().source.client.listReferrals({ top: 100 }).pages())
    return page.referrals.length;
  return 0;
}

const mode = process.env.BENCH_MODE ?? 'overhead';
let result: Record<string, unknown>;
if (mode === 'overhead') {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? '200');
  const direct: number[] = [];
  const handler: number[] = [];
  // Warm up: sign-in, connections, JIT.
  for (let i = 0; i < 20; i++) {
    await directFirstPage();
    await callHandler({ maxItems: '100' });
  }
  for (let i = 0; i < iterations; i++) {
    let t = performance.now();
    if ((await directFirstPage()) !== 100) throw new Error('direct page is not 100 referrals');
    direct.push(performance.now() - t);
    t = performance.now();
    await callHandler({ maxItems: '100' });
    handler.push(performance.now() - t);
  }
  result = { direct, handler };
} else {
  const rows = Number(process.env.BENCH_ROWS ?? '50000');
  const began = performance.now();
  const { bytes, lines } = await callHandler({ format: 'ndjson', maxItems: String(rows) });
  // When the sandbox holds more, the answer ends with one `{"@odata.nextLink": …}` line.
  if (lines !== rows && lines !== rows + 1) throw new Error(`streamed ${lines} lines for ${rows} rows`);
  result = {
    rows: lines,
    bytes,
    seconds: (performance.now() - began) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
liveInstance().source.close();
await rm(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);

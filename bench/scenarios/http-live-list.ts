/**
 * The HTTP live list: what the handler adds over a direct Partner Center call for one 100-row page,
 * and whether memory stays flat while one answer streams tens of thousands of rows as NDJSON.
 */
import type { Scenario } from '../run.js';
import { quantile } from '../run-workers.js';
import { type SandboxProcess, spawnSandbox } from '../sandbox-process.js';
import { runWorker } from '../worker-process.js';

interface OverheadResult {
  direct: number[];
  handler: number[];
}

interface StreamResult {
  rows: number;
  seconds: number;
  peakRssBytes: number;
}

const round2 = (n: number) => Number(n.toFixed(2));

async function stream(sandbox: SandboxProcess, rows: number): Promise<StreamResult> {
  return runWorker<StreamResult>('http-live', {
    ...sandbox.env,
    PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
    BENCH_MODE: 'stream',
    BENCH_ROWS: String(rows),
  });
}

export const httpLiveListScenario: Scenario = {
  name: 'http-live-list',
  title: 'HTTP live list: handler overhead and streaming memory',
  description:
    'A worker process calls, in turn, the client directly for one 100-referral page and the list handler ' +
    '(`GET /api/referrals?maxItems=100`, flat rows as JSON, body read to the end) for the same page, against the ' +
    'sandbox in another process. `http_overhead_p50_ms`/`_p95_ms` are the handler quantile minus the direct ' +
    'quantile: request parsing, normalizing 100 referrals to flat rows, encoding, continuation sealing. Then one ' +
    'NDJSON answer of N rows streams through the handler in a fresh process each; `http_ndjson_peak_rss_mb_N` is ' +
    "that process's peak resident memory: it must not grow with N.",
  async run(size) {
    const [small, large] = size === 'quick' ? [2_000, 10_000] : [5_000, 50_000];
    const iterations = size === 'quick' ? 100 : 500;
    const sandbox = await spawnSandbox(['--count', String(large), '--seed', '1']);
    try {
      const overhead = await runWorker<OverheadResult>('http-live', {
        ...sandbox.env,
        PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
        BENCH_MODE: 'overhead',
        BENCH_ITERATIONS: String(iterations),
      });
      const a = await stream(sandbox, small);
      const b = await stream(sandbox, large);
      const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
      return {
        http_direct_page_p50_ms: round2(quantile(overhead.direct, 0.5)),
        http_handler_page_p50_ms: round2(quantile(overhead.handler, 0.5)),
        http_overhead_p50_ms: round2(quantile(overhead.handler, 0.5) - quantile(overhead.direct, 0.5)),
        http_overhead_p95_ms: round2(quantile(overhead.handler, 0.95) - quantile(overhead.direct, 0.95)),
        [`http_ndjson_rows_per_s_${large}`]: Math.round(b.rows / b.seconds),
        [`http_ndjson_peak_rss_mb_${small}`]: mb(a.peakRssBytes),
        [`http_ndjson_peak_rss_mb_${large}`]: mb(b.peakRssBytes),
        http_ndjson_rss_growth_ratio: round2(b.peakRssBytes / a.peakRssBytes),
      };
    } finally {
      await sandbox.stop();
    }
  },
};

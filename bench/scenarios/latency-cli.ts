/**
 * The latency-bound sync as a user runs it: `referrals-lake sync --mode full --concurrency 8
 * --target DIR` against a sandbox that answers every page after 200 ms, timed from outside the
 * process, start to exit (Node's start, sign-in, plan, extract, commit, exit), with no process
 * tuning in the environment (the CLI applies it itself).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliSync } from '../cli-process.js';
import type { Scenario } from '../run.js';
import { mb, round2 } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

const COUNT = 20_000;
/** A quick run keeps the latency and concurrency, with fewer referrals. */
const QUICK_COUNT = 5000;
const LATENCY_MS = 200;
const PAGE_SIZE = 100;
const CONCURRENCY = 8;

export const latencyCliScenario: Scenario = {
  name: 'latency-cli',
  title: 'The CLI against a slow Partner Center, timed from outside',
  description:
    `A fresh sandbox holds ${COUNT} referrals and answers every page after ${LATENCY_MS} ms; ` +
    `\`referrals-lake sync --mode full --concurrency ${CONCURRENCY} --target DIR\` runs with only the sandbox's ` +
    `settings in its environment, three times (a quick run: once, ${QUICK_COUNT} referrals); the fastest counts. ` +
    '`latency_cli_ideal_ratio_c8` is its wall clock, from start to exit, over the ideal pages × latency / ' +
    'concurrency (target ≤ 1.5); `latency_cli_extract_ratio_c8` is the extract stage (the run manifest’s ' +
    'timing) over the same ideal (target ≤ 1.2). The first run also pays the sandbox’s own warm-up (it ' +
    'serializes each referral when first served): `latency_cli_first_wall_seconds`. Peak RSS is the ' +
    'sync process’s (the tuned child the CLI starts), from /proc.',
  async run(size) {
    const runs = size === 'quick' ? 1 : 3;
    const count = size === 'quick' ? QUICK_COUNT : COUNT;
    const sandbox = await spawnSandbox([
      '--count',
      String(count),
      '--page-size',
      String(PAGE_SIZE),
      '--latency-ms',
      String(LATENCY_MS),
    ]);
    const work = await mkdtemp(join(tmpdir(), 'bench-latency-cli-'));
    try {
      const results = [];
      for (let i = 0; i < runs; i++) {
        const result = await runCliSync(
          ['--mode', 'full', '--concurrency', String(CONCURRENCY), '--target', join(work, `lake-${i}`)],
          {
            ...sandbox.env,
            PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
            PARTNER_CENTER_TOKEN_CACHE: join(work, `cache-${i}.json`),
          },
        );
        if (result.manifest.counts.referrals !== count) {
          throw new Error(`synced ${result.manifest.counts.referrals} of ${count}`);
        }
        results.push(result);
      }
      const best = results.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
      const ideal = ((count / PAGE_SIZE) * LATENCY_MS) / 1000 / CONCURRENCY;
      const extract = best.manifest.timings?.extract ?? Number.NaN;
      return {
        [`latency_cli_wall_seconds_${count}_c${CONCURRENCY}`]: round2(best.wallSeconds),
        [`latency_cli_ideal_ratio_c${CONCURRENCY}`]: round2(best.wallSeconds / ideal),
        [`latency_cli_extract_seconds_c${CONCURRENCY}`]: round2(extract),
        [`latency_cli_extract_ratio_c${CONCURRENCY}`]: round2(extract / ideal),
        latency_cli_plan_seconds: round2(best.manifest.timings?.plan ?? Number.NaN),
        latency_cli_first_wall_seconds: round2(results[0]?.wallSeconds ?? Number.NaN),
        [`latency_cli_peak_rss_mb_${count}`]: mb(best.peakRssBytes),
      };
    } finally {
      await sandbox.stop();
      await rm(work, { recursive: true, force: true });
    }
  },
};

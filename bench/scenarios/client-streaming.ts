/**
 * Fetch-only: the production client streams every referral from the sandbox (no latency), in its own
 * process. Referrals/s is the client's ceiling; peak RSS at two sizes shows memory does not grow with
 * the number of referrals.
 */
import type { Scenario } from '../run.js';
import { type FetchFigures, mb, round2, runFetchWorker } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

async function fetchAll(count: number): Promise<FetchFigures> {
  const sandbox = await spawnSandbox(['--count', String(count), '--seed', '1']);
  try {
    return await runFetchWorker(sandbox, count);
  } finally {
    await sandbox.stop();
  }
}

export const clientStreamingScenario: Scenario = {
  name: 'client-streaming',
  title: 'Client: streaming every referral (fetch only)',
  description:
    'The Partner Center client (MSAL sign-in, keep-alive HTTPS, retries armed, nextLink repair and pinning) ' +
    'streams every referral from the sandbox, 100 a page, in a process of its own; the sandbox runs in another. ' +
    "`fetch_peak_rss_mb_*` is that process's peak resident memory (`process.resourceUsage().maxRSS`): it must not " +
    'grow with the count.',
  async run(size) {
    const [small, large] = size === 'quick' ? [10_000, 40_000] : [50_000, 200_000];
    const a = await fetchAll(small);
    const b = await fetchAll(large);
    return {
      fetch_referrals_per_s: Math.round(b.referrals / b.seconds),
      [`fetch_seconds_${large}`]: round2(b.seconds),
      [`fetch_peak_rss_mb_${small}`]: mb(a.peakRssBytes),
      [`fetch_peak_rss_mb_${large}`]: mb(b.peakRssBytes),
      fetch_rss_growth_ratio: round2(b.peakRssBytes / a.peakRssBytes),
    };
  },
};

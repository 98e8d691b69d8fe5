/**
 * Memory of the sync as a user runs it: `referrals-lake sync --mode full --target DIR` with no
 * process tuning in the environment, at two sizes five times apart, peak RSS read from outside.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliSyncFigures, runCliSync } from '../cli-process.js';
import type { Scenario } from '../run.js';
import { mb, round2 } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

async function syncOnce(count: number): Promise<CliSyncFigures> {
  const work = await mkdtemp(join(tmpdir(), 'bench-memory-cli-'));
  const sandbox = await spawnSandbox(['--count', String(count), '--seed', '3']);
  try {
    const result = await runCliSync(['--mode', 'full', '--target', join(work, 'lake')], {
      ...sandbox.env,
      PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    });
    if (result.manifest.counts.referrals !== count) {
      throw new Error(`synced ${result.manifest.counts.referrals} of ${count}`);
    }
    return result;
  } finally {
    await sandbox.stop();
    await rm(work, { recursive: true, force: true });
  }
}

export const syncMemoryCliScenario: Scenario = {
  name: 'sync-memory-cli',
  title: 'Memory: peak RSS of the CLI sync, as a user runs it',
  description:
    '`referrals-lake sync --mode full --target DIR` (default concurrency, 100 a page, into a local folder) at two ' +
    'sizes five times apart, each against a fresh sandbox, with only the sandbox’s settings in its environment: ' +
    'no `NODE_OPTIONS`, no `MALLOC_MMAP_THRESHOLD_`. The CLI starts the sync in a child process with the process ' +
    'tuning (src/cli/relaunch.ts); `cli_sync_peak_rss_mb_*` is that process’s peak resident memory, the larger of ' +
    'the two (the launcher that waits for it holds ~45 MB), read from /proc/<pid>/status (VmHWM) while it runs. ' +
    'Target: the larger ≤ 300 MB.',
  async run(size) {
    const [small, large] = size === 'quick' ? [2000, 10_000] : [50_000, 250_000];
    const a = await syncOnce(small);
    const b = await syncOnce(large);
    return {
      [`cli_sync_peak_rss_mb_${small}`]: mb(a.peakRssBytes),
      [`cli_sync_peak_rss_mb_${large}`]: mb(b.peakRssBytes),
      cli_sync_rss_growth_ratio: round2(b.peakRssBytes / a.peakRssBytes),
      cli_sync_processes: b.processes,
      [`cli_sync_wall_seconds_${large}`]: round2(b.wallSeconds),
    };
  },
};

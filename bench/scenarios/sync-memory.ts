/**
 * Memory of a full sync at two sizes ten times apart: streaming end to end means the peak resident
 * memory of the sync process must not grow with the number of referrals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../../dev/azurite.js';
import type { Scenario } from '../run.js';
import { mb, round2, runSyncWorker, type SyncFigures } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

async function syncOnce(count: number): Promise<SyncFigures> {
  const work = await mkdtemp(join(tmpdir(), 'bench-memory-'));
  const sandbox = await spawnSandbox(['--count', String(count), '--seed', '2']);
  const azurite = await startAzurite({ location: join(work, 'azurite') });
  try {
    return await runSyncWorker(sandbox, count, { azurite, container: 'bench-memory' }, work, { SYNC_CONCURRENCY: '4' });
  } finally {
    await azurite.stop();
    await sandbox.stop();
    await rm(work, { recursive: true, force: true });
  }
}

export const syncMemoryScenario: Scenario = {
  name: 'sync-memory',
  title: 'Memory: peak RSS of a full sync',
  description:
    'A full sync (concurrency 4, 100 a page) into Azurite (on disk) at two sizes ten times apart, each in a ' +
    "fresh sandbox, Azurite and sync process. `sync_peak_rss_mb_*` is the sync process's peak resident memory " +
    '(`process.resourceUsage().maxRSS`); targets: the larger ≤ 300 MB and ≤ 1.3 × the smaller.',
  async run(size) {
    const [small, large] = size === 'quick' ? [10_000, 100_000] : [100_000, 1_000_000];
    const a = await syncOnce(small);
    const b = await syncOnce(large);
    return {
      [`sync_peak_rss_mb_${small}`]: mb(a.peakRssBytes),
      [`sync_peak_rss_mb_${large}`]: mb(b.peakRssBytes),
      sync_rss_growth_ratio: round2(b.peakRssBytes / a.peakRssBytes),
      [`sync_seconds_${large}`]: round2(b.durationSeconds),
    };
  },
};

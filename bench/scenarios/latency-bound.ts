/**
 * Latency-bound sync: every page takes 200 ms (Partner Center is slow, not the machine), so only
 * fetching date ranges side by side helps. The sync runs as the CLI does, into a local folder;
 * its own duration (from the manifest) is compared with the ideal pages × latency / concurrency.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../run.js';
import { spawnSandbox } from '../sandbox-process.js';
import { runWorker } from '../worker-process.js';

const LATENCY_MS = 200;
const PAGE_SIZE = 100;

interface SyncResult {
  referrals: number;
  durationSeconds: number;
  pages: number;
}

export const latencyBoundScenario: Scenario = {
  name: 'latency-bound',
  title: 'Sync against a slow Partner Center (200 ms a page)',
  description:
    `The sandbox answers every page after ${LATENCY_MS} ms. A full sync (100 a page) runs at concurrency 1, 4 and 8 ` +
    'into a local folder; `latency_ideal_ratio_c*` is its duration over the ideal pages × latency / concurrency ' +
    '(1.0 would be perfect; the extra is the two probe requests, partial last pages of each range, and writing).',
  async run(size) {
    const count = size === 'quick' ? 5000 : 20_000;
    const sandbox = await spawnSandbox(['--count', String(count), '--latency-ms', String(LATENCY_MS)]);
    const work = await mkdtemp(join(tmpdir(), 'bench-latency-'));
    const figures: Record<string, number> = {};
    try {
      for (const concurrency of [1, 4, 8]) {
        const result = await runWorker<SyncResult>('sync-local', {
          ...sandbox.env,
          PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
          PARTNER_CENTER_TOKEN_CACHE: join(work, `cache-${concurrency}.json`),
          LAKE_LOCAL_DIR: join(work, `lake-${concurrency}`),
          SYNC_CONCURRENCY: String(concurrency),
          SYNC_PAGE_SIZE: String(PAGE_SIZE),
        });
        if (result.referrals !== count) throw new Error(`synced ${result.referrals} of ${count}`);
        const ideal = ((count / PAGE_SIZE) * LATENCY_MS) / 1000 / concurrency;
        figures[`latency_${count}_seconds_c${concurrency}`] = Number(result.durationSeconds.toFixed(2));
        figures[`latency_ideal_ratio_c${concurrency}`] = Number((result.durationSeconds / ideal).toFixed(2));
      }
    } finally {
      await sandbox.stop();
      await rm(work, { recursive: true, force: true });
    }
    return figures;
  },
};

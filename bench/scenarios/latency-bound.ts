/**
 * Latency-bound sync: every page takes 200 ms (Partner Center is slow, not the machine), so only
 * fetching date ranges side by side helps. The sync runs as the CLI does, into a local folder;
 * its own duration (from the manifest) is compared with the ideal pages × latency / concurrency.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../run.js';
import { round2, runSyncWorker } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

const LATENCY_MS = 200;
const PAGE_SIZE = 100;

export const latencyBoundScenario: Scenario = {
  name: 'latency-bound',
  title: 'Sync against a slow Partner Center (200 ms a page)',
  description:
    `The sandbox answers every page after ${LATENCY_MS} ms. A full sync (100 a page) runs at concurrency 1, 4 and 8 ` +
    'into a local folder; `latency_ideal_ratio_c*` is its duration over the ideal pages × latency / concurrency ' +
    '(1.0 would be perfect; the extra is the two probe requests, partial last pages of each range, and writing).',
  async run(size) {
    const count = size === 'quick' ? 5000 : 50_000;
    const sandbox = await spawnSandbox(['--count', String(count), '--latency-ms', String(LATENCY_MS)]);
    const work = await mkdtemp(join(tmpdir(), 'bench-latency-'));
    const figures: Record<string, number> = {};
    try {
      for (const concurrency of [1, 4, 8]) {
        const lake = { localDir: join(work, `lake-${concurrency}`) };
        const result = await runSyncWorker(sandbox, count, lake, work, {
          SYNC_CONCURRENCY: String(concurrency),
          SYNC_PAGE_SIZE: String(PAGE_SIZE),
        });
        const ideal = ((count / PAGE_SIZE) * LATENCY_MS) / 1000 / concurrency;
        figures[`latency_${count}_seconds_c${concurrency}`] = round2(result.durationSeconds);
        figures[`latency_ideal_ratio_c${concurrency}`] = round2(result.durationSeconds / ideal);
      }
    } finally {
      await sandbox.stop();
      await rm(work, { recursive: true, force: true });
    }
    return figures;
  },
};

/**
 * Full sync end to end into Azurite, against fetch-only on the same sandbox process: what the lake
 * costs on top of reading Partner Center. Each job runs twice and the faster run counts (the machine
 * is shared; the slower run is noise, not the pipeline).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../../dev/azurite.js';
import type { Scenario } from '../run.js';
import { round2, runFetchWorker, runSyncWorker } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

const RUNS = 2;
const CONCURRENCY = 4;

export const fullSyncScenario: Scenario = {
  name: 'full-sync',
  title: 'Full sync into Azurite, against fetch only',
  description:
    `One sandbox process serves N referrals; fetch-only streams them all through the client, then a full sync ` +
    `(concurrency ${CONCURRENCY}, 100 a page) normalizes them and writes every table as Parquet and NDJSON, the raw ` +
    'archive, the latest tables and the manifest into Azurite (on disk), each in a process of its own. ' +
    `Best of ${RUNS} runs each. \`sync_fetch_ratio\` is sync referrals/s over fetch referrals/s (target ≥ 0.7); ` +
    '`sync_*_seconds` split the sync by stage. Sandbox, Azurite and the sync share the 2 cores.',
  async run(size) {
    const count = size === 'quick' ? 10_000 : 50_000;
    const work = await mkdtemp(join(tmpdir(), 'bench-full-sync-'));
    const sandbox = await spawnSandbox(['--count', String(count), '--seed', '1']);
    const azurite = await startAzurite({ location: join(work, 'azurite') });
    try {
      let fetchSeconds = Number.POSITIVE_INFINITY;
      for (let i = 0; i < RUNS; i++)
        fetchSeconds = Math.min(fetchSeconds, (await runFetchWorker(sandbox, count)).seconds);
      const syncs = [];
      for (let i = 0; i < RUNS; i++) {
        const lake = { azurite, container: `bench-sync-${i}` };
        syncs.push(await runSyncWorker(sandbox, count, lake, work, { SYNC_CONCURRENCY: String(CONCURRENCY) }));
      }
      const best = syncs.reduce((a, b) => (b.durationSeconds < a.durationSeconds ? b : a));
      const syncPerSecond = count / best.durationSeconds;
      const fetchPerSecond = count / fetchSeconds;
      return {
        [`sync_fetch_referrals_per_s_${count}`]: Math.round(fetchPerSecond),
        sync_referrals_per_s: Math.round(syncPerSecond),
        sync_fetch_ratio: round2(syncPerSecond / fetchPerSecond),
        [`sync_seconds_${count}`]: round2(best.durationSeconds),
        sync_extract_seconds: round2(best.timings.extract ?? 0),
        sync_commit_files_seconds: round2(best.timings.commitFiles ?? 0),
        sync_latest_seconds: round2(best.timings.latest ?? 0),
      };
    } finally {
      await azurite.stop();
      await sandbox.stop();
      await rm(work, { recursive: true, force: true });
    }
  },
};

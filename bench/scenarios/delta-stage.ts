/**
 * What the Delta tables cost a full sync: the vanish check and referrals_vanished, the versions not
 * yet recorded (referral_versions), the latest tables' files, and the publish (every table's Delta
 * commit, the copies, retention), as a share of a 100k full sync into Azurite. The second of two full runs into the same lake counts: only then is there a previous
 * latest table to compare with and a log to extend, as every run after the first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../../dev/azurite.js';
import type { Scenario } from '../run.js';
import { round2, runSyncWorker } from '../run-workers.js';
import { spawnSandbox } from '../sandbox-process.js';

const CONCURRENCY = 4;

export const deltaStageScenario: Scenario = {
  name: 'delta-stage',
  title: 'The Delta tables’ share of a full sync',
  description:
    `A sandbox of N referrals; two full syncs (concurrency ${CONCURRENCY}) into the same Azurite lake, each in a ` +
    'process of its own; the second counts. `delta_stage_ratio_*` is its vanish, versions, latest and publish ' +
    'stages (referrals_vanished, referral_versions, the latest files, one Delta commit per table, the copies, ' +
    'retention) over its whole run (target ≤ 0.1); the stages are the run manifest’s own timings.',
  async run(size) {
    const count = size === 'quick' ? 10_000 : 100_000;
    const work = await mkdtemp(join(tmpdir(), 'bench-delta-stage-'));
    const sandbox = await spawnSandbox(['--count', String(count), '--seed', '3']);
    const azurite = await startAzurite({ location: join(work, 'azurite') });
    try {
      const lake = { azurite, container: 'bench-delta' };
      const settings = { SYNC_CONCURRENCY: String(CONCURRENCY), SYNC_MODE: 'full' };
      await runSyncWorker(sandbox, count, lake, work, settings);
      const second = await runSyncWorker(sandbox, count, lake, work, settings);
      const stage = (name: string) => second.timings[name] ?? 0;
      const versions = stage('versionKeys') + stage('versions');
      const delta = stage('vanished') + versions + stage('latest') + stage('publish');
      return {
        [`delta_stage_ratio_${count}`]: round2(delta / second.durationSeconds),
        [`delta_stage_seconds_${count}`]: round2(delta),
        delta_vanished_seconds: round2(stage('vanished')),
        delta_versions_seconds: round2(versions),
        delta_latest_seconds: round2(stage('latest')),
        delta_publish_seconds: round2(stage('publish')),
        [`delta_sync_seconds_${count}`]: round2(second.durationSeconds),
      };
    } finally {
      await azurite.stop();
      await sandbox.stop();
      await rm(work, { recursive: true, force: true });
    }
  },
};

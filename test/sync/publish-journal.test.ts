/**
 * The publish journal on its own (a run stopped midway is in publish.test.ts): the transaction rule
 * whatever the hosts' clocks, a journal that cannot be read, copies completed after a stop, and a
 * journal that is not the run's own.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeStateError } from '../../src/common/errors.js';
import { commitFiles, newDataFile, newDataFileName } from '../../src/lake/delta/table.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { writeWhole } from '../../src/lake/storage/storage.js';
import { normalizeReferral } from '../../src/normalize/normalize.js';
import type { Row } from '../../src/schema/table.js';
import { REFERRALS_VANISHED } from '../../src/schema/tables.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { type PublishJournal, publish, rollForward, SYNC_APP_ID } from '../../src/sync/publish.js';
import { replayDeltaLog } from '../helpers/delta-replay.js';

const RUN = '20260304T050607Z-abcd';
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'publish-journal-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const options = { now: () => new Date(), retentionMs: 7 * 86_400_000 };

/** A one-row data file of referrals_vanished, written under a new name. */
async function vanishedFile(target: LocalDirectoryTarget) {
  const lineage = { runId: RUN, extractedAtMicros: 0 };
  const row = normalizeReferral({ id: '6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b' }, lineage).rows.referrals[0] as Row;
  const path = newDataFileName();
  const writer = createParquetWriter(REFERRALS_VANISHED, await target.openWrite(`${REFERRALS_VANISHED.name}/${path}`));
  await writer.write({ ...row, _vanished_at: 0, _vanished_run_id: RUN });
  const { bytes } = await writer.close();
  return newDataFile(REFERRALS_VANISHED, { path, size: bytes, statistics: writer.statistics });
}

function journal(transaction: number, extra: Partial<PublishJournal> = {}): PublishJournal {
  const manifest = { runId: RUN, startedAt: new Date().toISOString(), counts: { referrals: 0 }, latest: [] };
  return {
    runId: RUN,
    transaction,
    commits: [],
    copies: [],
    deletes: [],
    manifest: manifest as unknown as RunManifest,
    ...extra,
  };
}

describe('the publish journal', () => {
  it('commits a run whose start is earlier than the last txn in the table (another host’s clock)', async () => {
    const target = new LocalDirectoryTarget({ root: join(work, 'clocks') });
    const first = await vanishedFile(target);
    await commitFiles({
      target,
      tableRoot: REFERRALS_VANISHED.name,
      spec: REFERRALS_VANISHED,
      mode: 'append',
      files: [first],
      transaction: { appId: SYNC_APP_ID, version: 2_000 },
    });
    const second = await vanishedFile(target);
    const commits = [{ table: REFERRALS_VANISHED.name, mode: 'append' as const, files: [second] }];
    const manifest = await publish(target, journal(1_000, { commits }), options);
    expect(manifest.tables).toEqual({ referrals_vanished: 1 });
    expect([...replayDeltaLog(join(work, 'clocks', REFERRALS_VANISHED.name)).active.keys()].sort()).toEqual(
      [first.path, second.path].sort(),
    );
    // And the same journal completed again commits nothing twice.
    await writeWhole(target, '_state/publish.json', Buffer.from(JSON.stringify(journal(1_000, { commits }))));
    await rollForward(target, options);
    expect(replayDeltaLog(join(work, 'clocks', REFERRALS_VANISHED.name)).version).toBe(1);
  });

  it('stops on a journal it cannot read, naming the file, and leaves it', async () => {
    const target = new LocalDirectoryTarget({ root: join(work, 'corrupt') });
    for (const body of ['{"runId": "x"', '{"runId": "x", "commits": "all"}']) {
      await writeWhole(target, '_state/publish.json', Buffer.from(body));
      const rolled = rollForward(target, options);
      await expect(rolled).rejects.toBeInstanceOf(LakeStateError);
      await expect(rolled).rejects.toThrow(/_state\/publish\.json: is not/);
      expect(await readFile(join(work, 'corrupt', '_state', 'publish.json'), 'utf8')).toBe(body);
    }
  });

  it('takes a copy done before the stop as done, and refuses to go on when the file readers take is lost', async () => {
    const target = new LocalDirectoryTarget({ root: join(work, 'copies') });
    await writeWhole(target, 'ndjson/referrals_latest/part-00000.ndjson', Buffer.from('{"a":1}\n'));
    const copied = { from: `_staging/${RUN}/gone.ndjson`, to: 'ndjson/referrals_latest/part-00000.ndjson', bytes: 8 };
    await writeWhole(target, '_state/publish.json', Buffer.from(JSON.stringify(journal(1, { copies: [copied] }))));
    await rollForward(target, options);
    expect(await target.exists('_state/publish.json')).toBe(false);

    const lost = { ...copied, bytes: 9 };
    await writeWhole(target, '_state/publish.json', Buffer.from(JSON.stringify(journal(2, { copies: [lost] }))));
    const rolled = rollForward(target, options);
    await expect(rolled).rejects.toBeInstanceOf(LakeStateError);
    await expect(rolled).rejects.toThrow(/gone\.ndjson: is gone before it was copied/);
  });

  it('publishes nothing when another run’s journal appeared meanwhile', async () => {
    const target = new LocalDirectoryTarget({ root: join(work, 'two') });
    const other = JSON.stringify(journal(5, { runId: '20260304T050608Z-ffff' }));
    await writeWhole(target, '_state/publish.json', Buffer.from(other));
    const published = publish(target, journal(6), options);
    await expect(published).rejects.toBeInstanceOf(LakeStateError);
    await expect(published).rejects.toThrow(/another run is publishing/);
    expect(await readFile(join(work, 'two', '_state', 'publish.json'), 'utf8')).toBe(other);
  });
});

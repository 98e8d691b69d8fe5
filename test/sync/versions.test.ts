/**
 * The versions recorder on its own (the sync-level checks are in publish.test.ts): what counts as a
 * recorded version, including the rare row older than its referral's newest recorded version, and
 * the keys file it refuses to do without. Judged by the keys it publishes and DuckDB on its file.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeStateError } from '../../src/common/errors.js';
import { commitFiles } from '../../src/lake/delta/table.js';
import { createNdjsonWriter } from '../../src/lake/formats/ndjson-writer.js';
import { latestNdjsonPath, VERSION_KEYS_PATH } from '../../src/lake/layout/paths.js';
import { readReferralIds } from '../../src/lake/layout/referral-ids.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { normalizeReferral } from '../../src/normalize/normalize.js';
import type { Row } from '../../src/schema/table.js';
import { getTable, REFERRAL_VERSIONS } from '../../src/schema/tables.js';
import { VersionsRecorder, type VersionsStaged } from '../../src/sync/versions.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';

const RUN = '20260304T050607Z-abcd';
const A = '6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b';
const B = '0b7a4c2e-1111-4b8e-9a53-0c1d2e3f4a5b';
const C = 'c0ffee00-2222-4b8e-9a53-0c1d2e3f4a5b';

let work: string;
let duck: DuckDb;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'versions-'));
  duck = await openDuckDb();
});

afterAll(async () => {
  duck?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function row(id: string, updated: string): Row {
  const rows = normalizeReferral({ id, updatedDateTime: updated }, { runId: RUN, extractedAtMicros: 0 }).rows;
  return rows.referrals[0] as Row;
}

const micros = (iso: string) => Date.parse(iso) * 1000;

/** What the run's publish does with a staged append: the commit, then the keys copy. */
async function publishStaged(target: LocalDirectoryTarget, staged: VersionsStaged): Promise<void> {
  if (!staged.commit || !staged.copy) throw new Error('nothing staged');
  const files = staged.commit.files;
  await commitFiles({ target, tableRoot: REFERRAL_VERSIONS.name, spec: REFERRAL_VERSIONS, mode: 'append', files });
  await target.copy(staged.copy.from, staged.copy.to);
}

/** A lake whose referral_versions holds these (id, updatedDateTime) versions, recorded by a first run. */
async function lakeWith(name: string, versions: readonly [string, string][]): Promise<LocalDirectoryTarget> {
  const target = new LocalDirectoryTarget({ root: join(work, name) });
  const first = await VersionsRecorder.open({ target, runId: '20260101T000000Z-0000', firstSeenAtMicros: 1 });
  for (const [id, updated] of versions) await first.offer(row(id, updated));
  await publishStaged(target, await first.stage());
  return target;
}

describe('VersionsRecorder', () => {
  it('records what is newer than recorded, and an older version only when the keys do not hold it', async () => {
    // Recorded: A at two versions, B at its newest only.
    const recordedVersions: [string, string][] = [
      [A, '2026-01-01T00:00:00Z'],
      [A, '2026-02-01T00:00:00Z'],
      [B, '2026-03-01T00:00:00Z'],
    ];
    const target = await lakeWith('lake', recordedVersions);
    const recorder = await VersionsRecorder.open({ target, runId: RUN, firstSeenAtMicros: 7 });
    await recorder.offer(row(A, '2026-01-01T00:00:00Z')); // older than A's newest, recorded
    await recorder.offer(row(A, '2026-02-01T00:00:00Z')); // A's newest, recorded
    await recorder.offer(row(B, '2026-02-15T00:00:00Z')); // older than B's newest, never recorded
    await recorder.offer(row(C, '2026-01-01T00:00:00Z')); // a new referral
    await recorder.offer(row(C, '2026-01-02T00:00:00Z')); // and its newer copy met in the same pull
    await recorder.offer(row(C, '2026-01-02T00:00:00Z')); // the same again: once
    const staged = await recorder.stage();
    expect(staged.rows).toBe(3);
    const written = await duck.query(
      `SELECT referral_id, _source_updated_date_time::VARCHAR AS v, _first_seen_run_id AS run, epoch_us(_first_seen_at) AS at
       FROM read_parquet(${sqlString(join(work, 'lake', REFERRAL_VERSIONS.name, staged.commit?.files[0]?.path ?? ''))}) ORDER BY 1, 2`,
    );
    expect(written.map((r) => `${r.referral_id} ${r.v}`)).toEqual([
      `${B} 2026-02-15 00:00:00+00`,
      `${C} 2026-01-01 00:00:00+00`,
      `${C} 2026-01-02 00:00:00+00`,
    ]);
    expect(new Set(written.map((r) => `${r.run} ${r.at}`))).toEqual(new Set([`${RUN} 7`]));
    // The staged keys are the recorded ones, then the new ones (an older one last, checked at the end);
    // published by copy to the keys path.
    expect(staged.copy?.to).toBe(VERSION_KEYS_PATH);
    const published: string[] = [];
    for await (const key of readReferralIds(target, staged.copy?.from ?? ''))
      published.push(`${key.id}\t${key.version}`);
    expect(published).toEqual([
      ...recordedVersions.map(([id, updated]) => `${id}\t${micros(updated)}`),
      `${C}\t${micros('2026-01-01T00:00:00Z')}`,
      `${C}\t${micros('2026-01-02T00:00:00Z')}`,
      `${B}\t${micros('2026-02-15T00:00:00Z')}`,
    ]);
  });

  it('stages nothing when every version is recorded', async () => {
    const target = await lakeWith('same', [[A, '2026-02-01T00:00:00Z']]);
    const recorder = await VersionsRecorder.open({ target, runId: RUN, firstSeenAtMicros: 7 });
    await recorder.offer(row(A, '2026-02-01T00:00:00Z'));
    expect(await recorder.stage()).toEqual({ rows: 0 });
  });

  it('refuses keys that do not name exactly the table’s rows (lost, older or newer), naming the file', async () => {
    const target = await lakeWith('disagree', [
      [A, '2026-01-01T00:00:00Z'],
      [B, '2026-01-01T00:00:00Z'],
    ]);
    const keysFile = join(work, 'disagree', ...VERSION_KEYS_PATH.split('/'));
    const both = await readFile(keysFile, 'utf8');
    for (const keys of ['', `${both.split('\n')[0]}\n`, `${both}${C}\t1\n`]) {
      await writeFile(keysFile, keys);
      const refused = VersionsRecorder.open({ target, runId: RUN, firstSeenAtMicros: 8 });
      await expect(refused).rejects.toBeInstanceOf(LakeStateError);
      await expect(refused).rejects.toThrow(
        /referral_versions\.ids\.tsv: names \d version\(s\) where referral_versions holds 2 row/,
      );
    }
  });

  it('starts an empty table from referrals_latest, each row first seen by the run that extracted it', async () => {
    const target = new LocalDirectoryTarget({ root: join(work, 'upgraded') });
    const old = { ...row(A, '2026-01-01T00:00:00Z'), _run_id: '20251201T000000Z-beef', _extracted_at: 5 };
    const latest = createNdjsonWriter(getTable('referrals'), await target.openWrite(latestNdjsonPath('referrals')));
    await latest.write(old);
    await latest.close();
    const recorder = await VersionsRecorder.open({ target, runId: RUN, firstSeenAtMicros: 7 });
    await recorder.offer(row(A, '2026-01-01T00:00:00Z')); // the same version again: already taken from latest
    await recorder.offer(row(A, '2026-02-01T00:00:00Z')); // a newer one
    const staged = await recorder.stage();
    expect(staged.rows).toBe(2);
    const file = join(work, 'upgraded', REFERRAL_VERSIONS.name, staged.commit?.files[0]?.path ?? '');
    const written = await duck.query(
      `SELECT _first_seen_run_id AS run, epoch_us(_first_seen_at)::INTEGER AS at FROM read_parquet(${sqlString(file)}) ORDER BY _source_updated_date_time`,
    );
    expect(written).toEqual([
      { run: '20251201T000000Z-beef', at: 5 },
      { run: RUN, at: 7 },
    ]);
  });
});

/**
 * Referrals that leave the book (issue 19, part 3), against the sandbox's `removes`: a full run
 * moves their last rows to referrals_vanished and leaves referrals_latest equal to the book; an
 * incremental run vanishes nothing; a full run that would vanish too much publishes nothing (exit
 * code 7 from the CLI) unless allowed; a referral that comes back is in latest again. Judged by the
 * tests' own Delta replay and DuckDB.
 */
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { ShrinkRefusedError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { runCli } from '../helpers/cli.js';
import { deltaParquetSource, replayDeltaLog } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../helpers/duckdb.js';

const COUNT = 300;
let sandbox: Sandbox;
let work: string;
let lake: string;
let duck: DuckDb;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: COUNT, seed: 21 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'vanished-'));
  lake = join(work, 'lake');
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const env = () => ({
  ...sandbox.env,
  LAKE_LOCAL_DIR: lake,
  PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
  SYNC_CONCURRENCY: '2',
});

function sync(mode: 'full' | 'incremental', allowShrink = false): Promise<RunManifest> {
  return runSyncJob(env(), { mode, allowShrink }, { logger: silentLogger });
}

async function latestIds(): Promise<string[]> {
  const rows = await duck.query(`SELECT referral_id FROM ${deltaParquetSource(join(lake, 'referrals_latest'))}`);
  return rows.map((r) => String(r.referral_id)).sort();
}

async function vanishedRows(): Promise<{ referral_id: string; _vanished_run_id: string; status: string }[]> {
  const rows = await duck.query(
    `SELECT referral_id, _vanished_run_id, status FROM ${deltaParquetSource(join(lake, 'referrals_vanished'))}`,
  );
  return rows as unknown as { referral_id: string; _vanished_run_id: string; status: string }[];
}

const book = () =>
  sandbox.store
    .all()
    .map((r) => r.id)
    .sort();

describe('vanished referrals', () => {
  const removedReferrals: Referral[] = [];

  it('moves the last rows of referrals a full run no longer finds, and latest equals the book', async () => {
    await sync('full');
    const before = await duck.query(
      `SELECT referral_id, status FROM ${deltaParquetSource(join(lake, 'referrals_latest'))}`,
    );
    const statusBefore = new Map(before.map((r) => [String(r.referral_id), String(r.status)]));
    const snapshot = new Map(sandbox.store.all().map((r) => [r.id, r]));
    const { removed } = sandbox.mutate(0, 0, 10);
    for (const id of removed) removedReferrals.push(snapshot.get(id) as Referral);

    const manifest = await sync('full');
    expect(manifest.counts.vanished).toBe(10);
    expect(await latestIds()).toEqual(book());
    const vanished = await vanishedRows();
    expect(vanished.map((r) => r.referral_id).sort()).toEqual([...removed].sort());
    for (const row of vanished) {
      expect(row._vanished_run_id).toBe(manifest.runId);
      expect(row.status).toBe(statusBefore.get(row.referral_id));
    }
    const replayed = replayDeltaLog(join(lake, 'referrals_vanished'));
    expect(replayed.version).toBe(0);
    expect(replayed.schema.slice(-2).map((c) => c.name)).toEqual(['_vanished_at', '_vanished_run_id']);
  });

  it('vanishes nothing in an incremental run, which cannot see what left', async () => {
    const { removed } = sandbox.mutate(3, 0, 4);
    const manifest = await sync('incremental');
    expect(manifest.status).toBe('succeeded');
    expect(manifest.counts.vanished).toBeUndefined();
    const latest = await latestIds();
    for (const id of removed) expect(latest).toContain(id);
    expect(replayDeltaLog(join(lake, 'referrals_vanished')).version).toBe(0);
    // The next full run catches up.
    const full = await sync('full');
    expect(full.counts.vanished).toBe(4);
    expect(await latestIds()).toEqual(book());
  });

  it('takes a referral that comes back into latest again', async () => {
    const back = removedReferrals[0] as Referral;
    sandbox.store.put(back);
    const manifest = await sync('full');
    expect(manifest.counts.vanished).toBe(0);
    expect(await latestIds()).toContain(back.id);
    expect(await latestIds()).toEqual(book());
  });

  it('deletes what referrals_vanished no longer needs when it appends: a failed append’s old file, not what predates the table', async () => {
    // The table as if created 20 days ago (its first commit's metaData says when).
    const first = join(lake, 'referrals_vanished', '_delta_log', '00000000000000000000.json');
    const created = Date.now() - 20 * 86_400_000;
    const log = await readFile(first, 'utf8');
    await writeFile(first, log.replace(/"createdTime":\d+/, `"createdTime":${created}`));
    const folder = join(lake, 'referrals_vanished');
    const aged = async (name: string, daysAgo: number) => {
      await writeFile(join(folder, name), 'not committed');
      const then = new Date(Date.now() - daysAgo * 86_400_000);
      await utimes(join(folder, name), then, then);
    };
    await aged('part-00000-left-by-a-failed-append-c000.snappy.parquet', 10);
    await aged('there-before-the-table.parquet', 30);
    sandbox.mutate(0, 0, 2);
    const manifest = await sync('full');
    expect(manifest.counts.vanished).toBe(2);
    const left = await readdir(folder);
    expect(left).not.toContain('part-00000-left-by-a-failed-append-c000.snappy.parquet');
    expect(left).toContain('there-before-the-table.parquet');
    await rm(join(folder, 'there-before-the-table.parquet'));
  });

  it('refuses a full run that would vanish too much: nothing published, its files kept', async () => {
    const latestVersion = replayDeltaLog(join(lake, 'referrals_latest')).version;
    const idsBefore = await latestIds();
    const runsBefore = (await readdir(join(lake, '_runs'))).length;
    sandbox.mutate(0, 0, Math.ceil(sandbox.store.size * 0.3));

    const error = await sync('full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShrinkRefusedError);
    expect((error as Error).message).toMatch(/more than SYNC_MAX_VANISH_FRACTION allows \(20\.0%\)/);
    expect(replayDeltaLog(join(lake, 'referrals_latest')).version).toBe(latestVersion);
    expect(await latestIds()).toEqual(idsBefore);
    expect((await readdir(join(lake, '_runs'))).length).toBe(runsBefore);
    // The refused run's files are there to inspect.
    const folder = /kept in (\S+)\./.exec((error as Error).message)?.[1] ?? '';
    expect(await readdir(join(lake, folder))).toEqual(['part-00000.parquet']);
    expect((await readdir(join(lake, 'ndjson', folder))).sort()).toEqual(['part-00000.ids.tsv', 'part-00000.ndjson']);
    // …and the run table's log does not name them.
    const runTable = [...replayDeltaLog(join(lake, 'referrals')).active.keys()];
    expect(runTable.length).toBeGreaterThan(0);
    expect(runTable.filter((path) => folder.endsWith(path.slice(0, path.lastIndexOf('/'))))).toEqual([]);
  });

  it('the CLI exits 7 on a refused shrink and publishes with --allow-shrink', async () => {
    const refused = await runCli(['sync', '--mode', 'full'], { env: env() });
    expect(refused.code).toBe(7);
    expect(refused.stderr).toMatch(/--allow-shrink/);
    const allowed = await runCli(['sync', '--mode', 'full', '--allow-shrink'], { env: env() });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await latestIds()).toEqual(book());
  });
});

/**
 * Event runs (issue 20): the referrals Partner Center's events named, fetched by id and applied to
 * the lake like an incremental run — run tables, latest, referral_versions — without moving the
 * watermark, reporting ids Partner Center no longer has, and never moving a referral backwards.
 * Judged by the tests' Delta replay and DuckDB.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { AlreadyRunningError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import { RunLease } from '../../src/lake/layout/lease.js';
import { newRunId } from '../../src/lake/layout/paths.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { runSyncJob, runSyncJobWhenFree } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import type { SyncMode } from '../../src/sync/plan.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../helpers/duckdb.js';

const COUNT = 200;
let sandbox: Sandbox;
let work: string;
let lake: string;
let duck: DuckDb;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: COUNT, seed: 41 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'event-run-'));
  lake = join(work, 'lake');
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function sync(mode: SyncMode, referralIds?: string[]): Promise<RunManifest> {
  const env = { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') };
  return runSyncJob(env, { mode, referralIds }, { logger: silentLogger });
}

async function latest(): Promise<Map<string, string>> {
  const rows = await duck.query(
    `SELECT referral_id, _source_updated_date_time::VARCHAR AS v FROM ${deltaParquetSource(join(lake, 'referrals_latest'))}`,
  );
  return new Map(rows.map((r) => [String(r.referral_id), String(r.v)]));
}

const watermark = () => readFile(join(lake, '_state', 'watermark.json'), 'utf8');

describe('event runs', () => {
  it('apply the named referrals to every table, report the ones gone, and leave the watermark', async () => {
    await sync('full');
    const before = await watermark();
    const changed = sandbox.mutate(5, 2, 0);
    const named = [...changed.updated, ...changed.created];
    const gone = '00000000-0000-4000-8000-000000000000';
    const run = await sync('event', [...named, named[0] as string, gone]);
    expect(run.mode).toBe('event');
    expect(run.counts.referrals).toBe(named.length);
    expect(run.counts.notFound).toBe(1);
    expect(run.counts.newVersions).toBe(named.length);
    expect(await watermark()).toBe(before);
    const book = new Map(sandbox.store.all().map((r) => [r.id, r.updatedDateTime]));
    const inLake = await latest();
    expect([...inLake.keys()].sort()).toEqual([...book.keys()].sort());
    for (const id of named) expect(Date.parse(inLake.get(id) ?? '')).toBe(Date.parse(book.get(id) ?? ''));
    const appended = await duck.query(
      `SELECT count(*)::INTEGER AS n FROM ${deltaParquetSource(join(lake, 'referrals'))} WHERE _run_id = '${run.runId}'`,
    );
    expect(appended).toEqual([{ n: named.length }]);
    // The next incremental run finds only what the event run landed: it publishes nothing, but moves
    // the watermark past those changes (else every pull would re-read a growing window).
    const incremental = await sync('incremental');
    expect(incremental).toMatchObject({ status: 'nothing_to_do', counts: { changed: 0 } });
    const moved = JSON.parse(await watermark()).updatedDateTime;
    expect(moved > JSON.parse(before).updatedDateTime).toBe(true);
    expect(incremental.watermark).toBe(moved);
  });

  it('never move a referral backwards: an older copy than the lake holds keeps the newer row', async () => {
    const [current] = sandbox.store.all();
    if (!current) throw new Error('empty book');
    const kept = (await latest()).get(current.id);
    sandbox.store.put({ ...current, updatedDateTime: '2020-01-01T00:00:00Z' });
    const run = await sync('event', [current.id]);
    expect(run.status).toBe('nothing_to_do');
    expect((await latest()).get(current.id)).toBe(kept);
    sandbox.store.put(current);
  });
});

describe('the scheduled sync beside event runs', () => {
  it('waits for the lease an event run holds instead of giving up the day, within its limit', async () => {
    const env = { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') };
    const target = new LocalDirectoryTarget({ root: lake });
    const held = await RunLease.acquire(target, newRunId(), { durationMs: 60_000 });
    const refused = runSyncJobWhenFree(
      env,
      { mode: 'incremental' },
      { logger: silentLogger },
      { waitMs: 250, pollMs: 100 },
    );
    await expect(refused).rejects.toBeInstanceOf(AlreadyRunningError);
    const waiting = runSyncJobWhenFree(
      env,
      { mode: 'incremental' },
      { logger: silentLogger },
      { waitMs: 10_000, pollMs: 100 },
    );
    setTimeout(() => void held.release(), 300);
    await expect(waiting).resolves.toMatchObject({ mode: 'incremental' });
  });
});

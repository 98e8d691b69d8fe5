/**
 * Issue 19, parts 1, 2 and 5, against the sandbox: the run tables as Delta tables partitioned by
 * snapshot_date; referral_versions holding each version of each referral once, whatever the run;
 * and one publish across tables: a run stopped between two table commits is completed by the next
 * run, nothing committed twice. Judged by the tests' own Delta replay and DuckDB, never by the
 * writer's reader.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { silentLogger } from '../../src/common/log.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { StorageTarget } from '../../src/lake/storage/storage.js';
import { SNAPSHOT_DATE_COLUMN, TABLES } from '../../src/schema/tables.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { SYNC_APP_ID } from '../../src/sync/publish.js';
import { deltaParquetSource, replayDeltaLog } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';

const COUNT = 300;
let sandbox: Sandbox;
let work: string;
let lake: string;
let duck: DuckDb;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: COUNT, seed: 31 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'publish-'));
  lake = join(work, 'lake');
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function sync(mode: 'full' | 'incremental', target?: StorageTarget, lakeDir = lake): Promise<RunManifest> {
  const env = {
    ...sandbox.env,
    LAKE_LOCAL_DIR: lakeDir,
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    SYNC_CONCURRENCY: '2',
  };
  return runSyncJob(env, { mode, allowShrink: true, target }, { logger: silentLogger });
}

/** A folder target that fails the commit of the nth Delta log file it is asked to create: a run stopped midway. */
function failingAtCommit(n: number): StorageTarget {
  const target = new LocalDirectoryTarget({ root: lake });
  let commits = 0;
  return new Proxy(target, {
    get(inner, property, receiver) {
      if (property !== 'createIfAbsent') return Reflect.get(inner, property, receiver);
      return (
        path: string,
        ...rest: Parameters<StorageTarget['createIfAbsent']> extends [string, ...infer R] ? R : never
      ) => {
        if (/_delta_log\/\d{20}\.json$/.test(path) && ++commits === n) {
          return Promise.reject(new Error(`stopped before committing ${path}`));
        }
        return inner.createIfAbsent(path, ...rest);
      };
    },
  });
}

interface VersionRow {
  referral_id: string;
  version: string | null;
  _first_seen_run_id: string;
}

async function versionRows(): Promise<VersionRow[]> {
  return (await duck.query(
    `SELECT referral_id, _source_updated_date_time::VARCHAR AS version, _first_seen_run_id FROM ${deltaParquetSource(join(lake, 'referral_versions'))}`,
  )) as unknown as VersionRow[];
}

/** Every (referral, version) once: the count of rows equals the count of distinct keys. */
function expectEachVersionOnce(rows: readonly VersionRow[]): void {
  const keys = new Set(rows.map((r) => `${r.referral_id}\t${r.version}`));
  expect(keys.size).toBe(rows.length);
}

/** The runs (their _run_id) a run table holds, with their row counts, through its log. */
async function runsIn(table: string): Promise<Map<string, number>> {
  const rows = await duck.query(
    `SELECT _run_id AS run, count(*)::INTEGER AS n FROM ${deltaParquetSource(join(lake, table))} GROUP BY 1`,
  );
  return new Map(rows.map((r) => [String(r.run), Number(r.n)]));
}

/** The versions of the sync's transaction each table's log recorded, in order. */
function transactions(table: string): number[] {
  return replayDeltaLog(join(lake, table))
    .commits.flat()
    .flatMap((action) => {
      const txn = action.txn as { appId: string; version: number } | undefined;
      return txn?.appId === SYNC_APP_ID ? [txn.version] : [];
    });
}

describe('run tables, referral_versions and one publish', () => {
  let first: RunManifest;

  it('makes every run table a Delta table partitioned by snapshot_date, one append per run', async () => {
    first = await sync('full');
    for (const table of TABLES) {
      const replayed = replayDeltaLog(join(lake, table.name));
      expect(replayed.version, table.name).toBe(0);
      expect(replayed.metadata.partitionColumns).toEqual(['snapshot_date']);
      expect(replayed.schema.map((c) => c.name)).toEqual([...table.columns.map((c) => c.name), 'snapshot_date']);
      expect(replayed.schema.at(-1)).toEqual({ name: 'snapshot_date', type: 'date', nullable: false });
      const files = [...replayed.active.values()];
      expect(files.map((f) => f.path)).toEqual([
        `snapshot_date=${first.snapshotDate}/run_id=${first.runId}/part-00000.parquet`,
      ]);
      expect(files[0]?.partitionValues).toEqual({ [SNAPSHOT_DATE_COLUMN.name]: first.snapshotDate });
      expect(files[0]?.stats?.numRecords).toBe(first.counts.rows[table.name]);
      // The partition column is the log's, not the file's: a Parquet reader finds no such column.
      const file = join(lake, table.name, files[0]?.path ?? '');
      const columns = await duck.query(`SELECT name FROM parquet_schema(${sqlString(file)})`);
      expect(columns.map((c) => c.name)).toContain('_run_id');
      expect(columns.map((c) => c.name)).not.toContain('snapshot_date');
      expect(await runsIn(table.name)).toEqual(
        first.counts.rows[table.name] ? new Map([[first.runId, first.counts.rows[table.name]]]) : new Map(),
      );
    }
    // The NDJSON copies are outside the Delta folders.
    const partition = `snapshot_date=${first.snapshotDate}/run_id=${first.runId}`;
    expect((await readdir(join(lake, 'ndjson', 'referrals', partition))).sort()).toEqual([
      'part-00000.ids.tsv',
      'part-00000.ndjson',
    ]);
  });

  it('records every referral’s version once in referral_versions, with the run that saw it first', async () => {
    const rows = await versionRows();
    expect(rows.length).toBe(COUNT);
    expectEachVersionOnce(rows);
    expect(new Set(rows.map((r) => r._first_seen_run_id))).toEqual(new Set([first.runId]));
    expect(first.counts.newVersions).toBe(COUNT);
    const keys = (await readFile(join(lake, '_state', 'referral_versions.ids.tsv'), 'utf8')).trim().split('\n');
    expect(keys.length).toBe(COUNT);
  });

  it('appends the run tables again on an unchanged full run, and no version', async () => {
    const second = await sync('full');
    expect(second.counts.newVersions).toBe(0);
    expect(replayDeltaLog(join(lake, 'referral_versions')).version).toBe(0);
    expect(await runsIn('referrals')).toEqual(
      new Map([
        [first.runId, COUNT],
        [second.runId, COUNT],
      ]),
    );
    expect(second.tables?.referrals).toBe(1);
    expect(second.tables?.referral_versions).toBeUndefined();
  });

  it('adds only the new versions after updates and creates, in an incremental run', async () => {
    const changed = sandbox.mutate(7, 3, 0);
    const run = await sync('incremental');
    const rows = await versionRows();
    expectEachVersionOnce(rows);
    const added = rows.filter((r) => r._first_seen_run_id === run.runId);
    const touched = [...changed.updated, ...changed.created];
    expect(added.map((r) => r.referral_id).sort()).toEqual([...touched].sort());
    expect(rows.length).toBe(COUNT + 10);
    expect(run.counts.newVersions).toBe(10);
  });

  it('completes a run stopped between two table commits on the next run, committing nothing twice', async () => {
    sandbox.mutate(4, 0, 2);
    const versionsBefore = await versionRows();
    // The 12th log file of the run: its 9 run tables, referral_versions, referrals_vanished are in; the latest tables are not.
    const stopped = await sync('full', failingAtCommit(12)).catch((error: unknown) => error);
    expect((stopped as Error).message).toMatch(/stopped before committing referrals_latest/);
    const journal = JSON.parse(await readFile(join(lake, '_state', 'publish.json'), 'utf8'));
    const pointerBefore = JSON.parse(await readFile(join(lake, '_state', 'latest.json'), 'utf8'));
    expect(pointerBefore.runId).not.toBe(journal.runId);
    // Meanwhile: the history tables hold the stopped run's rows, the latest tables the run before.
    expect(transactions('referrals_vanished')).toEqual([journal.transaction]);
    expect(transactions('referrals_latest')).not.toContain(journal.transaction);
    expect((await versionRows()).length).toBe(versionsBefore.length + 4);

    const next = await sync('full');
    // The stopped run was completed first (each table once), then the next run published.
    for (const table of ['referrals', 'referral_versions', 'referrals_vanished', 'referrals_latest']) {
      expect(transactions(table).filter((t) => t === journal.transaction).length, table).toBe(1);
    }
    expect(transactions('referrals_latest').slice(-2)).toEqual([journal.transaction, Date.parse(next.startedAt)]);
    const manifest = JSON.parse(await readFile(join(lake, '_runs', `${journal.runId}.json`), 'utf8'));
    expect(manifest.tables.referrals_latest + 1).toBe(next.tables?.referrals_latest);
    await expect(readFile(join(lake, '_state', 'publish.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    const staged = await readdir(join(lake, '_staging'), { recursive: true, withFileTypes: true });
    expect(staged.filter((entry) => entry.isFile())).toEqual([]);
    // Nothing twice: versions, vanished rows, run tables.
    const versions = await versionRows();
    expectEachVersionOnce(versions);
    expect(versions.length).toBe(versionsBefore.length + 4);
    const vanished = await duck.query(
      `SELECT referral_id FROM ${deltaParquetSource(join(lake, 'referrals_vanished'))}`,
    );
    expect(vanished.length).toBe(2);
    expect((await runsIn('referrals')).get(journal.runId)).toBe(COUNT + 3 - 2);
    // And latest equals the book.
    const latest = await duck.query(`SELECT referral_id FROM ${deltaParquetSource(join(lake, 'referrals_latest'))}`);
    expect(latest.map((r) => String(r.referral_id)).sort()).toEqual(
      sandbox.store
        .all()
        .map((r) => r.id)
        .sort(),
    );
  });
});

describe('a lake written before the run tables were Delta tables', () => {
  it('takes its committed partitions into each run table, moves their NDJSON out, and leaves failed runs alone', async () => {
    const old = join(work, 'old-lake');
    const first = await sync('full', undefined, old);
    const partition = `snapshot_date=${first.snapshotDate}/run_id=${first.runId}`;
    // As it was: no run table logs, the NDJSON and keys files inside each partition.
    for (const table of TABLES) {
      await rm(join(old, table.name, '_delta_log'), { recursive: true });
      const copies = join(old, 'ndjson', table.name, partition);
      for (const name of await readdir(copies))
        await rename(join(copies, name), join(old, table.name, partition, name));
    }
    // A run that failed before its manifest: its partition was never visible.
    const failed = 'snapshot_date=2026-01-01/run_id=20260101T000000Z-dead';
    await mkdir(join(old, 'referrals', failed), { recursive: true });
    await copyFile(
      join(old, 'referrals', partition, 'part-00000.parquet'),
      join(old, 'referrals', failed, 'part-00000.parquet'),
    );

    const second = await sync('full', undefined, old);
    for (const table of TABLES) {
      const replayed = replayDeltaLog(join(old, table.name));
      expect(replayed.version, table.name).toBe(0);
      const adopted = replayed.active.get(`${partition}/part-00000.parquet`);
      expect(adopted?.partitionValues, table.name).toEqual({ snapshot_date: first.snapshotDate });
      expect(replayed.active.size, table.name).toBe(2);
      expect((await readdir(join(old, table.name, partition))).sort()).toEqual(['part-00000.parquet']);
      expect((await readdir(join(old, 'ndjson', table.name, partition))).length).toBeGreaterThan(0);
    }
    const runs = await duck.query(
      `SELECT _run_id AS run, count(*)::INTEGER AS n FROM ${deltaParquetSource(join(old, 'referrals'))} GROUP BY 1 ORDER BY 1`,
    );
    // Two runs in one second order by their random suffix: compare as a set.
    expect(runs).toEqual(
      [
        { run: first.runId, n: first.counts.referrals },
        { run: second.runId, n: second.counts.referrals },
      ].sort((a, b) => (a.run < b.run ? -1 : 1)),
    );
    expect([...replayDeltaLog(join(old, 'referrals')).active.keys()].some((p) => p.startsWith(failed))).toBe(false);
    expect(await readdir(join(old, 'referrals', failed))).toEqual(['part-00000.parquet']);
  });
});

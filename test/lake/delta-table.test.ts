/**
 * The Delta log writer (src/lake/delta/), judged by a log replay written for the tests
 * (test/helpers/delta-replay.ts) and by DuckDB reading the files that replay names: a first commit,
 * an overwrite with time travel, per-file statistics, racing writers (a folder and Azurite), and logs
 * this writer must refuse to extend.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeltaConflictError, DeltaLogError } from '../../src/common/errors.js';
import { schemaString } from '../../src/lake/delta/actions.js';
import { commit, commitPath, readSnapshot } from '../../src/lake/delta/log.js';
import { deltaStats } from '../../src/lake/delta/stats.js';
import { commitFiles, type NewDataFile, newDataFile, newDataFileName } from '../../src/lake/delta/table.js';
import { removeExpiredFiles, removeExpiredLogFiles } from '../../src/lake/delta/vacuum.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { StorageTarget } from '../../src/lake/storage/storage.js';
import type { ColumnSpec, Row, TableSpec } from '../../src/schema/table.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';
import { replayDeltaLog, replayDeltaTable } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';
import { thrownBy } from '../helpers/errors.js';
import { EDGE_TABLE, manyRows, SAMPLE_MICROS } from './fixtures.js';

let dir: string;
let folder: LocalDirectoryTarget;
let db: DuckDb;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'delta-'));
  folder = new LocalDirectoryTarget({ root: dir });
  db = await openDuckDb();
});

afterAll(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Writes rows as one Parquet file under the table's folder, with a unique name. */
async function dataFile(target: StorageTarget, tableRoot: string, rows: readonly Row[]): Promise<NewDataFile> {
  const path = newDataFileName();
  const writer = createParquetWriter(EDGE_TABLE, await target.openWrite(`${tableRoot}/${path}`), {
    rowGroupRows: 1_000,
  });
  for (const row of rows) await writer.write(row);
  const { bytes } = await writer.close();
  return newDataFile(EDGE_TABLE, { path, size: bytes, statistics: writer.statistics });
}

/** The ids DuckDB reads from the files a replayed version names. */
async function idsAt(tableRoot: string, asOf?: number): Promise<string[]> {
  const replayed = replayDeltaLog(join(dir, tableRoot), asOf);
  const files = [...replayed.active.keys()].map((p) => sqlString(join(dir, tableRoot, p)));
  if (files.length === 0) return [];
  const rows = await db.query(`SELECT id FROM read_parquet([${files.join(', ')}]) ORDER BY id`);
  return rows.map((r) => String(r.id));
}

describe('Delta tables', () => {
  const rows = manyRows(2_500);

  it('creates a table with its first commit: protocol 1/2, the declared schema, files with size and stats', async () => {
    const files = [
      await dataFile(folder, 'first', rows.slice(0, 1_500)),
      await dataFile(folder, 'first', rows.slice(1_500)),
    ];
    const committed = await commitFiles({
      target: folder,
      tableRoot: 'first',
      spec: EDGE_TABLE,
      mode: 'append',
      files,
    });
    expect(committed).toMatchObject({ version: 0, removed: [] });
    // The snapshot the commit hands back is the one a fresh read of the log gives.
    const reread = await readSnapshot(folder, 'first');
    expect(committed.snapshot.version).toBe(reread.version);
    expect([...committed.snapshot.files.keys()].sort()).toEqual([...reread.files.keys()].sort());

    const replayed = replayDeltaLog(join(dir, 'first'));
    expect(replayed.version).toBe(0);
    expect(replayed.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(replayed.metadata.format.provider).toBe('parquet');
    expect(replayed.metadata.partitionColumns).toEqual([]);
    expect(replayed.schema).toEqual([
      { name: 'id', type: 'string', nullable: false },
      { name: 'text', type: 'string', nullable: true },
      { name: 'count', type: 'long', nullable: true },
      { name: 'amount', type: 'double', nullable: true },
      { name: 'flag', type: 'boolean', nullable: true },
      { name: 'created_at', type: 'timestamp', nullable: false },
      { name: 'updated_at', type: 'timestamp', nullable: true },
      { name: 'due_date', type: 'date', nullable: true },
    ]);
    // The commit's first line is its commitInfo; no line holds two actions.
    expect(Object.keys(replayed.commits[0]?.[0] ?? {})).toEqual(['commitInfo']);
    for (const action of replayed.commits[0] ?? []) expect(Object.keys(action)).toHaveLength(1);

    for (const file of files) {
      const added = replayed.active.get(file.path);
      expect(added?.size).toBe((await readFile(join(dir, 'first', file.path))).length);
      expect(added?.dataChange).toBe(true);
      expect(added?.partitionValues).toEqual({});
    }
    expect(await idsAt('first')).toEqual(rows.map((r) => String(r.id)).sort());
  });

  it('writes counts, nulls, min and max as the data has them, checked against DuckDB', async () => {
    const replayed = replayDeltaLog(join(dir, 'first'));
    for (const [path, file] of replayed.active) {
      const source = sqlString(join(dir, 'first', path));
      const [truth] = await db.query(
        `SELECT count(*)::BIGINT AS n, count(*) FILTER (WHERE text IS NULL)::BIGINT AS text_nulls,
                min(count)::BIGINT AS min_count, max(count)::BIGINT AS max_count,
                epoch_us(min(created_at))::BIGINT AS min_created, epoch_us(max(created_at))::BIGINT AS max_created,
                min(due_date)::VARCHAR AS min_due, max(due_date)::VARCHAR AS max_due, min(id) AS min_id, max(id) AS max_id
           FROM read_parquet(${source})`,
      );
      const stats = file.stats;
      expect(stats?.numRecords).toBe(Number(truth?.n));
      expect(stats?.nullCount.text).toBe(Number(truth?.text_nulls));
      expect(stats?.minValues.count).toBe(Number(truth?.min_count));
      expect(stats?.maxValues.count).toBe(Number(truth?.max_count));
      expect(stats?.minValues.id).toBe(truth?.min_id);
      expect(stats?.maxValues.id).toBe(truth?.max_id);
      expect(stats?.minValues.due_date).toBe(truth?.min_due);
      expect(stats?.maxValues.due_date).toBe(truth?.max_due);
      // Truncated down to milliseconds, as the protocol says readers expect.
      expect(Date.parse(String(stats?.minValues.created_at))).toBe(Math.floor(Number(truth?.min_created) / 1000));
      expect(Date.parse(String(stats?.maxValues.created_at))).toBe(Math.floor(Number(truth?.max_created) / 1000));
    }
  });

  it('keeps a long string as a prefix minimum and no maximum, and timestamps truncated to milliseconds', () => {
    const long = `${'a'.repeat(40)}z`;
    const stats = JSON.parse(
      deltaStats(EDGE_TABLE, {
        numRecords: 2,
        columns: new Map([
          ['text', { nullCount: 0, min: long, max: long }],
          ['created_at', { nullCount: 0, min: SAMPLE_MICROS, max: SAMPLE_MICROS }],
        ]),
      }),
    );
    expect(stats.minValues.text).toBe('a'.repeat(32));
    expect(stats.maxValues.text).toBeUndefined();
    expect(stats.minValues.created_at).toBe('2020-10-30T21:03:00.123Z');
    expect(stats.maxValues.created_at).toBe('2020-10-30T21:03:00.123Z');
  });

  it('overwrites in one version: old files removed in the log, kept on disk, and readable by time travel', async () => {
    const before = await idsAt('first');
    const replacement = [await dataFile(folder, 'first', rows.slice(0, 10))];
    const committed = await commitFiles({
      target: folder,
      tableRoot: 'first',
      spec: EDGE_TABLE,
      mode: 'overwrite',
      files: replacement,
      transaction: { appId: 'referrals-lake-sync', version: 2 },
    });
    expect(committed.version).toBe(1);
    expect(committed.removed).toHaveLength(2);
    const replayed = replayDeltaLog(join(dir, 'first'));
    expect([...replayed.active.keys()]).toEqual([replacement[0]?.path]);
    const removes = (replayed.commits[1] ?? []).filter((a) => a.remove);
    expect(removes).toHaveLength(2);
    for (const path of committed.removed) expect((await readFile(join(dir, 'first', path))).length).toBeGreaterThan(0);
    expect(await idsAt('first')).toEqual(rows.slice(0, 10).map((r) => String(r.id)));
    expect(await idsAt('first', 0)).toEqual(before);
    // The writer's own reader agrees on the version and what it holds.
    const snapshot = await readSnapshot(folder, 'first');
    expect(snapshot.version).toBe(1);
    expect([...snapshot.files.keys()]).toEqual([replacement[0]?.path]);
    expect(snapshot.transactions.get('referrals-lake-sync')?.version).toBe(2);
  });

  it('adds the new schema in the same version when the declaration gains a column', async () => {
    const note: ColumnSpec = { name: 'note', type: 'string', nullable: true, source: 'note', doc: 'A note.' };
    const wider: TableSpec = { ...EDGE_TABLE, columns: [...EDGE_TABLE.columns, note] };
    const committed = await commitFiles({
      target: folder,
      tableRoot: 'first',
      spec: wider,
      mode: 'append',
      files: [],
    });
    const replayed = replayDeltaLog(join(dir, 'first'));
    expect(replayed.commits[committed.version]?.some((a) => a.metaData)).toBe(true);
    expect(replayed.metadata.schemaString).toBe(schemaString(wider));
    expect(replayed.metadata.id).toBe(replayDeltaLog(join(dir, 'first'), 0).metadata.id);
  });

  it('refuses an append whose schema would leave earlier files unreadable; an overwrite may change it', async () => {
    const before = replayDeltaLog(join(dir, 'first')).version;
    const [first, ...rest] = EDGE_TABLE.columns;
    const retyped: TableSpec = { ...EDGE_TABLE, columns: [{ ...(first as ColumnSpec), type: 'double' }, ...rest] };
    const dropped: TableSpec = { ...EDGE_TABLE, columns: rest };
    const required: TableSpec = {
      ...EDGE_TABLE,
      columns: [...EDGE_TABLE.columns, { name: 'must', type: 'int64', nullable: false, source: 'x', doc: 'x' }],
    };
    for (const spec of [retyped, dropped, required]) {
      const append = commitFiles({ target: folder, tableRoot: 'first', spec, mode: 'append', files: [] });
      await expect(append).rejects.toBeInstanceOf(DeltaLogError);
      await expect(append).rejects.toThrow(/earlier files would no longer read/);
    }
    expect(replayDeltaLog(join(dir, 'first')).version).toBe(before);
    const overwritten = await commitFiles({
      target: folder,
      tableRoot: 'first',
      spec: dropped,
      mode: 'overwrite',
      files: [],
    });
    expect(replayDeltaLog(join(dir, 'first')).metadata.schemaString).toBe(schemaString(dropped));
    expect(overwritten.version).toBe(before + 1);
  });
});

describe('Delta log replay', () => {
  it('replays a log longer than one read-ahead batch in version order', async () => {
    const file = await dataFile(folder, 'long', manyRows(2));
    await commitFiles({ target: folder, tableRoot: 'long', spec: EDGE_TABLE, mode: 'append', files: [file] });
    const names: string[] = [file.path];
    for (let v = 1; v < 40; v++) {
      const next = await dataFile(folder, 'long', manyRows(1));
      // Each version replaces the previous file: the order of application decides what is active.
      await commitFiles({
        target: folder,
        tableRoot: 'long',
        spec: EDGE_TABLE,
        mode: 'overwrite',
        files: [next],
        now: () => new Date(v * 1000),
      });
      names.push(next.path);
    }
    const snapshot = await readSnapshot(folder, 'long');
    expect(snapshot.version).toBe(39);
    expect([...snapshot.files.keys()]).toEqual([names[39]]);
    // Read from the checkpoint at 30 on.
    expect(snapshot.checkpoint).toBe(30);
    expect(snapshot.commits.map((c) => c.version)).toEqual(Array.from({ length: 10 }, (_, i) => 30 + i));
    expect([...(await readSnapshot(folder, 'long', { asOf: 17 })).files.keys()]).toEqual([names[17]]);
    expect([...replayDeltaLog(join(dir, 'long'), 17).active.keys()]).toEqual([names[17]]);
  });

  it('checkpoints every 10 versions, readable by DuckDB, and reads from the newest checkpoint once old commits go', async () => {
    // The table of the test above: 40 versions, so checkpoints at 10, 20 and 30.
    const log = join(dir, 'long', '_delta_log');
    const checkpoints = (await readdir(log)).filter((n) => n.endsWith('.checkpoint.parquet')).sort();
    expect(checkpoints).toEqual([10, 20, 30].map((v) => `${String(v).padStart(20, '0')}.checkpoint.parquet`));
    const last = JSON.parse(await readFile(join(log, '_last_checkpoint'), 'utf8'));
    expect(last).toMatchObject({ version: 30, numOfAddFiles: 1 });
    // DuckDB reads the checkpoint: one protocol, one metaData, the one active file, the tombstones.
    const source = sqlString(join(log, checkpoints[2] as string));
    const [counts] = await db.query(
      `SELECT count(protocol)::INTEGER AS protocols, count(metaData)::INTEGER AS metadata,
              count("add")::INTEGER AS adds, count("remove")::INTEGER AS removes,
              max(protocol.minReaderVersion)::INTEGER AS reader, max(protocol.minWriterVersion)::INTEGER AS writer
         FROM read_parquet(${source})`,
    );
    expect(counts).toEqual({ protocols: 1, metadata: 1, adds: 1, removes: 30, reader: 1, writer: 2 });
    const atCheckpoint = await replayDeltaTable(join(dir, 'long'), db, 30);
    expect(atCheckpoint.checkpoint).toBe(30);
    expect([...atCheckpoint.active.keys()]).toEqual([...replayDeltaLog(join(dir, 'long'), 30).active.keys()]);
    expect(atCheckpoint.metadataId).toBe(replayDeltaLog(join(dir, 'long')).metadata.id);

    // Past retention, the commits and checkpoints before the newest old checkpoint go; 30 stays.
    const removed = await removeExpiredLogFiles(folder, 'long', {
      retentionMs: 7 * 86_400_000,
      now: new Date(Date.now() + 8 * 86_400_000),
    });
    expect(removed).toHaveLength(30 + 2);
    expect((await readdir(log)).filter((n) => n.endsWith('.json')).length).toBe(10);
    const snapshot = await readSnapshot(folder, 'long');
    expect(snapshot.version).toBe(39);
    expect(snapshot.checkpoint).toBe(30);
    const replayed = await replayDeltaTable(join(dir, 'long'), db);
    expect([...replayed.active.keys()]).toEqual([...snapshot.files.keys()]);
    // Time travel before the oldest checkpoint kept is gone, and says so.
    await expect(readSnapshot(folder, 'long', { asOf: 17 })).rejects.toBeInstanceOf(DeltaLogError);
    // The state read from the checkpoint carries on: the next commit needs no new metaData (same
    // schema and partitioning as read back), and keeps the table's id.
    const next = await dataFile(folder, 'long', manyRows(2));
    const committed = await commitFiles({
      target: folder,
      tableRoot: 'long',
      spec: EDGE_TABLE,
      mode: 'overwrite',
      files: [next],
    });
    expect(committed.version).toBe(40);
    const lastCommit = (await readFile(join(log, `${String(40).padStart(20, '0')}.json`), 'utf8')).trim().split('\n');
    expect(lastCommit.some((line) => line.startsWith('{"metaData"'))).toBe(false);
    expect(committed.snapshot.metadata?.id).toBe(snapshot.metadata?.id);
    expect(committed.snapshot.metadata?.partitionColumns).toEqual([]);
  });
});

describe('Delta retention', () => {
  const DAY = 86_400_000;

  it('deletes files only versions past retention read, and files no version names once old; never the log', async () => {
    const real = Date.now();
    const at = (ms: number) => () => new Date(ms);
    const overwrite = (file: NewDataFile, now: number) =>
      commitFiles({
        target: folder,
        tableRoot: 'vac',
        spec: EDGE_TABLE,
        mode: 'overwrite',
        files: [file],
        now: at(now),
      });
    const a = await dataFile(folder, 'vac', manyRows(3));
    const b = await dataFile(folder, 'vac', manyRows(4));
    const c = await dataFile(folder, 'vac', manyRows(5));
    await overwrite(a, real - 10 * DAY); // v0
    await overwrite(b, real - 9 * DAY); // v1 removes a
    await overwrite(c, real - DAY); // v2 removes b
    const orphan = await dataFile(folder, 'vac', manyRows(1)); // written, never committed
    const exists = async (path: string) => folder.exists(`vac/${path}`);

    const first = await removeExpiredFiles(folder, await readSnapshot(folder, 'vac'), {
      retentionMs: 7 * DAY,
      now: new Date(real),
    });
    expect(first).toEqual([`vac/${a.path}`]);
    expect([await exists(b.path), await exists(c.path), await exists(orphan.path)]).toEqual([true, true, true]);
    // Version 1 was current until a day ago: still readable.
    expect(await idsAt('vac', 1)).toEqual(
      manyRows(4)
        .map((r) => String(r.id))
        .sort(),
    );

    const later = await removeExpiredFiles(folder, await readSnapshot(folder, 'vac'), {
      retentionMs: 7 * DAY,
      now: new Date(real + 8 * DAY),
    });
    expect(later.sort()).toEqual([`vac/${b.path}`, `vac/${orphan.path}`].sort());
    expect(await exists(c.path)).toBe(true);
    expect(replayDeltaLog(join(dir, 'vac')).version).toBe(2);
    expect(await idsAt('vac')).toEqual(
      manyRows(5)
        .map((r) => String(r.id))
        .sort(),
    );
  });
});

describe('Delta commits race', () => {
  let azurite: Azurite;
  let blob: BlobStorageTarget;

  beforeAll(async () => {
    azurite = await startAzurite();
    blob = new BlobStorageTarget({ connectionString: azurite.connectionString, container: 'lake', prefix: 'delta' });
  });

  afterAll(async () => {
    await azurite.stop();
  });

  for (const which of ['folder', 'blob'] as const) {
    it(`lets exactly one of two writers create a version (${which}), and the loser retries on top`, async () => {
      const target = which === 'folder' ? folder : blob;
      const tableRoot = `race-${which}`;
      const file = await dataFile(target, tableRoot, manyRows(5));
      await commitFiles({ target, tableRoot, spec: EDGE_TABLE, mode: 'append', files: [file] });
      const actions = [{ commitInfo: { timestamp: 1, operation: 'WRITE', operationParameters: {} } }];
      const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => commit(target, tableRoot, 1, actions)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(DeltaConflictError);
      }
      // Two appends at once: both land, in two versions, and no version was overwritten.
      const [a, b] = [await dataFile(target, tableRoot, manyRows(3)), await dataFile(target, tableRoot, manyRows(4))];
      const both = await Promise.all([
        commitFiles({ target, tableRoot, spec: EDGE_TABLE, mode: 'append', files: [a] }),
        commitFiles({ target, tableRoot, spec: EDGE_TABLE, mode: 'append', files: [b] }),
      ]);
      expect(both.map((c) => c.version).sort()).toEqual([2, 3]);
      const snapshot = await readSnapshot(target, tableRoot);
      expect(snapshot.version).toBe(3);
      expect([...snapshot.files.keys()].sort()).toEqual([file.path, a.path, b.path].sort());
    });
  }
});

describe('a commit whose answer was lost', () => {
  it('is recognised as ours on the retry, never removed and added again in one version', async () => {
    const file = await dataFile(folder, 'lost', manyRows(3));
    await commitFiles({ target: folder, tableRoot: 'lost', spec: EDGE_TABLE, mode: 'overwrite', files: [file] });
    // The store creates the commit, then the caller hears "already exists" (its retry met its own file).
    const lossy: StorageTarget = Object.create(folder, {
      createIfAbsent: {
        value: async (path: string, body: Uint8Array, options?: object) => {
          const result = await folder.createIfAbsent(path, body, options);
          return path.endsWith('.json') && result.created ? { created: false } : result;
        },
      },
    });
    const next = await dataFile(folder, 'lost', manyRows(4));
    const committed = await commitFiles({
      target: lossy,
      tableRoot: 'lost',
      spec: EDGE_TABLE,
      mode: 'overwrite',
      files: [next],
    });
    expect(committed.version).toBe(1);
    const replayed = replayDeltaLog(join(dir, 'lost'));
    expect(replayed.version).toBe(1);
    expect([...replayed.active.keys()]).toEqual([next.path]);
  });
});

describe('Delta logs this writer refuses', () => {
  async function tableWith(name: string, commits: string[]): Promise<void> {
    const file = await dataFile(folder, name, manyRows(2));
    await commitFiles({ target: folder, tableRoot: name, spec: EDGE_TABLE, mode: 'append', files: [file] });
    for (const [i, text] of commits.entries()) await writeFile(join(dir, commitPath(name, i + 1)), text);
  }

  async function refused(name: string): Promise<DeltaLogError> {
    const file = await dataFile(folder, name, manyRows(2));
    let error: unknown;
    await commitFiles({ target: folder, tableRoot: name, spec: EDGE_TABLE, mode: 'append', files: [file] }).catch(
      (e: unknown) => {
        error = e;
      },
    );
    return thrownBy(DeltaLogError, () => {
      throw error;
    });
  }

  it('stops at a line that is not JSON, naming the file, and commits nothing', async () => {
    await tableWith('bad-json', ['{"commitInfo":{}}\n{"add": {"path": \n']);
    const error = await refused('bad-json');
    expect(error.file).toBe(commitPath('bad-json', 1));
    expect(error.message).toMatch(/line 2 is not JSON/);
    expect((await readSnapshot(folder, 'bad-json').catch(() => undefined))?.version).toBeUndefined();
    await expect(readFile(join(dir, commitPath('bad-json', 2)))).rejects.toThrow();
  });

  it('stops at a missing version', async () => {
    await tableWith('gap', ['{"commitInfo":{"timestamp":1,"operation":"WRITE","operationParameters":{}}}\n']);
    await rm(join(dir, commitPath('gap', 1)));
    await writeFile(join(dir, commitPath('gap', 2)), '{"commitInfo":{}}\n');
    const error = await refused('gap');
    expect(error.file).toBe(commitPath('gap', 1));
    expect(error.message).toMatch(/missing/);
  });

  it('leaves a table of a newer protocol or with table features alone', async () => {
    await tableWith('newer', [
      '{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}\n',
    ]);
    expect((await refused('newer')).message).toMatch(/reader 3 and writer 7/);
    await tableWith('features', ['{"protocol":{"minReaderVersion":1,"minWriterVersion":2,"writerFeatures":["x"]}}\n']);
    expect((await refused('features')).message).toMatch(/table features/);
  });

  it('refuses an unknown action and a table partitioned otherwise', async () => {
    await tableWith('unknown', ['{"domainMetadata":{"domain":"x"}}\n']);
    expect((await refused('unknown')).message).toMatch(/unknown action "domainMetadata"/);
    const file = await dataFile(folder, 'parted', manyRows(2));
    await commitFiles({ target: folder, tableRoot: 'parted', spec: EDGE_TABLE, mode: 'append', files: [file] });
    const error = await commitFiles({
      target: folder,
      tableRoot: 'parted',
      spec: EDGE_TABLE,
      mode: 'append',
      files: [],
      partitionColumns: ['due_date'],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeltaLogError);
    expect((error as Error).message).toMatch(/partitioned by \[\], not \[due_date\]/);
  });
});

/**
 * Issue 19: a 1,000-commit table's log (with checkpoints) is read in under a second by the tests'
 * replay. The table is built here through the real commitFiles into a local folder; three fresh
 * processes then read it in turn with test/helpers/delta-replay.ts: the judge is the replay written
 * for the tests, never the writer's own reader (src/lake/delta/log.ts).
 *
 * That helper is compiled into dist with the rest (tsconfig.json names it and the DuckDB helper it
 * is fed): the same source the tests run, emitted by the tsc that builds the bench, so the worker is a
 * plain node process as the other bench workers are. Running it through vitest instead would time
 * vitest's module runner as well, and a copy of the replay under bench/ could drift from the tests'.
 * Being a bench worker (worker-process.ts), the reader starts with the process tuning, as every worker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateReferrals } from '../../sandbox/generator.js';
import { CHECKPOINT_INTERVAL, checkpointVersion } from '../../src/lake/delta/checkpoint.js';
import { commitFiles, type NewDataFile, newDataFile, newDataFileName } from '../../src/lake/delta/table.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { normalizeReferrals } from '../../src/normalize/normalize.js';
import type { Row } from '../../src/schema/table.js';
import { REFERRALS_VANISHED } from '../../src/schema/tables.js';
import type { Scenario } from '../run.js';
import { quantile, round2 } from '../run-workers.js';
import { runWorker } from '../worker-process.js';

const FULL_COMMITS = 1_000;
const QUICK_COMMITS = 200;
/** Every this many versions an overwrite (one file replaces the table); the others append one file. */
const OVERWRITE_EVERY = 100;
/** Rows in an appended file: 1 to this many, as a run's vanished referrals are a handful. */
const APPEND_ROWS = 5;
const OVERWRITE_ROWS = 50;
/** Distinct real Parquet files the appends copy, in turn. */
const POOL_FILES = 20;
const READERS = 3;

interface ReadFigures {
  readonly version: number;
  readonly checkpoint: number | null;
  readonly active: string[];
  readonly numRecords: number;
  readonly secondActive: string[];
  readonly fullVersion: number;
  readonly fullActive: string[];
  readonly openSeconds: number;
  readonly firstSeconds: number;
  readonly secondSeconds: number;
  readonly fullSeconds: number;
}

export const deltaLogReadScenario: Scenario = {
  name: 'delta-log-read',
  title: 'Reading a long Delta log (the tests’ replay)',
  description:
    `A Delta table of N commits (${FULL_COMMITS}; a quick run: ${QUICK_COMMITS}), referrals_vanished built through ` +
    '`commitFiles` into a local folder in a temp dir: appends of one small Parquet file each (1–' +
    `${APPEND_ROWS} rows: a copy of one of ${POOL_FILES} files our writer wrote, with its size and statistics; the ` +
    `log read opens no data file), and every ${OVERWRITE_EVERY}th version an overwrite (one ${OVERWRITE_ROWS}-row ` +
    `file replaces the table); a checkpoint every ${CHECKPOINT_INTERVAL} versions, all within retention, so the ` +
    `newest (\`delta_log_checkpoint_rows\`) carries every tombstone. Then ${READERS} fresh processes, one after ` +
    'another, each read the table with the tests’ replay (`replayDeltaTable`, test/helpers/delta-replay.ts, ' +
    'compiled with the bench: DuckDB reads the newest checkpoint, then the JSON commits after it). ' +
    '`delta_log_read_seconds_*` is the median of their first reads (target ≤ 1 s), `_best_` the fastest, ' +
    '`_first_` the first process after the build; opening DuckDB is timed apart, and so is a second read in the ' +
    'same process. Every read must name exactly the files the commits left, their rows by the stats too, and so ' +
    'must the plain replay of every JSON commit from version 0 (`delta_log_json_replay_seconds_*`, no ' +
    'checkpoint), or the scenario fails. The files were just written: the OS cache is warm.',
  async run(size) {
    const commits = size === 'quick' ? QUICK_COMMITS : FULL_COMMITS;
    const work = await mkdtemp(join(tmpdir(), 'bench-delta-log-'));
    try {
      const began = performance.now();
      const expected = await buildTable(work, commits);
      const buildSeconds = (performance.now() - began) / 1000;
      const tableDir = join(work, REFERRALS_VANISHED.name);
      const reads: ReadFigures[] = [];
      for (let i = 0; i < READERS; i++) {
        const read = await runWorker<ReadFigures>('delta-log-read', { BENCH_TABLE_DIR: tableDir });
        checkRead(read, expected, commits);
        reads.push(read);
      }
      const log = join(tableDir, '_delta_log');
      const checkpoints = readdirSync(log).filter((name) => checkpointVersion(name) !== undefined).length;
      // Rows of the newest checkpoint (protocol, metaData, adds, tombstones), as _last_checkpoint says.
      const lastCheckpoint = JSON.parse(readFileSync(join(log, '_last_checkpoint'), 'utf8')) as { size: number };
      const checkpoint = reads[0]?.checkpoint ?? -1;
      const median = (pick: (read: ReadFigures) => number) => round2(quantile(reads.map(pick), 0.5));
      return {
        [`delta_log_read_seconds_${commits}`]: median((r) => r.firstSeconds),
        [`delta_log_read_best_seconds_${commits}`]: round2(Math.min(...reads.map((r) => r.firstSeconds))),
        [`delta_log_read_first_seconds_${commits}`]: round2(reads[0]?.firstSeconds ?? Number.NaN),
        delta_log_read_second_seconds: median((r) => r.secondSeconds),
        delta_log_duckdb_open_seconds: median((r) => r.openSeconds),
        [`delta_log_json_replay_seconds_${commits}`]: median((r) => r.fullSeconds),
        delta_log_commits_after_checkpoint: commits - 1 - checkpoint,
        delta_log_checkpoints: checkpoints,
        delta_log_checkpoint_rows: lastCheckpoint.size,
        delta_log_active_files: expected.files.size,
        [`delta_log_build_seconds_${commits}`]: round2(buildSeconds),
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};

/** What the commits left: the active files (paths relative to the table folder) and their rows. */
interface Expected {
  readonly files: Map<string, number>;
}

/** A real Parquet file written by our writer, and what a commit says of it. */
interface PoolFile {
  readonly local: string;
  readonly rows: number;
  readonly file: Omit<NewDataFile, 'path'>;
}

/**
 * The log read never opens a data file, and our writer takes ~20 ms for each small file (a third of
 * a 1,000-commit build on 2 cores): so a pool of real files is written once, and each commit adds a
 * byte copy of one under its own new name, with that file's true size and statistics.
 */
async function buildTable(work: string, commits: number): Promise<Expected> {
  const target = new LocalDirectoryTarget({ root: work });
  const rows = vanishedRows(POOL_FILES * APPEND_ROWS + OVERWRITE_ROWS);
  const appends: PoolFile[] = [];
  for (let i = 0; i < POOL_FILES; i++) {
    appends.push(
      await poolFile(target, work, `append-${i}`, rows.slice(i * APPEND_ROWS, i * APPEND_ROWS + 1 + (i % APPEND_ROWS))),
    );
  }
  const overwrite = await poolFile(target, work, 'overwrite', rows.slice(-OVERWRITE_ROWS));
  await mkdir(join(work, REFERRALS_VANISHED.name));
  const files = new Map<string, number>();
  for (let version = 0; version < commits; version++) {
    const replaces = version > 0 && version % OVERWRITE_EVERY === 0;
    const source = replaces ? overwrite : (appends[version % POOL_FILES] as PoolFile);
    const path = newDataFileName();
    await copyFile(source.local, join(work, REFERRALS_VANISHED.name, path));
    const committed = await commitFiles({
      target,
      tableRoot: REFERRALS_VANISHED.name,
      spec: REFERRALS_VANISHED,
      mode: replaces ? 'overwrite' : 'append',
      files: [{ ...source.file, path }],
    });
    if (committed.version !== version) throw new Error(`commit ${version} landed at ${committed.version}`);
    if (committed.checkpointError) throw committed.checkpointError;
    if (replaces) files.clear();
    files.set(path, source.rows);
  }
  return { files };
}

/** Rows as referrals_vanished holds them: referrals rows as the sync normalizes them, and when they left. */
function vanishedRows(count: number): Row[] {
  const referrals = generateReferrals({ count, seed: 19 }).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
  const extractedAtMicros = Date.UTC(2026, 11, 6) * 1000;
  const { rows } = normalizeReferrals(referrals, { runId: 'bench', extractedAtMicros });
  return rows.referrals.map((row, i) => ({
    ...row,
    _vanished_at: extractedAtMicros + i * 3_600_000_000,
    _vanished_run_id: `bench-${i}`,
  }));
}

async function poolFile(
  target: LocalDirectoryTarget,
  work: string,
  name: string,
  rows: readonly Row[],
): Promise<PoolFile> {
  const path = `pool/${name}.parquet`;
  const writer = createParquetWriter(REFERRALS_VANISHED, await target.openWrite(path));
  for (const row of rows) await writer.write(row);
  const { bytes } = await writer.close();
  const { path: _, ...file } = newDataFile(REFERRALS_VANISHED, { path, size: bytes, statistics: writer.statistics });
  return { local: join(work, path), rows: rows.length, file };
}

/** A fast read that is wrong must not count: every read names what the commits left, nothing else. */
function checkRead(read: ReadFigures, expected: Expected, commits: number): void {
  const want = [...expected.files.keys()].sort();
  const rows = [...expected.files.values()].reduce((a, b) => a + b, 0);
  const newest = Math.floor((commits - 1) / CHECKPOINT_INTERVAL) * CHECKPOINT_INTERVAL;
  const problems = [
    read.version !== commits - 1 && `version ${read.version}, not ${commits - 1}`,
    read.checkpoint !== newest && `read from checkpoint ${read.checkpoint}, not ${newest}`,
    !sameList(read.active, want) && `${read.active.length} active files, not the ${want.length} committed`,
    read.numRecords !== rows && `${read.numRecords} rows by the stats, not ${rows}`,
    !sameList(read.secondActive, want) && 'the second read differs',
    read.fullVersion !== commits - 1 && `the JSON replay reached version ${read.fullVersion}`,
    !sameList(read.fullActive, want) && `the JSON replay has ${read.fullActive.length} active files`,
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`delta-log-read: the replay read the table wrong: ${problems.join('; ')}`);
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item, i) => item === b[i]);

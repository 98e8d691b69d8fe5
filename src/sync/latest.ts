/**
 * The latest tables: the current state of every referral, one version each, rebuilt every run. Each
 * is a Delta table (`<table>_latest/`) that engines open as a table, overwritten by one commit per
 * run; line readers get an NDJSON copy beside, under `ndjson/` (paths.ts).
 *
 * - Full run: this run's rows, less any version a newer one superseded during the pull. When none
 *   was (the usual case) the run's files already are the latest tables, and are copied byte for byte.
 * - Incremental run: the previous latest rows of every referral this run did not touch, then this
 *   run's rows (less superseded versions).
 *
 * Both stream (rows read back from NDJSON, written to the new files as they come); memory holds only
 * the ids this run changed. Every data file gets a unique name and is committed to its table's log
 * with the overwrite that removes the previous ones, so a reader sees the old version or the new,
 * and the old files stay readable by time travel. The tables are committed one after another at the
 * end, then `_state/latest.json` names the run and the version of each table it committed.
 */
import { InconsistentRunError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { Snapshot } from '../lake/delta/log.js';
import { commitFiles, newDataFileName } from '../lake/delta/table.js';
import { removeExpired } from '../lake/delta/vacuum.js';
import { readNdjsonRows } from '../lake/formats/ndjson-reader.js';
import { createNdjsonWriter } from '../lake/formats/ndjson-writer.js';
import type { FileStatistics } from '../lake/formats/parquet/file-statistics.js';
import { createParquetWriter, lakeTableWriterOptions, type ParquetFileWriter } from '../lake/formats/parquet-writer.js';
import type { TableFileWriter } from '../lake/formats/table-writer.js';
import {
  LATEST_POINTER_PATH,
  latestDataFilePath,
  latestFolder,
  latestNdjsonPath,
  latestReferralIdsPath,
  legacyLatestFilePath,
} from '../lake/layout/paths.js';
import { ReferralIdsWriter, readReferralIds } from '../lake/layout/referral-ids.js';
import { type StorageTarget, writeWhole } from '../lake/storage/storage.js';
import type { Row } from '../schema/table.js';
import { getTable, type LakeTableSpec, TABLES } from '../schema/tables.js';
import type { SyncMode } from './plan.js';
import type { FileRecord } from './run-files.js';
import { compareVersions, rowVersion, type Version } from './version.js';

export interface LatestInput {
  readonly target: StorageTarget;
  readonly runId: string;
  readonly mode: SyncMode;
  /** The run's committed files (its NDJSON files are read back). */
  readonly runFiles: readonly FileRecord[];
  /** The statistics of the run's Parquet file of a table (RunFiles.parquetStatistics). */
  readonly runStatistics: (table: string) => FileStatistics | undefined;
  /** id → the version that won, for referrals met at two versions (compared as version.ts says). */
  readonly superseded: ReadonlyMap<string, Version>;
  /** Incremental runs: every referral id this run wrote (their previous latest rows are replaced). */
  readonly changedIds?: ReadonlySet<string>;
  readonly logger?: Logger;
  /** How long earlier versions stay readable; files only older versions need are then deleted. */
  readonly retentionMs: number;
  readonly now: () => Date;
}

/** A table's new files, written but not yet committed to its log. */
interface StagedTable {
  readonly spec: LakeTableSpec;
  readonly parquet: FileRecord;
  readonly statistics: FileStatistics;
  readonly ndjson: FileRecord;
  /** referrals_latest only: its referral keys (referral-ids.ts). */
  readonly ids?: FileRecord;
}

interface OpenTable {
  readonly spec: LakeTableSpec;
  readonly parquetPath: string;
  readonly parquet: ParquetFileWriter;
  readonly ndjson: TableFileWriter;
  readonly ids?: TableFileWriter;
}

/** Writes every latest table's files, commits each table, then the pointer; returns the files. */
export async function buildLatest(input: LatestInput): Promise<FileRecord[]> {
  const staged =
    input.mode === 'full' && input.superseded.size === 0 ? await copyRunFiles(input) : await rebuildTables(input);
  const versions: Record<string, number> = {};
  for (const table of staged) versions[latestFolder(table.spec.name)] = await commitTable(input, table);
  const records = staged.flatMap((t) => (t.ids ? [t.parquet, t.ndjson, t.ids] : [t.parquet, t.ndjson]));
  await writeWhole(
    input.target,
    LATEST_POINTER_PATH,
    Buffer.from(`${JSON.stringify({ runId: input.runId, versions, files: records }, null, 2)}\n`),
    { contentType: 'application/json' },
  );
  return records;
}

async function commitTable(input: LatestInput, table: StagedTable): Promise<number> {
  const tableRoot = latestFolder(table.spec.name);
  const committed = await commitFiles({
    target: input.target,
    tableRoot,
    spec: table.spec,
    mode: 'overwrite',
    now: input.now,
    retentionMs: input.retentionMs,
    files: [
      {
        path: table.parquet.path.slice(tableRoot.length + 1),
        size: table.parquet.bytes,
        statistics: table.statistics,
      },
    ],
  });
  if (committed.checkpointError) {
    input.logger?.warn('could not write a Delta checkpoint; the next run tries again', {
      table: tableRoot,
      error: committed.checkpointError,
    });
  }
  if (committed.version === 0) await removeLegacyFiles(input, table.spec.name);
  await removeExpiredQuietly(input, committed.snapshot);
  return committed.version;
}

/**
 * Files of versions past retention go, data and log files a checkpoint covers; a failure costs
 * space, not the run (the next run retries).
 */
async function removeExpiredQuietly(input: LatestInput, snapshot: Snapshot): Promise<void> {
  const tableRoot = snapshot.tableRoot;
  try {
    const deleted = await removeExpired(input.target, snapshot, { retentionMs: input.retentionMs, now: input.now() });
    if (deleted.length > 0)
      input.logger?.info('deleted files no version within retention reads', {
        table: tableRoot,
        files: deleted.length,
      });
  } catch (error) {
    input.logger?.warn('could not delete expired files', { table: tableRoot, error });
  }
}

/**
 * Before the latest tables were Delta tables, each was `part-00000.parquet` and `.ndjson` in its
 * folder. Once the table's first version is committed they are neither in its log nor read any more:
 * left there, a Delta engine's VACUUM would delete them anyway and an old `*.parquet` glob would
 * still count them.
 */
async function removeLegacyFiles(input: LatestInput, table: string): Promise<void> {
  for (const format of ['parquet', 'ndjson'] as const) {
    const path = legacyLatestFilePath(table, format);
    if (await input.target.delete(path))
      input.logger?.info('removed a latest file from before the Delta tables', { path });
  }
}

/**
 * Where the previous latest rows of a table are: the NDJSON copy, or, in a lake written before the
 * latest tables were Delta tables, the file inside the table folder.
 */
export async function previousLatestNdjson(target: StorageTarget, table: string): Promise<string> {
  const current = latestNdjsonPath(table);
  if (await target.exists(current)) return current;
  const legacy = legacyLatestFilePath(table, 'ndjson');
  return (await target.exists(legacy)) ? legacy : current;
}

/**
 * How many of the run's referrals differ from their version in the previous latest table (new, or
 * updated). Reads only the ids and versions of the previous `referrals_latest`, streaming.
 */
export async function countChanged(target: StorageTarget, runVersions: ReadonlyMap<string, Version>): Promise<number> {
  let unchanged = 0;
  for await (const { id, version: previous } of previousLatestKeys(target)) {
    const version = runVersions.get(id);
    if (version !== undefined && compareVersions(version, previous) === 0) unchanged++;
  }
  return runVersions.size - unchanged;
}

/**
 * The keys (id, version) of the previous referrals_latest: from its ids file, or, in a lake written
 * before there was one, from its NDJSON rows.
 */
export async function* previousLatestKeys(target: StorageTarget): AsyncGenerator<{ id: string; version: Version }> {
  if (await target.exists(latestReferralIdsPath())) {
    yield* readReferralIds(target, latestReferralIdsPath());
    return;
  }
  const rows = readNdjsonRows(target, await previousLatestNdjson(target, 'referrals'), getTable('referrals'));
  for await (const row of rows) yield { id: String(row.referral_id), version: rowVersion(row) };
}

/**
 * Copies each table file of the run to its latest name, side by side, inside the store (no bytes
 * through this process where the store copies by itself): the Parquet file to a new name in the
 * Delta folder, with the statistics the run's writer kept; the NDJSON file over the line readers' copy.
 */
async function copyRunFiles(input: LatestInput): Promise<StagedTable[]> {
  return Promise.all(
    TABLES.map(async (spec): Promise<StagedTable> => {
      const source = (format: FileRecord['format']) => {
        const file = input.runFiles.find((f) => f.table === spec.name && f.format === format);
        if (!file) throw new Error(`the run wrote no ${format} file for ${spec.name}`);
        return file;
      };
      const statistics = input.runStatistics(spec.name);
      if (!statistics) throw new Error(`the run kept no Parquet statistics for ${spec.name}`);
      const table = latestFolder(spec.name);
      const parquet = await copyChecked(
        input.target,
        source('parquet'),
        latestDataFilePath(spec.name, newDataFileName()),
        table,
      );
      const ndjson = await copyChecked(input.target, source('ndjson'), latestNdjsonPath(spec.name), table);
      if (spec.name !== 'referrals') return { spec, parquet, statistics, ndjson };
      const ids = await copyChecked(input.target, source('ids.tsv'), latestReferralIdsPath(), table);
      return { spec, parquet, statistics, ndjson, ids };
    }),
  );
}

async function copyChecked(
  target: StorageTarget,
  source: FileRecord,
  path: string,
  table: string,
): Promise<FileRecord> {
  const { bytes } = await target.copy(source.path, path);
  if (bytes !== source.bytes) {
    throw new Error(`${path}: copied ${bytes} bytes of ${source.path}, which the run wrote as ${source.bytes}`);
  }
  return { ...source, path, table };
}

async function rebuildTables(input: LatestInput): Promise<StagedTable[]> {
  const open: OpenTable[] = [];
  try {
    for (const spec of TABLES) {
      const table = await openLatestTable(input.target, spec);
      open.push(table);
      await fillTable(input, table);
    }
    const staged: StagedTable[] = [];
    for (const table of open) {
      const folder = latestFolder(table.spec.name);
      const parquet: FileRecord = {
        path: table.parquetPath,
        table: folder,
        format: 'parquet',
        ...(await table.parquet.close()),
      };
      const ndjsonPath = latestNdjsonPath(table.spec.name);
      const ndjson: FileRecord = { path: ndjsonPath, table: folder, format: 'ndjson', ...(await table.ndjson.close()) };
      const statistics = table.parquet.statistics;
      if (!statistics) throw new Error(`no statistics for ${table.parquetPath}`);
      const ids: FileRecord | undefined = table.ids
        ? { path: latestReferralIdsPath(), table: folder, format: 'ids.tsv', ...(await table.ids.close()) }
        : undefined;
      staged.push({ spec: table.spec, parquet, statistics, ndjson, ids });
    }
    return staged;
  } catch (error) {
    await Promise.allSettled(open.flatMap((t) => [t.parquet.abort(), t.ndjson.abort(), t.ids?.abort()]));
    throw error;
  }
}

async function openLatestTable(target: StorageTarget, spec: LakeTableSpec): Promise<OpenTable> {
  const parquetPath = latestDataFilePath(spec.name, newDataFileName());
  const parquet = createParquetWriter(spec, await target.openWrite(parquetPath), lakeTableWriterOptions(spec.name));
  const ndjson = createNdjsonWriter(spec, await target.openWrite(latestNdjsonPath(spec.name)));
  const ids =
    spec.name === 'referrals' ? new ReferralIdsWriter(await target.openWrite(latestReferralIdsPath())) : undefined;
  return { spec, parquetPath, parquet, ndjson, ids };
}

async function fillTable(input: LatestInput, table: OpenTable): Promise<void> {
  const write = async (row: Row) => {
    await table.parquet.write(row);
    await table.ndjson.write(row);
    await table.ids?.write(row);
  };
  if (input.mode === 'incremental') {
    const changed = input.changedIds ?? new Set<string>();
    const previous = await previousLatestNdjson(input.target, table.spec.name);
    for await (const row of readNdjsonRows(input.target, previous, table.spec)) {
      if (!changed.has(String(row.referral_id))) await write(row);
    }
  }
  const runFile = input.runFiles.find((f) => f.table === table.spec.name && f.format === 'ndjson');
  if (!runFile) throw new Error(`the run wrote no NDJSON file for ${table.spec.name}`);
  const winners = table.spec.name === 'referrals' ? new Set<string>() : undefined;
  for await (const row of readNdjsonRows(input.target, runFile.path, table.spec)) {
    const id = String(row.referral_id);
    const winner = input.superseded.get(id);
    if (winner !== undefined) {
      if (compareVersions(rowVersion(row), winner) < 0) continue;
      winners?.add(id);
    }
    await write(row);
  }
  if (winners) checkEveryWinnerKept(input.superseded, winners);
}

/**
 * Every superseded referral keeps its winner's row. Should the run's verdict and this
 * file's rows ever disagree again (issue 17: both copies skipped), the run fails before anything
 * is published instead of succeeding without the referral.
 */
function checkEveryWinnerKept(superseded: ReadonlyMap<string, Version>, kept: ReadonlySet<string>): void {
  if (kept.size === superseded.size) return;
  const missing = [...superseded.keys()].filter((id) => !kept.has(id));
  throw new InconsistentRunError(
    `referrals_latest would lose ${missing.length} referral(s) met at two versions: no row at the winning version (${missing.slice(0, 5).join(', ')})`,
  );
}

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
 * the ids this run changed. Every data file gets a unique name; publish.ts commits it to its table's
 * log with the overwrite that removes the previous ones, so a reader sees the old version or the
 * new, and the old files stay readable by time travel.
 */
import { InconsistentRunError } from '../common/errors.js';
import { newDataFile, newDataFileName } from '../lake/delta/table.js';
import { readNdjsonRows } from '../lake/formats/ndjson-reader.js';
import { createNdjsonWriter } from '../lake/formats/ndjson-writer.js';
import type { FileStatistics } from '../lake/formats/parquet/file-statistics.js';
import { createParquetWriter, lakeTableWriterOptions, type ParquetFileWriter } from '../lake/formats/parquet-writer.js';
import type { TableFileWriter } from '../lake/formats/table-writer.js';
import {
  latestDataFilePath,
  latestFolder,
  latestNdjsonPath,
  latestReferralIdsPath,
  legacyLatestFilePath,
  stagedPath,
} from '../lake/layout/paths.js';
import { ReferralIdsWriter, readReferralIds } from '../lake/layout/referral-ids.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import type { Row } from '../schema/table.js';
import { getTable, type LakeTableSpec, TABLES } from '../schema/tables.js';
import type { SyncMode } from './plan.js';
import type { PublishCopy, TableCommit } from './publish.js';
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
  /** Incremental and event runs: the referral ids whose previous latest rows this run's replace. */
  readonly changedIds?: ReadonlySet<string>;
  /** Incremental and event runs: ids the run met older than latest holds (their run rows are not taken). */
  readonly stale?: ReadonlySet<string>;
  /** Table folders with no Delta log yet: their first commit takes over from the files before it. */
  readonly newTables?: ReadonlySet<string>;
}

/** A file published by copy: where it is written now, and its record at the path readers use. */
interface CopiedLater {
  readonly from: string;
  readonly record: FileRecord;
}

/** A table's new files, written but not yet committed to its log nor copied to their paths. */
interface StagedTable {
  readonly spec: LakeTableSpec;
  readonly parquet: FileRecord;
  readonly statistics: FileStatistics;
  readonly ndjson: CopiedLater;
  /** referrals_latest only: its referral keys (referral-ids.ts). */
  readonly ids?: CopiedLater;
}

interface OpenTable {
  readonly spec: LakeTableSpec;
  readonly parquetPath: string;
  readonly parquet: ParquetFileWriter;
  readonly ndjson: TableFileWriter;
  readonly ids?: TableFileWriter;
}

/** What the latest tables' publish needs: their commits, the NDJSON and keys copies, the files. */
export interface StagedLatest {
  readonly commits: TableCommit[];
  readonly copies: PublishCopy[];
  /** The latest tables' files from before they were Delta tables (deleted once the commits are in). */
  readonly deletes: string[];
  /** The files as the manifest lists them: each at the path readers take it from. */
  readonly records: FileRecord[];
}

/**
 * Writes every latest table's files, none of them where a reader looks yet: the Parquet file under
 * a new name in the Delta folder (in no version until the commit), the NDJSON copy and keys file
 * staged (or, for a full run's plain copy, the run's own files). publish.ts commits and copies.
 */
export async function stageLatest(input: LatestInput): Promise<StagedLatest> {
  const staged =
    input.mode === 'full' && input.superseded.size === 0 ? await copyRunFiles(input) : await rebuildTables(input);
  const commits = staged.map(
    (table): TableCommit => ({
      table: latestFolder(table.spec.name),
      mode: 'overwrite',
      files: [
        newDataFile(table.spec, {
          path: table.parquet.path.slice(latestFolder(table.spec.name).length + 1),
          size: table.parquet.bytes,
          statistics: table.statistics,
        }),
      ],
    }),
  );
  const published = staged.flatMap((t) => (t.ids ? [t.ndjson, t.ids] : [t.ndjson]));
  return {
    commits,
    copies: published.map((file) => ({ from: file.from, to: file.record.path, bytes: file.record.bytes })),
    deletes: TABLES.filter((spec) => input.newTables?.has(latestFolder(spec.name))).flatMap((spec) => [
      legacyLatestFilePath(spec.name, 'parquet'),
      legacyLatestFilePath(spec.name, 'ndjson'),
    ]),
    records: staged.flatMap((t) => [t.parquet, t.ndjson.record, ...(t.ids ? [t.ids.record] : [])]),
  };
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
 * The run's referrals against their version in the previous latest table: how many are new or newer,
 * and which came with an updatedDateTime older than latest's (an event for an earlier change, a
 * replica behind): those keep their latest row, so a referral never moves backwards. Reads only the ids and versions
 * of the previous `referrals_latest`, streaming.
 */
export async function compareWithLatest(
  target: StorageTarget,
  runVersions: ReadonlyMap<string, Version>,
): Promise<{ changed: number; stale: Set<string> }> {
  let unchanged = 0;
  const stale = new Set<string>();
  for await (const { id, version: previous } of previousLatestKeys(target)) {
    const version = runVersions.get(id);
    if (version === undefined) continue;
    const order = compareVersions(version, previous);
    if (order === 0) unchanged++;
    // Only two readable times can show a copy is older: a copy whose updatedDateTime the lake cannot
    // hold is taken as the later state, as a later run's (issue 17's 9999-12-31 copies).
    else if (order < 0 && version !== null) stale.add(id);
  }
  return { changed: runVersions.size - unchanged - stale.size, stale };
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
 * A full run's files already are the latest tables: each Parquet file is copied to a new name in
 * the Delta folder, inside the store (no bytes through this process where the store copies by
 * itself), with the statistics the run's writer kept; the NDJSON and keys files are published by
 * copy from the run's own (which never change).
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
      const later = (file: FileRecord, path: string): CopiedLater => ({
        from: file.path,
        record: { ...file, path, table },
      });
      const ndjson = later(source('ndjson'), latestNdjsonPath(spec.name));
      if (spec.name !== 'referrals') return { spec, parquet, statistics, ndjson };
      return { spec, parquet, statistics, ndjson, ids: later(source('ids.tsv'), latestReferralIdsPath()) };
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
      const table = await openLatestTable(input, spec);
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
      const later = async (
        writer: TableFileWriter,
        path: string,
        format: FileRecord['format'],
      ): Promise<CopiedLater> => ({
        from: stagedPath(input.runId, path),
        record: { path, table: folder, format, ...(await writer.close()) },
      });
      const ndjson = await later(table.ndjson, latestNdjsonPath(table.spec.name), 'ndjson');
      const statistics = table.parquet.statistics;
      if (!statistics) throw new Error(`no statistics for ${table.parquetPath}`);
      const ids = table.ids ? await later(table.ids, latestReferralIdsPath(), 'ids.tsv') : undefined;
      staged.push({ spec: table.spec, parquet, statistics, ndjson, ids });
    }
    return staged;
  } catch (error) {
    await Promise.allSettled(open.flatMap((t) => [t.parquet.abort(), t.ndjson.abort(), t.ids?.abort()]));
    throw error;
  }
}

async function openLatestTable(input: LatestInput, spec: LakeTableSpec): Promise<OpenTable> {
  const { target, runId } = input;
  const parquetPath = latestDataFilePath(spec.name, newDataFileName());
  const parquet = createParquetWriter(spec, await target.openWrite(parquetPath), lakeTableWriterOptions(spec.name));
  const ndjson = createNdjsonWriter(spec, await target.openWrite(stagedPath(runId, latestNdjsonPath(spec.name))));
  const ids =
    spec.name === 'referrals'
      ? new ReferralIdsWriter(await target.openWrite(stagedPath(runId, latestReferralIdsPath())))
      : undefined;
  return { spec, parquetPath, parquet, ndjson, ids };
}

async function fillTable(input: LatestInput, table: OpenTable): Promise<void> {
  const write = async (row: Row) => {
    await table.parquet.write(row);
    await table.ndjson.write(row);
    await table.ids?.write(row);
  };
  if (input.mode !== 'full') {
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
    if (input.stale?.has(id)) continue;
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

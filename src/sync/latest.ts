/**
 * The latest tables (`<table>_latest/part-00000.parquet` + `.ndjson`): the current state of every
 * referral, one version each, rebuilt every run so Power BI can point at one folder.
 *
 * - Full run: this run's rows, less any version a newer one superseded during the pull. When none
 *   was (the usual case) the run's files already are the latest tables, and are copied byte for byte.
 * - Incremental run: the previous latest rows of every referral this run did not touch, then this
 *   run's rows (less superseded versions).
 *
 * Both stream (rows read back from NDJSON, written to the new files as they come); memory holds only
 * the ids this run changed. Each file is replaced in one commit (block list, Copy Blob or rename), so
 * a reader sees the old or the new file, never half; all tables are committed one after another at
 * the end, then `_state/latest.json` names the run they come from.
 */
import { InconsistentRunError } from '../common/errors.js';
import { readNdjsonRows } from '../lake/formats/ndjson-reader.js';
import { createNdjsonWriter } from '../lake/formats/ndjson-writer.js';
import { createParquetWriter, lakeTableWriterOptions } from '../lake/formats/parquet-writer.js';
import type { TableFileWriter } from '../lake/formats/table-writer.js';
import { LATEST_POINTER_PATH, latestFilePath, latestFolder } from '../lake/layout/paths.js';
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
  /** id → the version that won, for referrals met at two versions (compared as version.ts says). */
  readonly superseded: ReadonlyMap<string, Version>;
  /** Incremental runs: every referral id this run wrote (their previous latest rows are replaced). */
  readonly changedIds?: ReadonlySet<string>;
}

interface OpenTable {
  readonly spec: LakeTableSpec;
  readonly writers: readonly { path: string; format: 'parquet' | 'ndjson'; writer: TableFileWriter }[];
}

export async function buildLatest(input: LatestInput): Promise<FileRecord[]> {
  const records =
    input.mode === 'full' && input.superseded.size === 0 ? await copyRunFiles(input) : await rebuildTables(input);
  await writeWhole(
    input.target,
    LATEST_POINTER_PATH,
    Buffer.from(`${JSON.stringify({ runId: input.runId, files: records }, null, 2)}\n`),
    { contentType: 'application/json' },
  );
  return records;
}

/**
 * How many of the run's referrals differ from their version in the previous latest table (new, or
 * updated). Reads only the ids and versions of the previous `referrals_latest`, streaming.
 */
export async function countChanged(target: StorageTarget, runVersions: ReadonlyMap<string, Version>): Promise<number> {
  let unchanged = 0;
  for await (const row of readNdjsonRows(target, latestFilePath('referrals', 'ndjson'), getTable('referrals'))) {
    const version = runVersions.get(String(row.referral_id));
    if (version !== undefined && compareVersions(version, rowVersion(row)) === 0) unchanged++;
  }
  return runVersions.size - unchanged;
}

/**
 * Copies each table file of the run to its latest name, side by side, inside the store (no bytes
 * through this process where the store copies by itself). Each copy replaces its file in one commit.
 */
async function copyRunFiles(input: LatestInput): Promise<FileRecord[]> {
  const copies = TABLES.flatMap((spec) =>
    (['parquet', 'ndjson'] as const).map((format) => {
      const source = input.runFiles.find((f) => f.table === spec.name && f.format === format);
      if (!source) throw new Error(`the run wrote no ${format} file for ${spec.name}`);
      const path = latestFilePath(spec.name, format);
      return { source, record: { ...source, path, table: latestFolder(spec.name) } };
    }),
  );
  await Promise.all(
    copies.map(async ({ source, record }) => {
      const { bytes } = await input.target.copy(source.path, record.path);
      if (bytes !== source.bytes) {
        throw new Error(
          `${record.path}: copied ${bytes} bytes of ${source.path}, which the run wrote as ${source.bytes}`,
        );
      }
    }),
  );
  return copies.map((c) => c.record);
}

async function rebuildTables(input: LatestInput): Promise<FileRecord[]> {
  const open: OpenTable[] = [];
  try {
    for (const spec of TABLES) {
      const table = await openLatestTable(input.target, spec);
      open.push(table);
      await fillTable(input, table);
    }
    const records: FileRecord[] = [];
    for (const table of open) {
      for (const { path, format, writer } of table.writers) {
        records.push({ path, table: latestFolder(table.spec.name), format, ...(await writer.close()) });
      }
    }
    return records;
  } catch (error) {
    await Promise.allSettled(open.flatMap((t) => t.writers.map((w) => w.writer.abort())));
    throw error;
  }
}

async function openLatestTable(target: StorageTarget, spec: LakeTableSpec): Promise<OpenTable> {
  const writers = [];
  for (const format of ['parquet', 'ndjson'] as const) {
    const path = latestFilePath(spec.name, format);
    const sink = await target.openWrite(path);
    writers.push({
      path,
      format,
      writer:
        format === 'parquet'
          ? createParquetWriter(spec, sink, lakeTableWriterOptions(spec.name))
          : createNdjsonWriter(spec, sink),
    });
  }
  return { spec, writers };
}

async function fillTable(input: LatestInput, table: OpenTable): Promise<void> {
  const write = async (row: Row) => {
    for (const { writer } of table.writers) await writer.write(row);
  };
  if (input.mode === 'incremental') {
    const changed = input.changedIds ?? new Set<string>();
    for await (const row of readNdjsonRows(input.target, latestFilePath(table.spec.name, 'ndjson'), table.spec)) {
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

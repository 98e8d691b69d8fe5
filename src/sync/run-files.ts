/**
 * The files one run writes: for every table a Parquet file in its partition of the run table (a
 * Delta table: the run's publish adds it) and an NDJSON copy under `ndjson/`, the raw archive of the
 * untouched API objects, and the quarantine list. Referrals go in as they arrive;
 * nothing is visible until close() commits each file, and abort() leaves nothing behind.
 */

import { createNdjsonWriter } from '../lake/formats/ndjson-writer.js';
import type { FileStatistics } from '../lake/formats/parquet/file-statistics.js';
import { createParquetWriter, lakeTableWriterOptions, type ParquetFileWriter } from '../lake/formats/parquet-writer.js';
import { RawNdjsonGzipWriter } from '../lake/formats/raw-ndjson-writer.js';
import type { FileSummary, FileWriter, TableFileWriter } from '../lake/formats/table-writer.js';
import { dataFilePath, quarantinePath, rawArchivePath, runReferralIdsPath } from '../lake/layout/paths.js';
import { ReferralIdsWriter } from '../lake/layout/referral-ids.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import { type Lineage, normalizeReferral } from '../normalize/normalize.js';
import type { QuarantineEntry } from '../normalize/quarantine.js';
import type { Row, TableSpec } from '../schema/table.js';
import { QUARANTINE_COLUMNS, TABLES, type TableName } from '../schema/tables.js';
import type { VersionsRecorder, VersionsStaged } from './versions.js';

export const QUARANTINE_TABLE = 'quarantine';

export interface FileRecord extends FileSummary {
  readonly path: string;
  readonly table: string;
  readonly format: 'parquet' | 'ndjson' | 'ndjson.gz' | 'ids.tsv';
}

interface OpenFile {
  readonly path: string;
  readonly table: string;
  readonly format: FileRecord['format'];
  readonly writer: FileWriter<unknown> | TableFileWriter;
}

export interface RunFilesOptions {
  readonly target: StorageTarget;
  readonly snapshotDate: string;
  readonly lineage: Lineage;
  /** Formats per table; both by default. */
  readonly formats?: readonly ('parquet' | 'ndjson')[];
  /** Takes each referrals row for referral_versions; the run files own it from here (abort aborts it). */
  readonly versions?: VersionsRecorder;
}

export class RunFiles {
  private readonly tableWriters = new Map<string, TableFileWriter[]>();
  private readonly parquetWriters = new Map<string, ParquetFileWriter>();
  private readonly open: OpenFile[] = [];
  private raw!: RawNdjsonGzipWriter;
  private quarantine!: TableFileWriter;
  readonly rowCounts: Record<string, number> = {};
  quarantined = 0;

  private constructor(private readonly options: RunFilesOptions) {}

  static async open(options: RunFilesOptions): Promise<RunFiles> {
    const files = new RunFiles(options);
    try {
      await files.openAll();
    } catch (error) {
      await files.abort();
      throw error;
    }
    return files;
  }

  /** The raw object to the archive, its rows to the tables, its odd values to the quarantine. */
  async write(referral: unknown): Promise<void> {
    await this.raw.write(referral);
    const { rows, quarantine } = normalizeReferral(referral, this.options.lineage);
    for (const table of TABLES) await this.writeRows(table.name, rows[table.name]);
    const versions = this.options.versions;
    if (versions) for (const row of rows.referrals) await versions.offer(row);
    for (const entry of quarantine) await this.writeQuarantine(entry);
  }

  /**
   * Commits every file, side by side: a Parquet writer's last row group is CPU work and every commit
   * a round trip to storage, so one file's upload overlaps another's encoding. Returns what the
   * manifest records; the first failure once every close has settled.
   */
  async close(): Promise<FileRecord[]> {
    const results = await Promise.allSettled(
      this.open.map(async (file): Promise<FileRecord> => {
        const summary = await file.writer.close();
        return { path: file.path, table: file.table, format: file.format, ...summary };
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<FileRecord>).value);
  }

  async abort(): Promise<void> {
    await Promise.allSettled([...this.open.map((file) => file.writer.abort()), this.options.versions?.abort()]);
  }

  /** Lets go of referral_versions' staged files and memory, keeping the run's own files (a refused shrink). */
  async abortVersions(): Promise<void> {
    await this.options.versions?.abort();
  }

  /** The versions no earlier run recorded, ready for the publish (VersionsRecorder.stage). */
  async stageVersions(): Promise<VersionsStaged> {
    return this.options.versions ? this.options.versions.stage() : { rows: 0 };
  }

  /** A table's Parquet file statistics, once close() has committed it (for its Delta add action). */
  parquetStatistics(table: string): FileStatistics | undefined {
    return this.parquetWriters.get(table)?.statistics;
  }

  private async writeRows(table: TableName, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const writers = this.tableWriters.get(table) ?? [];
    for (const row of rows) for (const writer of writers) await writer.write(row);
    this.rowCounts[table] = (this.rowCounts[table] ?? 0) + rows.length;
  }

  private async writeQuarantine(entry: QuarantineEntry): Promise<void> {
    this.quarantined++;
    await this.quarantine.write(entry as unknown as Row);
  }

  private async openAll(): Promise<void> {
    const { target, snapshotDate, lineage } = this.options;
    const ref = (table: string) => ({ table, snapshotDate, runId: lineage.runId });
    for (const table of TABLES) {
      const writers: TableFileWriter[] = [];
      for (const format of this.options.formats ?? ['parquet', 'ndjson']) {
        const path = dataFilePath(ref(table.name), format);
        const sink = await target.openWrite(path);
        let writer: TableFileWriter;
        if (format === 'parquet') {
          const parquet = createParquetWriter(table, sink, lakeTableWriterOptions(table.name));
          this.parquetWriters.set(table.name, parquet);
          writer = parquet;
        } else {
          writer = createNdjsonWriter(table, sink);
        }
        this.open.push({ path, table: table.name, format, writer });
        writers.push(writer);
      }
      if (table.name === 'referrals') {
        const path = runReferralIdsPath(snapshotDate, lineage.runId);
        const writer = new ReferralIdsWriter(await target.openWrite(path));
        this.open.push({ path, table: table.name, format: 'ids.tsv', writer });
        writers.push(writer);
      }
      this.tableWriters.set(table.name, writers);
      this.rowCounts[table.name] = 0;
    }
    const rawPath = rawArchivePath(snapshotDate, lineage.runId);
    this.raw = new RawNdjsonGzipWriter(await target.openWrite(rawPath));
    this.open.push({ path: rawPath, table: 'raw', format: 'ndjson.gz', writer: this.raw });
    const quarantineFile = quarantinePath(snapshotDate, lineage.runId);
    const quarantineSpec: TableSpec = {
      name: QUARANTINE_TABLE,
      doc: 'Values not kept as sent.',
      columns: QUARANTINE_COLUMNS,
    };
    this.quarantine = createNdjsonWriter(quarantineSpec, await target.openWrite(quarantineFile));
    this.open.push({ path: quarantineFile, table: QUARANTINE_TABLE, format: 'ndjson', writer: this.quarantine });
  }
}

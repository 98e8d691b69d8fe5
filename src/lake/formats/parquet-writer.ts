/**
 * A table as Parquet, written by our own flat-schema writer (src/lake/formats/parquet/): Data Page V1,
 * SNAPPY (chosen per column chunk), dictionary pages for repetitive strings, statistics, and logical
 * types readers agree on (timestamps as TIMESTAMP(isAdjustedToUTC=true, MICROS)).
 * docs/parquet-writer.md explains why not parquetjs-lite or hyparquet-writer, with measurements.
 *
 * Streaming: cells are encoded into per-column pages as rows come, and each page is compressed as
 * soon as it fills (~256 KiB), so a row group waits in memory mostly compressed. When it is full
 * (`rowGroupRows`, or `rowGroupBytes` held) its column chunks go to the sink one after another and
 * are dropped. Memory is one row group, whatever the file size.
 */
import type { Cell, ColumnSpec, Row, TableSpec } from '../../schema/table.js';
import { DigestingSink } from '../storage/digesting-sink.js';
import type { WriteSink } from '../storage/storage.js';
import { type CellReader, cellReader } from './cell-reader.js';
import { badCell } from './cells.js';
import { ColumnWriter, type ValueEncoder } from './parquet/column-writer.js';
import { type FileStatistics, fileStatistics } from './parquet/file-statistics.js';
import { BooleanEncoder, NumberEncoder } from './parquet/fixed-columns.js';
import { type ColumnChunkMeta, footer, MAGIC, type RowGroupMeta } from './parquet/metadata.js';
import { StringEncoder } from './parquet/string-column.js';
import type { FileSummary, TableFileWriter } from './table-writer.js';

export interface ParquetWriterOptions {
  /** Rows per row group at most. Default 1,000,000 (Fabric/Power BI read large groups best). */
  readonly rowGroupRows?: number;
  /**
   * Bytes a row group may hold in memory (mostly compressed pages) before it is written: the
   * writer's memory bound. Default 64 MiB: several writers run at once on a 2 GB instance.
   */
  readonly rowGroupBytes?: number;
}

/** A Parquet file writer that, once closed, also tells the file's statistics (for a table log). */
export interface ParquetFileWriter extends TableFileWriter {
  /** Row count, null counts and bounds of every column; undefined until close() succeeded. */
  readonly statistics: FileStatistics | undefined;
}

const DEFAULT_ROW_GROUP_ROWS = 1_000_000;
const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
/** Summing 60 columns' sizes every row would cost more than the slack of checking every 1,000 rows. */
const SIZE_CHECK_EVERY = 1_000;

/**
 * Row-group memory for one table of a run: the main table gets most of it, child tables (narrow,
 * and many per run) little, so a run's nine Parquet files together stay near 32 MiB of buffers.
 */
export function lakeTableWriterOptions(table: string): ParquetWriterOptions {
  return { rowGroupBytes: table === 'referrals' ? 16 * 1024 * 1024 : 2 * 1024 * 1024 };
}

export function createParquetWriter(
  spec: TableSpec,
  sink: WriteSink,
  options: ParquetWriterOptions = {},
): ParquetFileWriter {
  return new ParquetTableWriter(spec, new DigestingSink(sink), {
    rowGroupRows: options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
    rowGroupBytes: options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES,
  });
}

function columnWriterFor(column: ColumnSpec): ColumnWriter {
  return new ColumnWriter(column, encoderFor(column));
}

function encoderFor(column: ColumnSpec): ValueEncoder {
  switch (column.type) {
    case 'string':
      return new StringEncoder();
    case 'int64':
    case 'timestamp':
      return new NumberEncoder('int64');
    case 'double':
      return new NumberEncoder('double');
    case 'date':
      return new NumberEncoder('date');
    case 'boolean':
      return new BooleanEncoder();
  }
}

class ParquetTableWriter implements ParquetFileWriter {
  private readonly columns: readonly ColumnWriter[];
  private readonly readCells: CellReader;
  /** The row being written, in column order (reused). */
  private readonly cells: Cell[];
  private readonly rowGroups: RowGroupMeta[] = [];
  private rows = 0;
  private groupRows = 0;
  private state: 'open' | 'closed' | 'failed' = 'open';
  private closedStatistics: FileStatistics | undefined;

  constructor(
    private readonly spec: TableSpec,
    private readonly out: DigestingSink,
    private readonly limits: { rowGroupRows: number; rowGroupBytes: number },
  ) {
    this.columns = spec.columns.map(columnWriterFor);
    this.readCells = cellReader(spec);
    this.cells = spec.columns.map(() => null);
  }

  async write(row: Row): Promise<void> {
    this.assertOpen();
    // Check the whole row before appending any cell, so a bad row leaves the columns aligned.
    const { columns, cells } = this;
    const bad = this.readCells(row, cells);
    if (bad >= 0) throw badCell(this.spec, bad, row, this.rows + 1);
    for (let i = 0; i < columns.length; i++) (columns[i] as ColumnWriter).append(cells[i] as Cell);
    this.rows++;
    this.groupRows++;
    if (this.groupIsFull()) await this.guard(() => this.flushRowGroup());
  }

  get statistics(): FileStatistics | undefined {
    return this.closedStatistics;
  }

  async close(): Promise<FileSummary> {
    this.assertOpen();
    return this.guard(async () => {
      await this.flushRowGroup();
      if (this.out.offset === 0) await this.out.write(MAGIC);
      await this.out.write(footer(this.spec, this.rowGroups));
      this.state = 'closed';
      const { bytes, sha256 } = await this.out.close();
      this.closedStatistics = fileStatistics(this.spec, this.rowGroups);
      return { rows: this.rows, bytes, sha256 };
    });
  }

  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'failed';
    await this.out.abort();
  }

  private groupIsFull(): boolean {
    if (this.groupRows >= this.limits.rowGroupRows) return true;
    if (this.groupRows % SIZE_CHECK_EVERY !== 0) return false;
    return this.columns.reduce((sum, c) => sum + c.bufferedBytes, 0) >= this.limits.rowGroupBytes;
  }

  /** Writes the row group's column chunks in schema order, then forgets them. */
  private async flushRowGroup(): Promise<void> {
    if (this.groupRows === 0) return;
    if (this.out.offset === 0) await this.out.write(MAGIC);
    const fileOffset = this.out.offset;
    const chunks: ColumnChunkMeta[] = [];
    for (const writer of this.columns) {
      const chunk = writer.finish();
      const start = this.out.offset;
      for (const buffer of chunk.buffers) await this.out.write(buffer);
      chunks.push({
        column: writer.column,
        encodings: chunk.encodings,
        numValues: chunk.numValues,
        uncompressedSize: chunk.uncompressedSize,
        compressedSize: chunk.compressedSize,
        codec: chunk.codec,
        dataPageOffset: start + chunk.dictionaryPageBytes,
        dictionaryPageOffset: chunk.dictionaryPageBytes > 0 ? start : undefined,
        statistics: { nullCount: chunk.nullCount, min: chunk.min, max: chunk.max },
      });
    }
    this.rowGroups.push({
      columns: chunks,
      numRows: this.groupRows,
      fileOffset,
      compressedSize: this.out.offset - fileOffset,
      ordinal: this.rowGroups.length,
    });
    this.groupRows = 0;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`the Parquet writer for ${this.spec.name} is ${this.state}`);
  }

  /** A failed flush leaves a partial file: the writer refuses further use and the caller aborts. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
  }
}

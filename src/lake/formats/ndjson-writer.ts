/**
 * A table as NDJSON: one JSON object a line, keys in the table's column order, values exactly the
 * Parquet file's (cells.ts; microsToIso in common/time.ts): timestamps as ISO-8601 UTC with
 * microseconds, dates as `YYYY-MM-DD`,
 * nulls as null. UTF-8, `\n` line ends, optionally gzip. Lines are built by hand from precomputed
 * `"name":` fragments: JSON.stringify of a fresh object per row costs twice as much.
 */

import { microsToIso } from '../../common/time.js';
import type { Cell, ColumnSpec, Row, TableSpec } from '../../schema/table.js';
import type { WriteSink } from '../storage/storage.js';
import { cellReader } from './cell-reader.js';
import { badCell, wellFormed } from './cells.js';
import { LineSink, type LineSinkOptions } from './line-sink.js';
import type { FileSummary, TableFileWriter } from './table-writer.js';

export type NdjsonWriterOptions = LineSinkOptions;

export function createNdjsonWriter(
  spec: TableSpec,
  sink: WriteSink,
  options: NdjsonWriterOptions = {},
): TableFileWriter {
  return new NdjsonTableWriter(spec, new LineSink(sink, options));
}

type Encode = (cell: NonNullable<Cell>) => string;

const ENCODERS: Record<ColumnSpec['type'], Encode> = {
  string: (cell) => JSON.stringify(wellFormed(cell as string)),
  int64: String,
  double: String,
  boolean: String,
  timestamp: (cell) => `"${microsToIso(cell as number)}"`,
  date: (cell) => `"${cell as string}"`,
};

/**
 * One row → its NDJSON line (without the line end), checked against the column contract. Shared by
 * the lake's NDJSON files and the HTTP live list, so both carry the same values.
 */
export type RowLineEncoder = (row: Row, rowNumber: number) => string;

export function createRowLineEncoder(spec: TableSpec): RowLineEncoder {
  const { columns } = spec;
  const keys = columns.map((column, i) => `${i === 0 ? '{' : ','}${JSON.stringify(column.name)}:`);
  const encoders = columns.map((column) => ENCODERS[column.type]);
  const readCells = cellReader(spec);
  const cells: Cell[] = columns.map(() => null);
  if (columns.length === 0) return () => '{}';
  return (row, rowNumber) => {
    const bad = readCells(row, cells);
    if (bad >= 0) throw badCell(spec, bad, row, rowNumber);
    let line = '';
    for (let i = 0; i < columns.length; i++) {
      const cell = cells[i] as Cell;
      line += `${keys[i]}${cell === null ? 'null' : (encoders[i] as Encode)(cell)}`;
    }
    return `${line}}`;
  };
}

class NdjsonTableWriter implements TableFileWriter {
  private readonly encode: RowLineEncoder;
  private rows = 0;

  constructor(
    spec: TableSpec,
    private readonly lines: LineSink,
  ) {
    this.encode = createRowLineEncoder(spec);
  }

  async write(row: Row): Promise<void> {
    const line = this.encode(row, this.rows + 1);
    this.rows++;
    await this.lines.writeLine(line);
  }

  async close(): Promise<FileSummary> {
    const { bytes, sha256 } = await this.lines.close();
    return { rows: this.rows, bytes, sha256 };
  }

  abort(): Promise<void> {
    return this.lines.abort();
  }
}

/**
 * A whole file's statistics, folded from its row groups' column chunk statistics: what a table log
 * (Delta's per-file stats) records about a data file. Bounds come back as cells (table.ts), decoded
 * from the PLAIN bytes the chunks carry; a column whose bounds some row group lacks (strings too
 * long for statistics) has none.
 */
import { civilFromDays } from '../../../common/time.js';
import type { Cell, ColumnType, TableSpec } from '../../../schema/table.js';
import type { RowGroupMeta } from './metadata.js';

export interface ColumnStatistics {
  readonly nullCount: number;
  readonly min?: Cell;
  readonly max?: Cell;
}

export interface FileStatistics {
  readonly numRecords: number;
  /** By column name, in the table's column order. */
  readonly columns: ReadonlyMap<string, ColumnStatistics>;
}

function decode(type: ColumnType, bytes: Uint8Array): Cell {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'int64':
    case 'timestamp':
      return Number(buffer.readBigInt64LE(0));
    case 'double':
      return buffer.readDoubleLE(0);
    case 'date':
      return civilFromDays(buffer.readInt32LE(0));
    case 'boolean':
      return buffer[0] !== 0;
    case 'string':
      return buffer.toString('utf8');
  }
}

/** Parquet orders strings by their UTF-8 bytes, unsigned; everything else by value. */
function compare(type: ColumnType, a: Cell, b: Cell): number {
  if (type === 'string') return Buffer.compare(Buffer.from(a as string, 'utf8'), Buffer.from(b as string, 'utf8'));
  if (type === 'boolean') return Number(a) - Number(b);
  if (type === 'date') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  return (a as number) - (b as number);
}

export function fileStatistics(spec: TableSpec, rowGroups: readonly RowGroupMeta[]): FileStatistics {
  const columns = new Map<string, ColumnStatistics>();
  spec.columns.forEach((column, index) => {
    let nullCount = 0;
    let min: Cell | undefined;
    let max: Cell | undefined;
    let bounded = true;
    for (const group of rowGroups) {
      const { statistics, numValues } = group.columns[index] as RowGroupMeta['columns'][number];
      nullCount += statistics.nullCount;
      if (statistics.nullCount === numValues) continue; // only nulls: no bounds to fold
      if (!statistics.min || !statistics.max) {
        bounded = false;
        continue;
      }
      const low = decode(column.type, statistics.min);
      const high = decode(column.type, statistics.max);
      if (min === undefined || compare(column.type, low, min) < 0) min = low;
      if (max === undefined || compare(column.type, high, max) > 0) max = high;
    }
    columns.set(column.name, bounded && min !== undefined ? { nullCount, min, max } : { nullCount });
  });
  return { numRecords: rowGroups.reduce((sum, g) => sum + g.numRows, 0), columns };
}

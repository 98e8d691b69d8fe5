/**
 * A data file's statistics as Delta's `add.stats` carries them (PROTOCOL.md, "Per-file Statistics"):
 * numRecords, and per column nullCount, minValues and maxValues. Engines skip files by these bounds:
 * - timestamps are truncated down to milliseconds, both bounds, as the protocol says readers expect
 *   (they widen a maximum by the millisecond themselves);
 * - strings longer than 32 characters keep a 32-character prefix as their minimum (a prefix sorts
 *   first) and no maximum: a cut maximum would sort below the value it stands for.
 */
import type { Cell, ColumnType, TableSpec } from '../../schema/table.js';
import type { FileStatistics } from '../formats/parquet/file-statistics.js';

/** Characters of a string bound kept (the reference writer's `dataSkippingStringPrefixLength`). */
export const STRING_PREFIX_LENGTH = 32;

type Bound = string | number | boolean;

function boundFor(type: ColumnType, cell: Cell, side: 'min' | 'max'): Bound | undefined {
  if (cell === null) return undefined;
  switch (type) {
    case 'timestamp': {
      return new Date(Math.floor((cell as number) / 1000)).toISOString();
    }
    case 'string': {
      const chars = [...(cell as string)];
      if (chars.length <= STRING_PREFIX_LENGTH) return cell as string;
      return side === 'min' ? chars.slice(0, STRING_PREFIX_LENGTH).join('') : undefined;
    }
    default:
      return cell as Bound;
  }
}

export function deltaStats(spec: TableSpec, statistics: FileStatistics): string {
  const minValues: Record<string, Bound> = {};
  const maxValues: Record<string, Bound> = {};
  const nullCount: Record<string, number> = {};
  for (const column of spec.columns) {
    const stats = statistics.columns.get(column.name);
    if (!stats) continue;
    nullCount[column.name] = stats.nullCount;
    const low = stats.min === undefined ? undefined : boundFor(column.type, stats.min, 'min');
    const high = stats.max === undefined ? undefined : boundFor(column.type, stats.max, 'max');
    if (low !== undefined) minValues[column.name] = low;
    if (high !== undefined) maxValues[column.name] = high;
  }
  return JSON.stringify({ numRecords: statistics.numRecords, minValues, maxValues, nullCount });
}

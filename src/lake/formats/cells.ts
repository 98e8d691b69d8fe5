/**
 * The in-memory cell contract (src/schema/table.ts) checked once, so Parquet and NDJSON always carry
 * the same values (the conversions both formats share are in src/common/time.ts):
 * - timestamp: epoch microseconds, a safe integer (exact as a JS number: 1684-07-28 to 2255-06-05);
 *   NDJSON shows it as `2020-10-30T21:03:00.123456Z`
 * - date: a real calendar day `YYYY-MM-DD`; Parquet stores days since 1970-01-01
 * - int64: a safe integer; double: finite (NDJSON has no NaN or Infinity)
 * A bad cell is a bug upstream (the normalizer), reported with table, column and row number.
 */
import { epochDays } from '../../common/time.js';
import type { ColumnSpec, ColumnType, Row, TableSpec } from '../../schema/table.js';

export class InvalidCellError extends TypeError {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly rowNumber: number,
    reason: string,
  ) {
    super(`${table}.${column} (row ${rowNumber}): ${reason}`);
    this.name = 'InvalidCellError';
  }
}

/** Checks one column's cells: a problem description, or undefined when the cell fits. */
export type CellCheck = (cell: unknown) => string | undefined;

/** Whether a cell that is neither null nor missing fits a column of this type: the contract, once. */
export const FITS: Readonly<Record<ColumnType, (cell: unknown) => boolean>> = {
  string: (cell) => typeof cell === 'string',
  int64: (cell) => Number.isSafeInteger(cell),
  timestamp: (cell) => Number.isSafeInteger(cell),
  double: (cell) => typeof cell === 'number' && Number.isFinite(cell),
  boolean: (cell) => typeof cell === 'boolean',
  date: (cell) => typeof cell === 'string' && epochDays(cell) !== undefined,
};

/**
 * One column's check, in words: why a cell breaks the contract, or undefined when it fits. The
 * writers test cells with FITS through code generated per table (cell-reader.ts) and come here
 * only to word an error.
 */
export function cellCheckFor(column: ColumnSpec): CellCheck {
  const fits = FITS[column.type];
  const expected = EXPECTED[column.type];
  const nullable = column.nullable;
  return (cell) => {
    if (cell === null) return nullable ? undefined : 'is null but the column is not nullable';
    if (cell === undefined) return 'is missing (a row must give every column, null for none)';
    return fits(cell) ? undefined : `${expected}, got ${preview(cell)}`;
  };
}

/** The error for the row's cell at `index`, which failed its column's test (cell-reader.ts). */
export function badCell(table: TableSpec, index: number, row: Row, rowNumber: number): InvalidCellError {
  const column = table.columns[index] as ColumnSpec;
  const problem = cellCheckFor(column)(row[column.name]) ?? 'failed its column test';
  return new InvalidCellError(table.name, column.name, rowNumber, problem);
}

const EXPECTED: Record<ColumnType, string> = {
  string: 'expected a string',
  int64: 'expected a safe integer',
  double: 'expected a finite number',
  boolean: 'expected a boolean',
  timestamp: 'expected epoch microseconds (a safe integer)',
  date: 'expected a date YYYY-MM-DD',
};

/**
 * Lone UTF-16 surrogates cannot be UTF-8: Parquet would store U+FFFD, JSON an escape. Both get
 * U+FFFD. (ES2024's isWellFormed/toWellFormed exist in Node 20 but not in this project's ES2023 lib.)
 */
export function wellFormed(text: string): string {
  const native = text as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return native.isWellFormed() ? text : native.toWellFormed();
}

function preview(cell: unknown): string {
  const text = typeof cell === 'string' ? JSON.stringify(cell) : String(cell);
  return `${typeof cell} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

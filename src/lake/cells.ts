/**
 * The in-memory cell contract (src/schema/table.ts) checked once, and the conversions both file
 * formats share, so Parquet and NDJSON always carry the same values:
 * - timestamp: epoch microseconds, a safe integer (exact as a JS number: 1684-07-28 to 2255-06-05);
 *   NDJSON shows it as `2020-10-30T21:03:00.123456Z`
 * - date: a real calendar day `YYYY-MM-DD`; Parquet stores days since 1970-01-01
 * - int64: a safe integer; double: finite (NDJSON has no NaN or Infinity)
 * A bad cell is a bug upstream (the normalizer), reported with table, column and row number.
 */
import type { ColumnSpec, ColumnType, Row, TableSpec } from '../schema/table.js';

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
 * `2020-10-30T21:03:00.123456Z` from epoch microseconds. Calendar arithmetic rather than
 * Date.toISOString: it runs for every timestamp cell of every NDJSON file and is three times faster.
 */
export function microsToIso(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const days = Math.floor(seconds / 86_400);
  let rest = seconds - days * 86_400;
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  const second = rest - minute * 60;
  const date = civilFromDays(days);
  return `${date}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${String(fraction).padStart(6, '0')}Z`;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** `YYYY-MM-DD` of a day count since 1970-01-01 (Howard Hinnant's civil_from_days). */
function civilFromDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` calendar date; undefined for anything else (2026-02-30
 * too). Integer arithmetic (days-from-civil) rather than a regex and a Date: it runs for every date
 * cell, twice.
 */
export function epochDays(date: string): number | undefined {
  if (date.length !== 10 || date.charCodeAt(4) !== DASH || date.charCodeAt(7) !== DASH) return undefined;
  const year = digits(date, 0, 4);
  const month = digits(date, 5, 7);
  const day = digits(date, 8, 10);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

const DASH = 0x2d;
const ZERO = 0x30;

/** The decimal number in text[start, end), or -1 if any character is not a digit. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Howard Hinnant's days_from_civil (proleptic Gregorian), exact for every 4-digit year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

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

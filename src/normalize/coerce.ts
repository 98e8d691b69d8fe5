/**
 * Wire value → cell, per column type. A value is coerced only when nothing is lost; anything else
 * is rejected, and the caller writes null plus a quarantine entry.
 *
 * The rules (docs/schema.md repeats them):
 * - absent and null are null, never quarantined;
 * - string: strings as sent; a finite number becomes its shortest round-trip decimal text and a
 *   boolean `true`/`false` (both read back to the same value); a string with lone UTF-16
 *   surrogates (not UTF-8 encodable, so no Parquet writer can store it) is kept with U+FFFD in their
 *   place AND reported: the one repair that keeps a value;
 * - double: finite numbers; a plain decimal string (`"10000"`, `" -1.5e3 "`) is read. Grouped or
 *   localised text (`"10,000.50"`, `"10.000,50"`, `"$5"`) is rejected: `10,000` is ten thousand in
 *   en-US and ten in de-DE, so no reading is lossless;
 * - int64: safe integers, or strings of one;
 * - boolean: booleans, and the strings `true`/`false` in any case (what .NET's ToString writes);
 *   `"yes"`, `1` and the like are rejected;
 * - timestamp: ISO-8601 text (no offset = UTC) to epoch microseconds, the 7th fractional digit
 *   (100 ns) dropped; numbers are rejected (seconds or milliseconds? no way to tell), and so are
 *   instants beyond ±285 years of 1970 (not exact as microseconds in a double);
 * - date: `YYYY-MM-DD` text of a real calendar date.
 */

import { epochDays, leadingYear, timestampMicros } from '../common/time.js';
import type { Cell, ColumnType } from '../schema/table.js';

/** Why a value was not kept; `replacement` is set when a repaired value is kept anyway. */
export class Rejection {
  constructor(
    readonly reason: string,
    readonly replacement: Cell = null,
  ) {}
}

export type Converted = Cell | Rejection;
export type Converter = (raw: unknown) => Converted;

export const CONVERTERS: Readonly<Record<ColumnType, Converter>> = {
  string: toStringCell,
  double: toDoubleCell,
  int64: toInt64Cell,
  boolean: toBooleanCell,
  timestamp: toTimestampCell,
  date: toDateCell,
};

/** What a value is, for reasons: `a string`, `an array`, … */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    case 'number':
      return Number.isFinite(value) ? 'a number' : 'a non-finite number';
    default:
      return `a ${typeof value}`;
  }
}

function wrongType(expected: string, raw: unknown): Rejection {
  return new Rejection(`wrong_type: expected ${expected}, got ${describeKind(raw)}`);
}

// ---------------------------------------------------------------------------------------------
// string

interface WellFormedText {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** ES2024 string methods (Node ≥ 20); the project's lib is ES2023, hence the local type. */
const asWellFormedText = (value: string): WellFormedText => value as unknown as WellFormedText;

function toStringCell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return checkUnicode(raw);
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  return wrongType('a string', raw);
}

function checkUnicode(value: string): Converted {
  const text = asWellFormedText(value);
  if (text.isWellFormed()) return value;
  return new Rejection('repaired_text: lone UTF-16 surrogates replaced with U+FFFD', text.toWellFormed());
}

// ---------------------------------------------------------------------------------------------
// numbers

/** A plain decimal: optional sign, digits with one optional point, optional exponent. No grouping. */
const PLAIN_DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const PLAIN_INTEGER = /^[+-]?\d+$/;

function toDoubleCell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : wrongType('a finite number', raw);
  if (typeof raw !== 'string') return wrongType('a number', raw);
  const trimmed = raw.trim();
  if (!PLAIN_DECIMAL.test(trimmed)) {
    return new Rejection('unparseable_number: not a plain decimal (grouped or localised numbers are ambiguous)');
  }
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : new Rejection('unparseable_number: out of the double range');
}

function toInt64Cell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  const value = typeof raw === 'string' && PLAIN_INTEGER.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof value !== 'number') return wrongType('an integer', raw);
  return Number.isSafeInteger(value) ? value : new Rejection('unparseable_integer: not a safe integer');
}

// ---------------------------------------------------------------------------------------------
// boolean

function toBooleanCell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw !== 'string') return wrongType('a boolean', raw);
  const word = raw.trim().toLowerCase();
  if (word === 'true') return true;
  if (word === 'false') return false;
  return new Rejection('unparseable_boolean: only true or false is read');
}

// ---------------------------------------------------------------------------------------------
// timestamps and dates

function toTimestampCell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') return wrongType('an ISO-8601 string', raw);
  const micros = timestampMicros(raw);
  if (micros === undefined) {
    // Years below 100 are far outside the exact microsecond range; say so rather than "not ISO".
    const year = leadingYear(raw);
    return year !== undefined && year < 100
      ? new Rejection('unparseable_timestamp: out of the exact microsecond range')
      : new Rejection('unparseable_timestamp: not an ISO-8601 date-time');
  }
  return Number.isSafeInteger(micros)
    ? micros
    : new Rejection('unparseable_timestamp: out of the exact microsecond range');
}

function toDateCell(raw: unknown): Converted {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') return wrongType('a YYYY-MM-DD string', raw);
  const text = raw.trim();
  // The writers' own rule (cells.ts FITS.date): a cell this accepts, Parquet can store.
  if (epochDays(text) === undefined) return new Rejection('unparseable_date: not a YYYY-MM-DD calendar date');
  return text;
}

/**
 * Reads a row's cells in column order and checks them against the cell contract (cells.ts) in one
 * pass. Generated code, like the normalizer's row factory (src/normalize/compile.ts), and for speed
 * too: both writers read and check every cell of every row. `row[column.name]` with a name that
 * changes at each call is a megamorphic keyed load (a hash lookup every time), and a per-column
 * check closure called from one site is a megamorphic call; written out per table, the loads are
 * named loads V8 caches for the row's shape and the tests are inline. Took ~10% off the Parquet
 * writer for the reads alone. Names enter the source only as JSON string literals, and the tests
 * below are those of `cellCheckFor`, which still words the error (a test holds the two equal).
 */
import type { Cell, ColumnType, Row, TableSpec } from '../schema/table.js';
import { epochDays } from './cells.js';

/**
 * Copies the row's cells into `into`, in column order, while they fit their columns. Returns -1
 * when every cell fits, else the index of the first that does not (`into` is then partly filled).
 */
export type CellReader = (row: Row, into: Cell[]) => number;

/** Each type's test of a non-null cell `c`, as source: the fast half of cellCheckFor's checks. */
const TESTS: Record<ColumnType, string> = {
  string: 'typeof c === "string"',
  int64: 'Number.isSafeInteger(c)',
  timestamp: 'Number.isSafeInteger(c)',
  double: 'typeof c === "number" && Number.isFinite(c)',
  boolean: 'typeof c === "boolean"',
  date: 'typeof c === "string" && epochDays(c) !== undefined',
};

export function cellReader(table: TableSpec): CellReader {
  const steps = table.columns.map((column, i) => {
    const fits = column.nullable ? `c === null || (${TESTS[column.type]})` : TESTS[column.type];
    return `c = row[${JSON.stringify(column.name)}]; if (!(${fits})) return ${i}; into[${i}] = c;`;
  });
  const source = `"use strict"; return (row, into) => { let c; ${steps.join(' ')} return -1; };`;
  return new Function('epochDays', source)(epochDays) as CellReader;
}

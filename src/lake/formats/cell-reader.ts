/**
 * Reads a row's cells in column order and checks them against the cell contract (cells.ts) in one
 * pass. Generated code, like the normalizer's row factory (src/normalize/compile.ts), and for speed
 * too: both writers read and check every cell of every row. `row[column.name]` with a name that
 * changes at each call is a megamorphic keyed load (a hash lookup every time), and a per-column
 * check closure called from one site is a megamorphic call; written out per table, the loads are
 * named loads V8 caches for the row's shape and each test call has one target, inlined. Took ~10%
 * off the Parquet writer for the reads alone. Names enter the source only as JSON string literals;
 * the tests are FITS (cells.ts), whose `cellCheckFor` words the error.
 */
import type { Cell, Row, TableSpec } from '../../schema/table.js';
import { FITS } from './cells.js';

/**
 * Copies the row's cells into `into`, in column order, while they fit their columns. Returns -1
 * when every cell fits, else the index of the first that does not (`into` is then partly filled).
 */
export type CellReader = (row: Row, into: Cell[]) => number;

export function cellReader(table: TableSpec): CellReader {
  // Each column's test is FITS for its type, bound to a name of its own: every call site in the
  // generated code then calls one function, which V8 inlines.
  const tests = table.columns.map((_, i) => `fits${i} = fits[${i}]`);
  const steps = table.columns.map((column, i) => {
    const fits = column.nullable ? `c === null || fits${i}(c)` : `fits${i}(c)`;
    return `c = row[${JSON.stringify(column.name)}]; if (!(${fits})) return ${i}; into[${i}] = c;`;
  });
  const declarations = tests.length > 0 ? `const ${tests.join(', ')};` : '';
  const source = `"use strict"; ${declarations} return (row, into) => { let c; ${steps.join(' ')} return -1; };`;
  return new Function('fits', source)(table.columns.map((column) => FITS[column.type])) as CellReader;
}

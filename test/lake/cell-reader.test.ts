import { describe, expect, it } from 'vitest';
import { cellReader } from '../../src/lake/formats/cell-reader.js';
import { cellCheckFor } from '../../src/lake/formats/cells.js';
import type { Cell, ColumnSpec, ColumnType, Row, TableSpec } from '../../src/schema/table.js';
import { TABLES } from '../../src/schema/tables.js';

const TYPES: readonly ColumnType[] = ['string', 'int64', 'double', 'boolean', 'timestamp', 'date'];

/** Values that sit on either side of some type's test. */
const SAMPLES: readonly unknown[] = [
  null,
  undefined,
  '',
  'text',
  '2026-02-28',
  '2024-02-29',
  '2026-02-29',
  '2026-13-01',
  '2026-1-01',
  0,
  -1,
  1.5,
  2 ** 53 - 1,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  {},
  [],
  10n,
];

function tableOf(columns: ColumnSpec[]): TableSpec {
  return { name: 't', doc: '', columns };
}

function column(type: ColumnType, nullable: boolean, name = 'c'): ColumnSpec {
  return { name, type, nullable, source: 'x', doc: '' };
}

describe('cellReader', () => {
  it('accepts exactly the cells cellCheckFor accepts, for every type and nullability', () => {
    for (const type of TYPES) {
      for (const nullable of [false, true]) {
        const spec = column(type, nullable);
        const read = cellReader(tableOf([spec]));
        const check = cellCheckFor(spec);
        for (const value of SAMPLES) {
          const into: Cell[] = [null];
          const fits = read({ c: value } as unknown as Row, into) === -1;
          expect({ type, nullable, value, fits }).toEqual({ type, nullable, value, fits: check(value) === undefined });
          if (fits) expect(into[0]).toBe(value);
        }
      }
    }
  });

  it('reads every column of the lake tables in order, and points at the first bad one', () => {
    for (const table of TABLES) {
      const read = cellReader(table);
      const row = Object.fromEntries(table.columns.map((c, i) => [c.name, sampleFor(c.type, i)])) as Row;
      const into: Cell[] = table.columns.map(() => null);
      expect(read(row, into)).toBe(-1);
      expect(into).toEqual(table.columns.map((c) => row[c.name]));
      const last = table.columns.length - 1;
      const broken = { ...row, [(table.columns[last] as ColumnSpec).name]: undefined } as Row;
      expect(read(broken, into)).toBe(last);
    }
  });

  it('takes any column name as data, never as code', () => {
    const name = '"]; throw new Error("injected"); ["';
    const read = cellReader(tableOf([column('string', false, name)]));
    const into: Cell[] = [null];
    expect(read({ [name]: 'ok' }, into)).toBe(-1);
    expect(into).toEqual(['ok']);
  });
});

function sampleFor(type: ColumnType, i: number): Cell {
  switch (type) {
    case 'string':
      return `v${i}`;
    case 'int64':
    case 'timestamp':
      return i * 1000;
    case 'double':
      return i + 0.5;
    case 'boolean':
      return i % 2 === 0;
    case 'date':
      return '2026-11-26';
  }
}

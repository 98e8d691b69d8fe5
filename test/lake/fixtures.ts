/**
 * A table with every column type, nullable and not, and rows at the edges: unicode, emoji, RTL,
 * control characters, a 1 MB string, extreme numbers, timestamps before 1970 and far ahead, dates
 * from year 1 to 9999. Shared by the writer tests.
 */
import type { Row, TableSpec } from '../../src/schema/table.js';

export const EDGE_TABLE: TableSpec = {
  name: 'edge_cases',
  doc: 'Every column type at its edges.',
  columns: [
    { name: 'id', type: 'string', nullable: false, source: '[ordinal]', doc: 'Row id.' },
    { name: 'text', type: 'string', nullable: true, source: 'text', doc: 'Any text.' },
    { name: 'count', type: 'int64', nullable: true, source: 'count', doc: 'A whole number.' },
    { name: 'amount', type: 'double', nullable: true, source: 'amount', doc: 'A deal value.' },
    { name: 'flag', type: 'boolean', nullable: true, source: 'flag', doc: 'A flag.' },
    { name: 'created_at', type: 'timestamp', nullable: false, source: 'createdAt', doc: 'An instant.' },
    { name: 'updated_at', type: 'timestamp', nullable: true, source: 'updatedAt', doc: 'An instant or null.' },
    { name: 'due_date', type: 'date', nullable: true, source: 'dueDate', doc: 'A calendar day.' },
  ],
};

/** 2020-10-30T21:03:00.123456Z */
export const SAMPLE_MICROS = 1_604_091_780_123_456;

export const ONE_MB_TEXT = `${'x'.repeat(1024 * 1024 - 3)}é€`;

export const EDGE_ROWS: readonly Row[] = [
  {
    id: 'r1',
    text: 'plain',
    count: 0,
    amount: 0.1,
    flag: true,
    created_at: SAMPLE_MICROS,
    updated_at: SAMPLE_MICROS + 1,
    due_date: '2020-10-30',
  },
  {
    id: 'r2',
    text: null,
    count: null,
    amount: null,
    flag: null,
    created_at: 0,
    updated_at: null,
    due_date: null,
  },
  {
    id: 'r3',
    text: 'Zürich São Paulo Kraków 東京 Ελληνικά',
    count: Number.MAX_SAFE_INTEGER,
    amount: -1.5e300,
    flag: false,
    created_at: -1, // 1969-12-31T23:59:59.999999Z
    updated_at: -9_007_199_254_740_991, // 1684-07-28T00:12:25.259009Z: the earliest exact JS number
    due_date: '0001-01-01',
  },
  {
    id: 'r4',
    text: '👩‍💻🎉 emoji and مرحبا بالعالم שלום RTL \u200f mark',
    count: Number.MIN_SAFE_INTEGER,
    amount: 5e-324,
    flag: true,
    created_at: Number.MAX_SAFE_INTEGER, // 2255-06-05…: the latest exact JS number
    updated_at: 1_000_000,
    due_date: '9999-12-31',
  },
  {
    id: 'r5',
    text: 'control \u0000\u0001\u0007\t\n\r\u001f\u007f "quoted" \\back\\slash / \u2028 \u2029',
    count: -1,
    amount: 123_456.789,
    flag: false,
    created_at: SAMPLE_MICROS,
    updated_at: SAMPLE_MICROS,
    due_date: '1969-12-31',
  },
  {
    id: 'r6',
    text: ONE_MB_TEXT,
    count: 42,
    amount: -0.5,
    flag: null,
    created_at: SAMPLE_MICROS,
    updated_at: null,
    due_date: '2024-02-29',
  },
  {
    id: 'r7',
    text: '',
    count: 1,
    amount: 1e21,
    flag: true,
    created_at: 1_700_000_000_000_000,
    updated_at: 1_700_000_000_000_000,
    due_date: '1970-01-01',
  },
];

export const EXPECTED_DUCKDB_TYPES = {
  id: 'VARCHAR',
  text: 'VARCHAR',
  count: 'BIGINT',
  amount: 'DOUBLE',
  flag: 'BOOLEAN',
  created_at: 'TIMESTAMP WITH TIME ZONE',
  updated_at: 'TIMESTAMP WITH TIME ZONE',
  due_date: 'DATE',
};

/** Many rows of a realistic mix (repeated enums, unique ids, nulls) for row-group and size tests. */
export function manyRows(count: number): Row[] {
  const statuses = ['New', 'Active', 'Closed'];
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      id: `row-${i.toString().padStart(7, '0')}`,
      text: i % 7 === 0 ? null : (statuses[i % 3] ?? null),
      count: i,
      amount: i % 5 === 0 ? null : i * 1.25,
      flag: i % 2 === 0,
      created_at: SAMPLE_MICROS + i * 1_000_001,
      updated_at: i % 3 === 0 ? null : SAMPLE_MICROS - i,
      due_date: i % 4 === 0 ? null : `2026-0${1 + (i % 9)}-1${i % 10}`,
    });
  }
  return rows;
}

/**
 * A wide, referral-like table for size and speed measurements: 60 columns (34 strings of several
 * shapes, 5 int64, 5 double, 5 boolean, 8 timestamp, 3 date), ~15% nulls in nullable columns,
 * deterministic, with flat strings as JSON.parse makes them. docs/parquet-writer.md reports writer
 * timings on 100,000 of these rows.
 */
import type { ColumnSpec, ColumnType, Row, TableSpec } from '../../src/schema/table.js';

type Shape = 'guid' | 'enum3' | 'enum10' | 'country' | 'currency' | 'name' | 'text' | 'email' | 'phone' | 'postal';
interface WideColumn extends ColumnSpec {
  readonly shape?: Shape;
}

const WORDS =
  'alpha beta gamma delta Contoso Fabrikam Northwind Tailspin Woodgrove Litware Adventure Works cloud migration security Azure data AI Copilot Dynamics licensing renewal expansion München Zürich São Paulo 東京 Kraków'.split(
    ' ',
  );
const ENUMS: Record<'enum3' | 'enum10' | 'country' | 'currency', readonly string[]> = {
  enum3: ['New', 'Active', 'Closed'],
  enum10: ['Pending', 'Received', 'Accepted', 'Engaged', 'Won', 'Lost', 'Declined', 'Expired', 'Error', 'Duplicate'],
  country: ['US', 'DE', 'GB', 'FR', 'JP', 'BR', 'IN', 'CA', 'AU', 'NL', 'ES', 'IT', 'PL', 'SE', 'CH'],
  currency: ['USD', 'EUR', 'GBP', 'JPY', 'BRL', 'INR'],
};

function columns(): WideColumn[] {
  const out: WideColumn[] = [];
  const add = (name: string, type: ColumnType, nullable: boolean, shape?: Shape) =>
    out.push({ name, type, nullable, shape, source: name, doc: name });
  for (let i = 0; i < 6; i++) add(`guid_${i}`, 'string', i > 0, 'guid');
  const enumShapes: Shape[] = ['enum3', 'enum10', 'country', 'currency'];
  for (let i = 0; i < 12; i++) add(`enum_${i}`, 'string', i % 2 === 1, enumShapes[i % 4]);
  for (let i = 0; i < 8; i++) add(`name_${i}`, 'string', true, 'name');
  for (let i = 0; i < 3; i++) add(`text_${i}`, 'string', true, 'text');
  for (let i = 0; i < 3; i++) add(`email_${i}`, 'string', true, 'email');
  add('phone', 'string', true, 'phone');
  add('postal', 'string', true, 'postal');
  for (let i = 0; i < 5; i++) add(`int_${i}`, 'int64', i > 0);
  for (let i = 0; i < 5; i++) add(`dbl_${i}`, 'double', true);
  for (let i = 0; i < 5; i++) add(`bool_${i}`, 'boolean', i > 1);
  for (let i = 0; i < 8; i++) add(`ts_${i}`, 'timestamp', i > 1);
  for (let i = 0; i < 3; i++) add(`date_${i}`, 'date', true);
  return out;
}

const WIDE_COLUMNS = columns();

export const WIDE_TABLE: TableSpec = { name: 'wide', doc: 'A wide referral-like table.', columns: WIDE_COLUMNS };

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function wideRows(count: number, seed = 42): Row[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(next() * 16).toString(16);
    return s;
  };
  const text = (shape: Shape): string => {
    switch (shape) {
      case 'guid':
        return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
      case 'name':
        return `${pick(WORDS)} ${pick(WORDS)}`;
      case 'text':
        return Array.from({ length: 10 + Math.floor(next() * 60) }, () => pick(WORDS)).join(' ');
      case 'email':
        return `${hex(6)}@${pick(WORDS).toLowerCase()}.example.com`;
      case 'phone':
        return `+1 ${Math.floor(next() * 1e10)}`;
      case 'postal':
        return String(Math.floor(next() * 1e5)).padStart(5, '0');
      default:
        return pick(ENUMS[shape]);
    }
  };
  const value = (column: WideColumn) => {
    if (column.nullable && next() < 0.15) return null;
    switch (column.type) {
      case 'string':
        return text(column.shape ?? 'name');
      case 'int64':
        return Math.floor(next() * 1e6);
      case 'double':
        return Math.round(next() * 1e8) / 100;
      case 'boolean':
        return next() < 0.5;
      case 'timestamp':
        return 1_577_836_800_000_000 + Math.floor(next() * 220_000_000) * 1_000_000 + Math.floor(next() * 1e6);
      case 'date':
        return new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 2000) * 86_400_000).toISOString().slice(0, 10);
    }
  };
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const row: Record<string, Row[string]> = {};
    for (const column of WIDE_COLUMNS) row[column.name] = value(column);
    rows.push(row);
  }
  // Rows in the pipeline come from JSON.parse, whose strings are flat; the template literals above
  // make rope strings that every consumer would first have to flatten.
  return JSON.parse(JSON.stringify(rows)) as Row[];
}

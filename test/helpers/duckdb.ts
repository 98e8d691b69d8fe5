/**
 * DuckDB as the independent reader in tests: an in-memory database, rows back as plain JS values,
 * and a way to bring lake files to a local folder (DuckDB's azure extension would need a download).
 *
 * Conversions: BIGINT/INTEGER → number (throws past 2^53 rather than round), TIMESTAMP WITH TIME
 * ZONE and TIMESTAMP → epoch microseconds (number; the column type tells which it was, see
 * describe()), DATE → 'YYYY-MM-DD', DOUBLE → number, VARCHAR → string, BLOB → Uint8Array, LIST →
 * array, STRUCT → object.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { listAll, type StorageTarget } from '../../src/lake/storage/storage.js';

/** How DuckDB reads a declared column from our Parquet: one mapping in src, shared with the Parquet benchmark. */
export { duckdbType } from '../../src/analytics/render.js';

export type PlainValue = null | boolean | number | string | Uint8Array | PlainValue[] | { [key: string]: PlainValue };
export type PlainRow = Record<string, PlainValue>;

export interface DuckDb {
  /** Runs a statement and returns its rows converted to plain values. */
  query(sql: string): Promise<PlainRow[]>;
  /** Column name → DuckDB type name (`VARCHAR`, `TIMESTAMP WITH TIME ZONE`, …) of a query or table source. */
  describe(source: string): Promise<Record<string, string>>;
  readonly connection: DuckDBConnection;
  close(): void;
}

export async function openDuckDb(): Promise<DuckDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  return {
    connection,
    async query(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjects().map(plainRow);
    },
    async describe(source) {
      const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
      const types: Record<string, string> = {};
      for (const row of reader.getRowObjects()) types[String(row.column_name)] = String(row.column_type);
      return types;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** `read_parquet('<path>')` with the path quoted for SQL. */
export function readParquet(path: string): string {
  return `read_parquet(${sqlString(path)})`;
}

/** `read_json('<path>', format = 'newline_delimited')`, gzip detected from the extension. */
export function readNdjson(path: string, columns?: Record<string, string>): string {
  const declared = columns
    ? `, columns = {${Object.entries(columns)
        .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
        .join(', ')}}`
    : '';
  return `read_json(${sqlString(path)}, format = 'newline_delimited'${declared})`;
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Copies every file under `prefix` from a storage target into `dir` (same relative paths); returns the local paths. */
export async function copyToLocal(target: StorageTarget, prefix: string, dir: string): Promise<string[]> {
  const copied: string[] = [];
  for (const item of await listAll(target, prefix)) {
    const content = await target.read(item.path);
    if (!content) continue;
    const local = join(dir, ...item.path.split('/'));
    await mkdir(dirname(local), { recursive: true });
    await writeFile(local, content.body);
    copied.push(local);
  }
  return copied;
}

function plainRow(row: Record<string, DuckDBValue>): PlainRow {
  const out: PlainRow = {};
  for (const [name, value] of Object.entries(row)) out[name] = plain(value);
  return out;
}

function plain(value: DuckDBValue): PlainValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
    return value;
  }
  if (typeof value === 'bigint') return safeNumber(value);
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return safeNumber(value.micros);
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBListValue) return value.items.map(plain);
  if (value instanceof DuckDBStructValue) {
    const out: Record<string, PlainValue> = {};
    for (const [name, item] of Object.entries(value.entries)) out[name] = plain(item);
    return out;
  }
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && 'bytes' in value && value.bytes instanceof Uint8Array) return value.bytes;
  return String(value);
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${value} does not fit a JS number exactly`);
  }
  return Number(value);
}

/**
 * The app's Parquet reader (src/lake/formats/parquet-reader.ts) gives back the cells the writer was
 * given, for every column type at its edges, one row group at a time and by byte ranges: a reader
 * of one row group does not fetch the others. Files written by DuckDB (another writer) read too.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openParquetRowGroups } from '../../src/lake/formats/parquet-reader.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { StorageTarget } from '../../src/lake/storage/storage.js';
import type { Row } from '../../src/schema/table.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';
import { EDGE_ROWS, EDGE_TABLE, manyRows } from './fixtures.js';

let root: string;
let target: LocalDirectoryTarget;
let duck: DuckDb;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'parquet-reader-'));
  target = new LocalDirectoryTarget({ root });
  duck = await openDuckDb();
});

afterAll(async () => {
  duck?.close();
  await rm(root, { recursive: true, force: true });
});

async function writeRows(path: string, rows: readonly Row[], rowGroupRows?: number): Promise<number> {
  const writer = createParquetWriter(EDGE_TABLE, await target.openWrite(path), { rowGroupRows });
  for (const row of rows) await writer.write(row);
  await writer.close();
  return (await stat(join(root, path))).size;
}

/** The target, counting the bytes read through readRange. */
function counting(inner: StorageTarget): { target: StorageTarget; bytes: () => number } {
  let bytes = 0;
  const wrapped = Object.create(inner) as StorageTarget;
  wrapped.readRange = async (path, offset, length) => {
    const read = await inner.readRange(path, offset, length);
    bytes += read?.length ?? 0;
    return read;
  };
  return { target: wrapped, bytes: () => bytes };
}

describe('openParquetRowGroups', () => {
  it('reads back every cell the writer was given, at the edges of every type', async () => {
    const size = await writeRows('edge/part.parquet', EDGE_ROWS);
    const file = await openParquetRowGroups(target, 'edge/part.parquet', size, EDGE_TABLE);
    expect(file.rowGroups).toBe(1);
    expect(await file.read(0)).toEqual(EDGE_ROWS);
  });

  it('reads one row group by its byte ranges, not the whole file', async () => {
    const rows = manyRows(30_000);
    const size = await writeRows('many/part.parquet', rows, 10_000);
    const reads = counting(target);
    const file = await openParquetRowGroups(reads.target, 'many/part.parquet', size, EDGE_TABLE);
    expect(file.rowGroups).toBe(3);
    const footer = reads.bytes();
    const middle = await file.read(1);
    expect(middle).toEqual(rows.slice(10_000, 20_000));
    expect(reads.bytes() - footer).toBeLessThan(size / 2);
    await expect(file.read(3)).rejects.toThrow(/3 row groups/);
  });

  it('reads a file another writer wrote, and a column the file lacks is null', async () => {
    const path = join(root, 'duck.parquet');
    await duck.query(
      `COPY (SELECT 'a' AS id, 42::BIGINT AS count, TIMESTAMPTZ '2026-12-06 10:11:12.123456+00' AS created_at, ` +
        `DATE '2026-12-06' AS due_date, TIMESTAMP_MS '2026-12-06 10:11:12.123' AS updated_at) TO ${sqlString(path)} (FORMAT parquet)`,
    );
    const file = await openParquetRowGroups(target, 'duck.parquet', (await stat(path)).size, EDGE_TABLE);
    expect(await file.read(0)).toEqual([
      {
        id: 'a',
        text: null,
        count: 42,
        amount: null,
        flag: null,
        created_at: Date.UTC(2026, 11, 6, 10, 11, 12, 123) * 1000 + 456,
        updated_at: Date.UTC(2026, 11, 6, 10, 11, 12, 123) * 1000,
        due_date: '2026-12-06',
      },
    ]);
  });
});

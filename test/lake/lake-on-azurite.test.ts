/**
 * The load stage end to end on Blob Storage (Azurite): Hive-partitioned Parquet, NDJSON and the raw
 * archive streamed as multi-block uploads under a prefix, a manifest written once, then the files
 * brought down and read by DuckDB with partition pruning columns.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNdjsonWriter } from '../../src/lake/formats/ndjson-writer.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { RawNdjsonGzipWriter } from '../../src/lake/formats/raw-ndjson-writer.js';
import { dataFilePath, newRunId, rawArchivePath, runManifestPath } from '../../src/lake/layout/paths.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { listAll } from '../../src/lake/storage/storage.js';
import type { Row } from '../../src/schema/table.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';
import { copyToLocal, type DuckDb, openDuckDb, readNdjson, readParquet, sqlString } from '../helpers/duckdb.js';
import { EDGE_TABLE, EXPECTED_DUCKDB_TYPES, manyRows } from './fixtures.js';

let azurite: Azurite;
let target: BlobStorageTarget;
let local: string;
let db: DuckDb;
const runId = newRunId(new Date('2026-11-24T06:00:00Z'), 'ab12');
const ref = { table: EDGE_TABLE.name, snapshotDate: '2026-11-24', runId };
const rows: Row[] = manyRows(30_000);

beforeAll(async () => {
  azurite = await startAzurite();
  target = new BlobStorageTarget({
    connectionString: azurite.connectionString,
    container: 'lake',
    prefix: 'referrals-lake',
    blockSize: 256 * 1024,
  });
  local = await mkdtemp(join(tmpdir(), 'lake-download-'));
  db = await openDuckDb();

  const parquet = createParquetWriter(EDGE_TABLE, await target.openWrite(dataFilePath(ref, 'parquet')), {
    rowGroupRows: 10_000,
  });
  const ndjson = createNdjsonWriter(EDGE_TABLE, await target.openWrite(dataFilePath(ref, 'ndjson')));
  const raw = new RawNdjsonGzipWriter(await target.openWrite(rawArchivePath(ref.snapshotDate, runId)));
  for (const row of rows) {
    await parquet.write(row);
    await ndjson.write(row);
    await raw.write({ wire: row, note: 'untouched' });
  }
  const files = { parquet: await parquet.close(), ndjson: await ndjson.close(), raw: await raw.close() };
  const manifest = Buffer.from(JSON.stringify({ runId, files }));
  const created = await target.createIfAbsent(runManifestPath(runId), manifest);
  expect(created.created).toBe(true);
});

afterAll(async () => {
  db?.close();
  await azurite?.stop();
  if (local) await rm(local, { recursive: true, force: true });
});

describe('a run written to Blob Storage', () => {
  it('lists the partition files under the table, and the manifest', async () => {
    const listed = (await listAll(target, '')).map((o) => o.path);
    expect(listed).toEqual([
      `_runs/${runId}.json`,
      `edge_cases/snapshot_date=2026-11-24/run_id=${runId}/part-00000.parquet`,
      `ndjson/edge_cases/snapshot_date=2026-11-24/run_id=${runId}/part-00000.ndjson`,
      `raw/snapshot_date=2026-11-24/run_id=${runId}/part-00000.ndjson.gz`,
    ]);
    const manifest = await target.read(runManifestPath(runId));
    const files = JSON.parse(manifest?.body.toString() ?? '{}').files;
    expect(files.parquet.rows).toBe(rows.length);
    const stored = [...(await listAll(target, 'edge_cases/')), ...(await listAll(target, 'ndjson/edge_cases/'))];
    expect(stored.find((o) => o.path.endsWith('.parquet'))?.size).toBe(files.parquet.bytes);
    expect(stored.find((o) => o.path.endsWith('.ndjson'))?.size).toBe(files.ndjson.bytes);
  });

  it('reads back through DuckDB with the partition columns, same values in both formats', async () => {
    await copyToLocal(target, '', local);
    const glob = join(local, 'edge_cases', '*', '*', '*.parquet');
    const source = `read_parquet(${sqlString(glob)}, hive_partitioning = true)`;
    expect(await db.describe(source)).toEqual({ ...EXPECTED_DUCKDB_TYPES, snapshot_date: 'DATE', run_id: 'VARCHAR' });

    const [facts] = await db.query(
      `SELECT count(*) AS n, count(DISTINCT run_id) AS runs, any_value(run_id) AS run FROM ${source}`,
    );
    expect(facts).toEqual({ n: rows.length, runs: 1, run: runId });

    const parquet = await db.query(`SELECT * EXCLUDE (snapshot_date, run_id) FROM ${source} ORDER BY id`);
    expect(parquet).toEqual([...rows].sort((a, b) => String(a.id).localeCompare(String(b.id))));

    const columns = Object.fromEntries(
      Object.entries(EXPECTED_DUCKDB_TYPES).map(([k, v]) => [k, v === 'TIMESTAMP WITH TIME ZONE' ? 'TIMESTAMPTZ' : v]),
    );
    const ndjsonPath = join(local, ...dataFilePath(ref, 'ndjson').split('/'));
    const [diff] = await db.query(
      `SELECT count(*) AS n FROM (SELECT * FROM ${readNdjson(ndjsonPath, columns)} EXCEPT ALL SELECT * FROM ${readParquet(join(local, ...dataFilePath(ref, 'parquet').split('/')))})`,
    );
    expect(diff?.n).toBe(0);
  });

  it('keeps the raw archive readable as gzip NDJSON', async () => {
    const rawPath = join(local, ...rawArchivePath(ref.snapshotDate, runId).split('/'));
    const [row] = await db.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE json_extract_string(json, '$.note') = 'untouched') AS noted FROM read_json_objects(${sqlString(rawPath)}, format = 'newline_delimited')`,
    );
    expect(row).toEqual({ n: rows.length, noted: rows.length });
  });
});

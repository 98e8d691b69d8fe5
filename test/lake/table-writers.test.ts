/**
 * The Parquet and NDJSON writers, read back by DuckDB: types as Synapse/Spark/Power BI see them,
 * exact values (nulls, unicode, 1 MB strings, extreme numbers and instants), no shift under a
 * non-UTC session, the same values in both formats, streaming by row group, and the file-level
 * facts the issue asks for (SNAPPY, Data Page V1, row group sizes).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom, guid } from '../../sandbox/random.js';
import { InvalidCellError } from '../../src/lake/formats/cells.js';
import { createNdjsonWriter } from '../../src/lake/formats/ndjson-writer.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { RawNdjsonGzipWriter } from '../../src/lake/formats/raw-ndjson-writer.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { WriteSink, WrittenFile } from '../../src/lake/storage/storage.js';
import type { Row, TableSpec } from '../../src/schema/table.js';
import { type DuckDb, openDuckDb, readNdjson, readParquet, sqlString } from '../helpers/duckdb.js';
import { EDGE_ROWS, EDGE_TABLE, EXPECTED_DUCKDB_TYPES, manyRows, ONE_MB_TEXT, SAMPLE_MICROS } from './fixtures.js';
import { WIDE_TABLE, wideRows } from './wide-table.js';

let root: string;
let target: LocalDirectoryTarget;
let db: DuckDb;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lake-writers-'));
  target = new LocalDirectoryTarget({ root });
  db = await openDuckDb();
});

afterAll(async () => {
  db.close();
  await rm(root, { recursive: true, force: true });
});

const local = (path: string) => join(root, ...path.split('/'));

async function writeParquet(path: string, rows: readonly Row[], spec: TableSpec = EDGE_TABLE, rowGroupRows?: number) {
  const writer = createParquetWriter(spec, await target.openWrite(path), { rowGroupRows });
  for (const row of rows) await writer.write(row);
  return writer.close();
}

async function writeNdjson(path: string, rows: readonly Row[], gzip = false) {
  const writer = createNdjsonWriter(EDGE_TABLE, await target.openWrite(path), { gzip });
  for (const row of rows) await writer.write(row);
  return writer.close();
}

/** Rows as DuckDB returns them, in id order, with timestamps as epoch micros. */
async function readBack(source: string) {
  return db.query(`SELECT * FROM ${source} ORDER BY id`);
}

describe('Parquet writer', () => {
  beforeAll(async () => {
    await writeParquet('edge/part-00000.parquet', EDGE_ROWS);
  });

  it('writes the types Synapse, Spark, Power BI and DuckDB read as intended', async () => {
    expect(await db.describe(readParquet(local('edge/part-00000.parquet')))).toEqual(EXPECTED_DUCKDB_TYPES);
  });

  it('round-trips every value exactly, nulls included', async () => {
    expect(await readBack(readParquet(local('edge/part-00000.parquet')))).toEqual(EDGE_ROWS);
  });

  it('keeps the 1 MB string byte for byte', async () => {
    const [row] = await db.query(
      `SELECT length(text) AS chars, octet_length(encode(text)) AS bytes, md5(text) AS md5 FROM ${readParquet(local('edge/part-00000.parquet'))} WHERE id = 'r6'`,
    );
    expect(row).toEqual({
      chars: ONE_MB_TEXT.length,
      bytes: Buffer.byteLength(ONE_MB_TEXT),
      md5: createHash('md5').update(ONE_MB_TEXT).digest('hex'),
    });
  });

  it('does not shift instants under a non-UTC session time zone', async () => {
    const source = readParquet(local('edge/part-00000.parquet'));
    try {
      await db.query(`SET TimeZone = 'America/New_York'`);
      const [row] = await db.query(
        `SELECT epoch_us(created_at::TIMESTAMPTZ) AS micros,
                strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS utc,
                created_at::VARCHAR AS shown
           FROM ${source} WHERE id = 'r1'`,
      );
      expect(row).toEqual({
        micros: SAMPLE_MICROS,
        utc: '2020-10-30T21:03:00.123456Z',
        shown: '2020-10-30 17:03:00.123456-04',
      });
    } finally {
      await db.query(`SET TimeZone = 'UTC'`);
    }
  });

  it('writes SNAPPY, Data Page V1 and the logical types in the footer', async () => {
    const path = local('edge/part-00000.parquet');
    const columns = await db.query(
      `SELECT path_in_schema AS name, compression, data_page_offset, dictionary_page_offset
         FROM parquet_metadata(${sqlString(path)}) ORDER BY column_id`,
    );
    expect(columns.map((c) => c.compression)).toEqual(Array(EDGE_TABLE.columns.length).fill('SNAPPY'));

    const file = await readFile(path);
    for (const column of columns) {
      expect(pageType(file, Number(column.data_page_offset)), `${column.name} data page`).toBe('DATA_PAGE');
      if (column.dictionary_page_offset !== null) {
        expect(pageType(file, Number(column.dictionary_page_offset)), `${column.name} dictionary`).toBe(
          'DICTIONARY_PAGE',
        );
      }
    }

    const schema = await db.query(
      `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema(${sqlString(path)}) WHERE name <> 'duckdb_schema' AND num_children IS NULL`,
    );
    const byName = Object.fromEntries(schema.map((s) => [s.name, s]));
    expect(byName.created_at).toMatchObject({ type: 'INT64', repetition_type: 'REQUIRED' });
    expect(String(byName.created_at?.logical_type)).toMatch(
      /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(.*MICROS=MicroSeconds\(\)/,
    );
    expect(byName.updated_at).toMatchObject({ repetition_type: 'OPTIONAL' });
    expect(byName.text).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
    expect(byName.due_date).toMatchObject({ type: 'INT32', converted_type: 'DATE' });
  });

  it('reports rows, bytes and the sha256 of the stored file', async () => {
    const summary = await writeParquet('summary/part-00000.parquet', EDGE_ROWS);
    const bytes = await readFile(local('summary/part-00000.parquet'));
    expect(summary).toEqual({
      rows: EDGE_ROWS.length,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('flushes a row group at a time and writes the row groups asked for', async () => {
    const rows = manyRows(10_500);
    const recorded = recordingSink(await target.openWrite('groups/part-00000.parquet'));
    const writer = createParquetWriter(EDGE_TABLE, recorded.sink, { rowGroupRows: 4_000 });
    for (const [i, row] of rows.entries()) {
      await writer.write(row);
      if (i === 8_500) expect(recorded.bytesBeforeClose()).toBeGreaterThan(0); // two groups already out
    }
    await writer.close();

    const groups = await db.query(
      `SELECT row_group_id, any_value(row_group_num_rows) AS n FROM parquet_metadata(${sqlString(local('groups/part-00000.parquet'))}) GROUP BY 1 ORDER BY 1`,
    );
    expect(groups.map((g) => g.n)).toEqual([4_000, 4_000, 2_500]);
    expect(await readBack(readParquet(local('groups/part-00000.parquet')))).toEqual(rows);
  });

  it('ends row groups by held bytes too, so memory stays bounded whatever the row count', async () => {
    const rows = manyRows(30_000);
    const writer = createParquetWriter(EDGE_TABLE, await target.openWrite('bounded/part-00000.parquet'), {
      rowGroupBytes: 128 * 1024,
    });
    for (const row of rows) await writer.write(row);
    await writer.close();
    const [groups] = await db.query(
      `SELECT count(DISTINCT row_group_id) AS n, max(row_group_num_rows) AS largest FROM parquet_metadata(${sqlString(local('bounded/part-00000.parquet'))})`,
    );
    expect(Number(groups?.n)).toBeGreaterThan(3);
    expect(Number(groups?.largest)).toBeLessThan(30_000);
    expect(await readBack(readParquet(local('bounded/part-00000.parquet')))).toEqual(rows);
  });

  it('stores a column Snappy hardly shrinks UNCOMPRESSED, tries Snappy again after four such row groups', async () => {
    const spec: TableSpec = {
      name: 'codecs',
      doc: 'One column that does not compress, one that does.',
      columns: [
        { name: 'id', type: 'string', nullable: false, source: 'id', doc: 'Random GUIDs.' },
        { name: 'status', type: 'string', nullable: false, source: 'status', doc: 'Five values.' },
      ],
    };
    const random = createRandom(4);
    const rows: Row[] = Array.from({ length: 7 * 3_000 }, (_, i) => ({
      id: guid(random),
      status: ['Active', 'Closed', 'New', 'Won', 'Lost'][i % 5] ?? null,
    }));
    await writeParquet('codecs/part-00000.parquet', rows, spec, 3_000);
    const chunks = await db.query(
      `SELECT path_in_schema AS name, list(compression ORDER BY row_group_id) AS codecs FROM parquet_metadata(${sqlString(local('codecs/part-00000.parquet'))}) GROUP BY 1 ORDER BY 1`,
    );
    const S = 'SNAPPY';
    const U = 'UNCOMPRESSED';
    expect(chunks.map((c) => [c.name, String(c.codecs)])).toEqual([
      ['id', String([S, U, U, U, U, S, U])],
      ['status', String([S, S, S, S, S, S, S])],
    ]);
    const byId = [...rows].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    expect(await readBack(readParquet(local('codecs/part-00000.parquet')))).toEqual(byId);
  });

  it('agrees with DuckDB reading the NDJSON of a wide, realistic table', async () => {
    const rows = wideRows(6_000);
    const parquet = createParquetWriter(WIDE_TABLE, await target.openWrite('wide/part-00000.parquet'));
    const ndjson = createNdjsonWriter(WIDE_TABLE, await target.openWrite('wide/part-00000.ndjson'));
    for (const row of rows) {
      await parquet.write(row);
      await ndjson.write(row);
    }
    await parquet.close();
    await ndjson.close();
    const types = Object.fromEntries(WIDE_TABLE.columns.map((c) => [c.name, ndjsonType(c.type)]));
    const ours = readParquet(local('wide/part-00000.parquet'));
    const theirs = readNdjson(local('wide/part-00000.ndjson'), types);
    const [diff] = await db.query(
      `SELECT (SELECT count(*) FROM (SELECT * FROM ${ours} EXCEPT ALL SELECT * FROM ${theirs})) AS missing,
              (SELECT count(*) FROM (SELECT * FROM ${theirs} EXCEPT ALL SELECT * FROM ${ours})) AS extra,
              (SELECT count(*) FROM ${ours}) AS n`,
    );
    expect(diff).toEqual({ missing: 0, extra: 0, n: 6_000 });
  });

  it('writes a valid file with no rows', async () => {
    const summary = await writeParquet('empty/part-00000.parquet', []);
    expect(summary.rows).toBe(0);
    const [row] = await db.query(`SELECT count(*) AS n FROM ${readParquet(local('empty/part-00000.parquet'))}`);
    expect(row?.n).toBe(0);
    expect(await db.describe(readParquet(local('empty/part-00000.parquet')))).toEqual(EXPECTED_DUCKDB_TYPES);
  });

  it('writes lone surrogates as U+FFFD, the same as the NDJSON writer', async () => {
    const row = { ...EDGE_ROWS[0], id: 'lone', text: 'a\ud800b\udc00c' } as Row;
    await writeParquet('lone/part-00000.parquet', [row]);
    await writeNdjson('lone/part-00000.ndjson', [row]);
    const [fromParquet] = await db.query(`SELECT text FROM ${readParquet(local('lone/part-00000.parquet'))}`);
    const [fromNdjson] = await db.query(`SELECT text FROM ${readNdjson(local('lone/part-00000.ndjson'))}`);
    expect(fromParquet?.text).toBe('a\uFFFDb\uFFFDc');
    expect(fromNdjson?.text).toBe('a\uFFFDb\uFFFDc');
  });
});

describe('Parquet string encodings', () => {
  const STRINGS: TableSpec = {
    name: 'strings',
    doc: 'String columns that take every dictionary path.',
    columns: [
      { name: 'id', type: 'string', nullable: false, source: 'id', doc: 'Unique: falls back after sampling.' },
      {
        name: 'status',
        type: 'string',
        nullable: true,
        source: 'status',
        doc: 'Few values over several pages: dictionary.',
      },
      {
        name: 'late',
        type: 'string',
        nullable: true,
        source: 'late',
        doc: 'Repetitive first, then the dictionary outgrows 1 MiB.',
      },
      {
        name: 'sparse',
        type: 'string',
        nullable: true,
        source: 'sparse',
        doc: 'Few distinct values, mostly null: the dictionary does not pay.',
      },
    ],
  };
  const long = (i: number) => `${String(i).padStart(6, '0')}-${'x'.repeat(300)}`;
  const rows: Row[] = Array.from({ length: 45_000 }, (_, i) => ({
    id: `id-${i}`,
    status: i % 11 === 0 ? null : (['Active', 'Closed', 'New', 'Won', 'Lost'][i % 5] ?? null),
    late: i < 10_000 ? `early-${i % 50}` : long(i),
    sparse: i % 20 === 0 ? `s-${i}` : null,
  }));

  beforeAll(async () => {
    await writeParquet('strings/part-00000.parquet', rows, STRINGS);
  });

  it('picks dictionary or PLAIN per column and row group', async () => {
    const encodings = await db.query(
      `SELECT path_in_schema AS name, list(DISTINCT encodings) AS encodings, count(*) AS groups FROM parquet_metadata(${sqlString(local('strings/part-00000.parquet'))}) GROUP BY 1 ORDER BY 1`,
    );
    expect(Object.fromEntries(encodings.map((e) => [e.name, e.encodings]))).toEqual({
      id: ['PLAIN'],
      late: ['PLAIN, RLE'],
      sparse: ['PLAIN, RLE'],
      status: ['PLAIN_DICTIONARY, RLE'],
    });
  });

  it('reads back every value, whichever path it took', async () => {
    const back = await db.query(`SELECT * FROM ${readParquet(local('strings/part-00000.parquet'))}`);
    expect(back).toEqual(rows);
  });

  it('writes min/max in UTF-8 byte order, and none past 512 bytes', async () => {
    const stats = await db.query(
      `SELECT path_in_schema AS name, stats_min_value AS min, stats_max_value AS max, stats_null_count AS nulls FROM parquet_metadata(${sqlString(local('strings/part-00000.parquet'))})`,
    );
    const byName = Object.fromEntries(stats.map((s) => [s.name, s]));
    expect(byName.status).toMatchObject({ min: 'Active', max: 'Won' });
    expect(byName.id).toMatchObject({ min: 'id-0', max: 'id-9999' });
    expect(byName.late).toMatchObject({ min: '010000-' + 'x'.repeat(300), max: 'early-9' });
    expect(byName.sparse?.nulls).toBe(45_000 - 2_250);

    const utf8 = { ...STRINGS, columns: [{ ...STRINGS.columns[0], name: 'id' } as (typeof STRINGS.columns)[number]] };
    // UTF-16 order puts U+FF5E before U+1F600 (a surrogate pair); UTF-8 byte order is the reverse.
    await writeParquet('utf8order/part-00000.parquet', [{ id: '\uff5e' }, { id: '\u{1f600}' }, { id: 'a' }], utf8);
    const [order] = await db.query(
      `SELECT stats_min_value AS min, stats_max_value AS max FROM parquet_metadata(${sqlString(local('utf8order/part-00000.parquet'))})`,
    );
    expect(order).toEqual({ min: 'a', max: '\u{1f600}' });
  });
});

describe('NDJSON writer', () => {
  const columns = Object.fromEntries(EDGE_TABLE.columns.map((c) => [c.name, ndjsonType(c.type)]));

  beforeAll(async () => {
    await writeParquet('same/part-00000.parquet', EDGE_ROWS);
    await writeNdjson('same/part-00000.ndjson', EDGE_ROWS);
    await writeNdjson('same/part-00000.ndjson.gz', EDGE_ROWS, true);
  });

  it('writes one object a line, keys in column order, ISO-8601 UTC timestamps with microseconds', async () => {
    const text = await readFile(local('same/part-00000.ndjson'), 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(EDGE_ROWS.length + 1);
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(
      '{"id":"r1","text":"plain","count":0,"amount":0.1,"flag":true,"created_at":"2020-10-30T21:03:00.123456Z","updated_at":"2020-10-30T21:03:00.123457Z","due_date":"2020-10-30"}',
    );
    expect(JSON.parse(lines[2] ?? '')).toMatchObject({
      created_at: '1969-12-31T23:59:59.999999Z',
      updated_at: '1684-07-28T00:12:25.259009Z',
    });
    expect(JSON.parse(lines[4] ?? '').text).toBe(EDGE_ROWS[4]?.text);
  });

  it('holds exactly the values of the Parquet file', async () => {
    const parquet = await readBack(readParquet(local('same/part-00000.parquet')));
    expect(await readBack(readNdjson(local('same/part-00000.ndjson'), columns))).toEqual(parquet);
    expect(await readBack(readNdjson(local('same/part-00000.ndjson.gz'), columns))).toEqual(parquet);
  });

  it('gzips when asked, as one gzip stream', async () => {
    const gz = await readFile(local('same/part-00000.ndjson.gz'));
    expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(gz).toString('utf8')).toBe(await readFile(local('same/part-00000.ndjson'), 'utf8'));
  });

  it('streams in chunks rather than holding the file', async () => {
    const recorded = recordingSink(await target.openWrite('chunks/part-00000.ndjson'));
    const writer = createNdjsonWriter(EDGE_TABLE, recorded.sink, { chunkBytes: 64 * 1024 });
    for (const row of manyRows(5_000)) await writer.write(row);
    expect(recorded.bytesBeforeClose()).toBeGreaterThan(0);
    const summary = await writer.close();
    expect(recorded.writes()).toBeGreaterThan(5);
    expect(summary.rows).toBe(5_000);
  });

  it('fills a chunk again only after the sink is done with it', async () => {
    const late = lateReadingSink();
    const writer = createNdjsonWriter(EDGE_TABLE, late.sink, { chunkBytes: 4 * 1024 });
    const rows = manyRows(2_000);
    for (const row of rows) await writer.write(row);
    await writer.close();
    const lines = late.bytes().toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2_000);
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(rows.map((row) => row.id));
  });
});

describe('RawNdjsonGzipWriter', () => {
  it('writes any JSON values, one a line, gzip-compressed, that read back equal', async () => {
    const values = [
      { id: 'a', nested: { list: [1, 2, { deep: null }] }, text: 'é 👩‍💻\n' },
      [1, 'two', false],
      'just a string',
      42.5,
      null,
    ];
    const writer = new RawNdjsonGzipWriter(await target.openWrite('raw/part-00000.ndjson.gz'), { chunkBytes: 16 });
    for (const value of values) await writer.write(value);
    const summary = await writer.close();

    const gz = await readFile(local('raw/part-00000.ndjson.gz'));
    expect(summary).toEqual({ rows: 5, bytes: gz.length, sha256: createHash('sha256').update(gz).digest('hex') });
    const lines = gunzipSync(gz).toString('utf8').split('\n');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual(values);
    const [row] = await db.query(
      `SELECT count(*) AS n FROM read_json_objects(${sqlString(local('raw/part-00000.ndjson.gz'))}, format = 'newline_delimited')`,
    );
    expect(row?.n).toBe(5);
  });

  it('refuses a value JSON cannot hold and leaves nothing on abort', async () => {
    const writer = new RawNdjsonGzipWriter(await target.openWrite('raw2/part-00000.ndjson.gz'));
    await writer.write({ ok: true });
    await expect(writer.write(undefined)).rejects.toBeInstanceOf(TypeError);
    await writer.abort();
    expect(await target.exists('raw2/part-00000.ndjson.gz')).toBe(false);
  });

  it('fails its writes, never hangs them, when the upload under gzip fails', async () => {
    let writes = 0;
    const failing: WriteSink = {
      async write() {
        // The second upload hangs a while, so gzip's output backs up and a write waits on gzip.
        if (++writes === 2) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new Error('upload refused');
        }
      },
      close: async () => ({ bytes: 0, etag: '"never"' }),
      abort: async () => undefined,
    };
    const writer = new RawNdjsonGzipWriter(failing, { chunkBytes: 1024 });
    // Random text does not shrink, so gzip output (and the failing upload) comes at once, and its
    // output backs up while the upload hangs: the waiting write must fail with the upload's error.
    const random = createRandom(5);
    const line = () => ({ text: Array.from({ length: 40 }, () => guid(random)).join('') });
    let failure: unknown;
    for (let i = 0; i < 2_000 && failure === undefined; i++) {
      failure = await writer.write(line()).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('upload refused');
    await expect(writer.write(line())).rejects.toThrow('upload refused');
    await writer.abort();
  });

  it('gives gzip a chunk to compress and fills it again only once gzip is done', async () => {
    const late = lateReadingSink();
    const writer = new RawNdjsonGzipWriter(late.sink, { chunkBytes: 4 * 1024 });
    // Every 500th line is longer than a chunk: it gets a chunk of its own, which is not reused.
    const values = Array.from({ length: 3_000 }, (_, i) => ({
      i,
      text: i % 500 === 0 ? `long ${i} `.repeat(2_000) : `value ${i} `.repeat(i % 7),
    }));
    for (const value of values) await writer.write(value);
    await writer.close();
    const lines = gunzipSync(late.bytes()).toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(values);
  });
});

describe('cell checks (both writers)', () => {
  const base = EDGE_ROWS[0] as Row;
  // [case, row, the column the error names]
  const bad: [string, Row, string][] = [
    ['a string in an int64 column', { ...base, count: '12' }, 'count'],
    ['a fraction in an int64 column', { ...base, count: 1.5 }, 'count'],
    ['an unsafe integer', { ...base, count: 2 ** 60 }, 'count'],
    ['NaN in a double column', { ...base, amount: Number.NaN }, 'amount'],
    ['Infinity in a double column', { ...base, amount: Number.POSITIVE_INFINITY }, 'amount'],
    ['null in a required column', { ...base, created_at: null }, 'created_at'],
    ['a missing column', Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'flag')), 'flag'],
    ['a date that is not in the calendar', { ...base, due_date: '2026-02-30' }, 'due_date'],
    ['a timestamp given as text', { ...base, created_at: '2020-10-30T21:03:00Z' }, 'created_at'],
    ['a timestamp beyond exact JS numbers', { ...base, created_at: -62_135_596_800_000_000 }, 'created_at'],
    ['two bad cells (the first in column order is named)', { ...base, due_date: 'soon', amount: '1' }, 'amount'],
  ];

  it.each(bad)('rejects %s with InvalidCellError, and the file is not written', async (_, row, column) => {
    for (const [kind, create] of [
      ['parquet', createParquetWriter],
      ['ndjson', createNdjsonWriter],
    ] as const) {
      const path = `bad/${kind}-${Math.random().toString(16).slice(2)}`;
      const writer = create(EDGE_TABLE, await target.openWrite(path));
      await writer.write(base);
      const error = await writer.write(row).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCellError);
      expect((error as InvalidCellError).rowNumber).toBe(2);
      expect((error as InvalidCellError).column).toBe(column);
      expect((error as Error).message).toMatch(new RegExp(`^edge_cases\\.${column} \\(row 2\\): `));
      await writer.abort();
      expect(await target.exists(path)).toBe(false);
    }
  });
});

/** The DuckDB type to declare when reading NDJSON, so `read_json` does not guess. */
function ndjsonType(type: string): string {
  const types: Record<string, string> = {
    string: 'VARCHAR',
    int64: 'BIGINT',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMPTZ',
    date: 'DATE',
  };
  return types[type] ?? 'VARCHAR';
}

/** PageHeader.type is field 1 (i32): compact header byte 0x15, then the zigzag varint of the enum. */
function pageType(file: Buffer, offset: number): string {
  if (file[offset] !== 0x15) return `unexpected header byte ${file[offset]}`;
  const names = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'];
  return names[(file[offset + 1] ?? 0) >> 1] ?? 'unknown';
}

/** A sink that counts what reached storage and when, to show the writers stream. */
function recordingSink(inner: WriteSink) {
  let bytes = 0;
  let writes = 0;
  let closing = false;
  let beforeClose = 0;
  const sink: WriteSink = {
    async write(chunk) {
      writes++;
      bytes += chunk.length;
      if (!closing) beforeClose = bytes;
      await inner.write(chunk);
    },
    close(): Promise<WrittenFile> {
      closing = true;
      return inner.close();
    },
    abort: () => inner.abort(),
  };
  return { sink, bytesBeforeClose: () => beforeClose, writes: () => writes };
}

/**
 * A sink that reads each chunk only when it resolves, a few milliseconds later, as an upload does:
 * a writer that filled the chunk again before then would store the wrong bytes.
 */
function lateReadingSink() {
  const stored: Buffer[] = [];
  const sink: WriteSink = {
    async write(chunk) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      stored.push(Buffer.from(chunk));
    },
    async close(): Promise<WrittenFile> {
      const bytes = Buffer.concat(stored);
      return { bytes: bytes.length, etag: '"late"' };
    },
    abort: async () => undefined,
  };
  return { sink, bytes: () => Buffer.concat(stored) };
}

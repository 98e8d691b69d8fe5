/**
 * Issue 19, a design measurement: can parquet-wasm (arrow-rs compiled to WebAssembly) write the lake's
 * Parquet, and Delta checkpoints with nested columns, and at what cost next to our own flat writer?
 *
 *   npm run build --silent && node dist/bench/parquet-compare.js [--count 100000] [--runs 3] [--keep DIR]
 *
 * The lake's nine tables for `count` generated referrals (seed 7, each referral through JSON text and
 * normalizeReferral, as the sync has them) are written by three variants, each run in a child process
 * of its own so that its peak RSS is its own; best of `runs` per figure:
 *
 * - ours: createParquetWriter with the lake's row-group budgets (lakeTableWriterOptions), rows in.
 * - arrow-naive: apache-arrow's vectorFromArray per column (cells converted as its builders want them:
 *   BigInt for int64, epoch ms for timestamps and dates) into a Table, IPC stream, parquet-wasm.
 * - arrow-direct: the Arrow buffers built by hand from the rows (typed arrays, validity bitmaps, UTF-8
 *   offsets and bytes: short ASCII strings copied by hand as our writer does, the rest through
 *   TextEncoder.encodeInto), wrapped with makeData, IPC stream, parquet-wasm.
 *
 * parquet-wasm writes with SNAPPY, writer version 1 (data page V1), and at most as many rows per row
 * group as our writer put in its largest group of that table (read back from ours' first run). Every
 * variant writes through LocalDirectoryTarget, so the sink (SHA-256, fsync, rename) costs the same.
 *
 * Figures per child: `write` is the nine tables from rows in memory to closed files (ours: rows in;
 * parquet-wasm: Arrow build + IPC + WASM write + sink); `load` is importing the writer's modules
 * (parquet-wasm compiles its WASM then); `total` is the child's whole life, generation included. Peak
 * RSS: the kernel's high-water mark (VmHWM), reset through /proc/self/clear_refs once the rows are in
 * memory and collected, minus the resident size then: what loading and writing added.
 *
 * Then DuckDB reads the last run's files of every variant: types per column, a checksum per table
 * (count and the sum of hashes of every row's cells as text, timestamps as epoch_us), rows that one
 * file has and ours has not (EXCEPT ALL, both ways), REQUIRED/OPTIONAL as declared, codecs and row groups.
 * Last, a Delta checkpoint-like file (an `add` struct with a map) is written by parquet-wasm and read
 * back, and the deploy size that parquet-wasm and apache-arrow would add is counted from the lock file.
 * The last line of stdout is one JSON object with every figure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Data, DataType, Field } from 'apache-arrow';
import { generateReferrals } from '../sandbox/generator.js';
import { epochDays } from '../src/common/time.js';
import { cellReader } from '../src/lake/formats/cell-reader.js';
import { LocalDirectoryTarget } from '../src/lake/storage/local-directory-target.js';
import { normalizeReferral } from '../src/normalize/normalize.js';
import type { Cell, ColumnSpec, Row, TableSpec } from '../src/schema/table.js';
import { TABLE_NAMES, TABLES, type TableName } from '../src/schema/tables.js';

type Arrow = typeof import('apache-arrow');
type ParquetWasm = typeof import('parquet-wasm');

const VARIANTS = ['ours', 'arrow-naive', 'arrow-direct', 'arrow-stream'] as const;
type Variant = (typeof VARIANTS)[number];

const RUN_ID = '20261206T140000Z-abcd';
const MIB = 1024 * 1024;

interface ChildFigures {
  readonly variant: Variant;
  readonly rows: Record<string, number>;
  readonly bytes: number;
  readonly generateSeconds: number;
  readonly loadSeconds: number;
  readonly writeSeconds: number;
  readonly totalSeconds: number;
  /** What the write added to the process's resident memory at its peak (load included). */
  readonly peakOverBaselineMB: number;
  readonly baselineMB: number;
  /** V8's heap at the baseline: what it holds, and what it has resident but free (reused before RSS grows). */
  readonly baselineHeapUsedMB: number;
  readonly baselineHeapFreeMB: number;
  /** parquet-wasm: seconds in each step of the write, summed over the tables; WASM memory at the end. */
  readonly steps?: Record<string, number>;
  readonly wasmMemoryMB?: number;
}

// ---------------------------------------------------------------------------------------------
// Child: one variant, or the checkpoint.

function procStatusKB(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]);
}

/** The nine tables' rows for `count` referrals, each referral through JSON text as the sync reads it. */
function lakeRows(count: number, extractedAtMicros: number): Record<TableName, Row[]> {
  const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, [] as Row[]])) as Record<TableName, Row[]>;
  const lineage = { runId: RUN_ID, extractedAtMicros };
  for (const referral of generateReferrals({ count, seed: 7 })) {
    const { rows } = normalizeReferral(JSON.parse(JSON.stringify(referral)) as unknown, lineage);
    for (const name of TABLE_NAMES) for (const row of rows[name]) tables[name].push(row);
  }
  return tables;
}

interface ChildOptions {
  readonly dir: string;
  readonly count: number;
  readonly extractedAtMicros: number;
  readonly rowGroupRows: Record<string, number>;
}

async function child(variant: Variant, options: ChildOptions): Promise<ChildFigures> {
  const generateBegan = performance.now();
  const tables = lakeRows(options.count, options.extractedAtMicros);
  const generateSeconds = (performance.now() - generateBegan) / 1000;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current resident size
  const baselineKB = procStatusKB('VmRSS');
  const heap = process.memoryUsage();

  const target = new LocalDirectoryTarget({ root: options.dir });
  const loadBegan = performance.now();
  const write = await loadWriter(variant, options.rowGroupRows);
  const writeBegan = performance.now();
  let bytes = 0;
  for (const table of TABLES) bytes += await write.table(table, tables[table.name], target);
  const writeEnded = performance.now();
  const peakKB = procStatusKB('VmHWM');
  return {
    variant,
    rows: Object.fromEntries(TABLE_NAMES.map((name) => [name, tables[name].length])),
    bytes,
    generateSeconds,
    loadSeconds: (writeBegan - loadBegan) / 1000,
    writeSeconds: (writeEnded - writeBegan) / 1000,
    totalSeconds: performance.now() / 1000,
    peakOverBaselineMB: (peakKB - baselineKB) / 1024,
    baselineMB: baselineKB / 1024,
    baselineHeapUsedMB: heap.heapUsed / MIB,
    baselineHeapFreeMB: (heap.heapTotal - heap.heapUsed) / MIB,
    ...write.extra(),
  };
}

interface TableWriteFn {
  /** Writes one table's file; returns its size in bytes. */
  table(spec: TableSpec, rows: readonly Row[], target: LocalDirectoryTarget): Promise<number>;
  extra(): Pick<ChildFigures, 'steps' | 'wasmMemoryMB'>;
}

async function loadWriter(variant: Variant, rowGroupRows: Record<string, number>): Promise<TableWriteFn> {
  if (variant === 'ours') {
    const { createParquetWriter, lakeTableWriterOptions } = await import('../src/lake/formats/parquet-writer.js');
    return {
      async table(spec, rows, target) {
        const writer = createParquetWriter(spec, await target.openWrite(`${spec.name}.parquet`), {
          ...lakeTableWriterOptions(spec.name),
        });
        for (const row of rows) await writer.write(row);
        return (await writer.close()).bytes;
      },
      extra: () => ({}),
    };
  }
  const arrow: Arrow = await import('apache-arrow');
  const pq: ParquetWasm = await import('parquet-wasm');
  if (variant === 'arrow-stream') return streamingWriter(arrow, pq, rowGroupRows);
  const steps = { build: 0, ipc: 0, fromIPC: 0, writeParquet: 0, sink: 0 };
  const build = variant === 'arrow-naive' ? naiveTable : directTable;
  return {
    async table(spec, rows, target) {
      let began = performance.now();
      const lap = (step: keyof typeof steps) => {
        const now = performance.now();
        steps[step] += (now - began) / 1000;
        began = now;
      };
      const table = build(arrow, spec, rows);
      lap('build');
      const ipc = arrow.tableToIPC(table, 'stream');
      lap('ipc');
      const wasmTable = pq.Table.fromIPCStream(ipc);
      lap('fromIPC');
      const maxRows = rowGroupRows[spec.name];
      if (!maxRows) throw new Error(`no row-group size for ${spec.name}`);
      const parquet = pq.writeParquet(wasmTable, writerProperties(pq, maxRows));
      lap('writeParquet');
      const sink = await target.openWrite(`${spec.name}.parquet`);
      await sink.write(parquet);
      const written = await sink.close();
      lap('sink');
      return written.bytes;
    },
    extra: () => ({
      steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round(v, 3)])),
      wasmMemoryMB: round(pq.wasmMemory().buffer.byteLength / MIB, 1),
    }),
  };
}

/** Rows per Arrow batch handed to transformParquetStream. */
const STREAM_BATCH_ROWS = 10_000;

/**
 * Bounded memory: the rows go in as Arrow batches of STREAM_BATCH_ROWS (built directly, through IPC
 * into WASM), pulled by parquet-wasm's transformParquetStream, whose output chunks go to the sink as
 * they come. The writer then holds one row group, not the whole table three times over.
 */
function streamingWriter(arrow: Arrow, pq: ParquetWasm, rowGroupRows: Record<string, number>): TableWriteFn {
  return {
    async table(spec, rows, target) {
      const maxRows = rowGroupRows[spec.name];
      if (!maxRows) throw new Error(`no row-group size for ${spec.name}`);
      let next = 0;
      const batches = new ReadableStream({
        pull(controller) {
          if (next >= rows.length) {
            controller.close();
            return;
          }
          const slice = rows.slice(next, next + STREAM_BATCH_ROWS);
          next += slice.length;
          const wasmTable = pq.Table.fromIPCStream(arrow.tableToIPC(directTable(arrow, spec, slice), 'stream'));
          for (const batch of wasmTable.recordBatches()) controller.enqueue(batch);
          wasmTable.free();
        },
      });
      const parquet = await pq.transformParquetStream(batches, writerProperties(pq, maxRows));
      const sink = await target.openWrite(`${spec.name}.parquet`);
      const reader = parquet.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await sink.write(value as Uint8Array);
      }
      return (await sink.close()).bytes;
    },
    extra: () => ({ wasmMemoryMB: round(pq.wasmMemory().buffer.byteLength / MIB, 1) }),
  };
}

function writerProperties(pq: ParquetWasm, maxRowGroupRows: number) {
  return new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.SNAPPY)
    .setWriterVersion(pq.WriterVersion.V1)
    .setMaxRowGroupSize(maxRowGroupRows)
    .build();
}

/** The Arrow type of a column, as parquet-wasm should write it. */
function arrowType(arrow: Arrow, column: ColumnSpec): DataType {
  switch (column.type) {
    case 'string':
      return new arrow.Utf8();
    case 'int64':
      return new arrow.Int64();
    case 'timestamp':
      return new arrow.TimestampMicrosecond('UTC');
    case 'double':
      return new arrow.Float64();
    case 'date':
      return new arrow.DateDay();
    case 'boolean':
      return new arrow.Bool();
  }
}

/** The naive way: a JS array per column, converted to what apache-arrow's builders take, vectorFromArray. */
function naiveTable(arrow: Arrow, spec: TableSpec, rows: readonly Row[]) {
  const columns = Object.fromEntries(
    spec.columns.map((column) => {
      const cells = rows.map((row) => row[column.name] ?? null);
      return [column.name, arrow.vectorFromArray(naiveValues(column, cells), arrowType(arrow, column))];
    }),
  );
  return new arrow.Table(columns);
}

function naiveValues(column: ColumnSpec, cells: Cell[]): unknown[] {
  switch (column.type) {
    case 'int64':
      return cells.map((c) => (c === null ? null : BigInt(c as number)));
    case 'timestamp':
      // The timestamp builders take epoch milliseconds (and multiply by 1000 for MICROSECOND).
      return cells.map((c) => (c === null ? null : (c as number) / 1000));
    case 'date':
      return cells.map((c) => (c === null ? null : Date.parse(c as string)));
    default:
      return cells;
  }
}

// The direct way: each column's Arrow buffers filled as the rows are read, once.

interface ColumnBuffers {
  /** Row `index`'s cell, already checked against the column's type (cellReader). */
  append(index: number, cell: Cell): void;
  data(arrow: Arrow, type: DataType): Data;
}

class Validity {
  readonly bits: Uint8Array;
  nulls = 0;
  constructor(length: number) {
    this.bits = new Uint8Array((length + 7) >> 3);
  }
  valid(index: number): void {
    this.bits[index >> 3] = (this.bits[index >> 3] as number) | (1 << (index & 7));
  }
  props(): { nullCount: number; nullBitmap?: Uint8Array } {
    return this.nulls === 0 ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.bits };
  }
}

const TWO_32 = 4294967296;

class Int64Buffers implements ColumnBuffers {
  private readonly values: BigInt64Array;
  private readonly words: Uint32Array;
  private readonly validity: Validity;
  constructor(private readonly length: number) {
    this.values = new BigInt64Array(length);
    this.words = new Uint32Array(this.values.buffer);
    this.validity = new Validity(length);
  }
  append(index: number, cell: Cell): void {
    if (cell === null) {
      this.validity.nulls++;
      return;
    }
    // Two little-endian 32-bit words, without a BigInt per cell: exact for every safe integer.
    const value = cell as number;
    const high = Math.floor(value / TWO_32);
    this.words[2 * index] = value - high * TWO_32;
    this.words[2 * index + 1] = high; // ToUint32: two's complement for negatives
    this.validity.valid(index);
  }
  data(arrow: Arrow, type: DataType): Data {
    return arrow.makeData({ type, length: this.length, data: this.values, ...this.validity.props() } as never);
  }
}

class Float64Buffers implements ColumnBuffers {
  private readonly values: Float64Array;
  private readonly validity: Validity;
  constructor(private readonly length: number) {
    this.values = new Float64Array(length);
    this.validity = new Validity(length);
  }
  append(index: number, cell: Cell): void {
    if (cell === null) {
      this.validity.nulls++;
      return;
    }
    this.values[index] = cell as number;
    this.validity.valid(index);
  }
  data(arrow: Arrow, type: DataType): Data {
    return arrow.makeData({ type, length: this.length, data: this.values, ...this.validity.props() } as never);
  }
}

class DateBuffers implements ColumnBuffers {
  private readonly values: Int32Array;
  private readonly validity: Validity;
  constructor(private readonly length: number) {
    this.values = new Int32Array(length);
    this.validity = new Validity(length);
  }
  append(index: number, cell: Cell): void {
    if (cell === null) {
      this.validity.nulls++;
      return;
    }
    // YYYY-MM-DD, checked by the cell reader: the days our own writer stores (fixed-columns.ts).
    this.values[index] = epochDays(cell as string) ?? 0;
    this.validity.valid(index);
  }
  data(arrow: Arrow, type: DataType): Data {
    return arrow.makeData({ type, length: this.length, data: this.values, ...this.validity.props() } as never);
  }
}

class BoolBuffers implements ColumnBuffers {
  private readonly values: Uint8Array;
  private readonly validity: Validity;
  constructor(private readonly length: number) {
    this.values = new Uint8Array((length + 7) >> 3);
    this.validity = new Validity(length);
  }
  append(index: number, cell: Cell): void {
    if (cell === null) {
      this.validity.nulls++;
      return;
    }
    if (cell) this.values[index >> 3] = (this.values[index >> 3] as number) | (1 << (index & 7));
    this.validity.valid(index);
  }
  data(arrow: Arrow, type: DataType): Data {
    return arrow.makeData({ type, length: this.length, data: this.values, ...this.validity.props() } as never);
  }
}

const ENCODER = new TextEncoder();
/** Strings this short are tried as ASCII by hand first, as our writer does (byte-buffer.ts). */
const SHORT_STRING = 64;

/** Writes `text` at `at` if it is all ASCII and returns its length, else -1 (bytes past `at` then garbage). */
function writeAscii(bytes: Uint8Array, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    bytes[at + i] = code;
  }
  return text.length;
}

class Utf8Buffers implements ColumnBuffers {
  private readonly offsets: Int32Array;
  private bytes: Uint8Array;
  private end = 0;
  private readonly validity: Validity;
  constructor(private readonly length: number) {
    this.offsets = new Int32Array(length + 1);
    this.bytes = new Uint8Array(Math.max(1024, length * 4));
    this.validity = new Validity(length);
  }
  append(index: number, cell: Cell): void {
    if (cell === null) {
      this.validity.nulls++;
    } else {
      const text = cell as string;
      if (this.bytes.length - this.end < text.length * 3) this.grow(text.length * 3);
      const written = text.length <= SHORT_STRING ? writeAscii(this.bytes, text, this.end) : -1;
      this.end += written >= 0 ? written : ENCODER.encodeInto(text, this.bytes.subarray(this.end)).written;
      this.validity.valid(index);
    }
    this.offsets[index + 1] = this.end;
  }
  private grow(need: number): void {
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.end + need));
    bigger.set(this.bytes.subarray(0, this.end));
    this.bytes = bigger;
  }
  data(arrow: Arrow, type: DataType): Data {
    const data = this.bytes.subarray(0, this.end);
    const props = { type, length: this.length, valueOffsets: this.offsets, data, ...this.validity.props() };
    return arrow.makeData(props as never);
  }
}

function columnBuffers(column: ColumnSpec, length: number): ColumnBuffers {
  switch (column.type) {
    case 'string':
      return new Utf8Buffers(length);
    case 'int64':
    case 'timestamp':
      return new Int64Buffers(length);
    case 'double':
      return new Float64Buffers(length);
    case 'date':
      return new DateBuffers(length);
    case 'boolean':
      return new BoolBuffers(length);
  }
}

function directTable(arrow: Arrow, spec: TableSpec, rows: readonly Row[]) {
  const readCells = cellReader(spec);
  const buffers = spec.columns.map((column) => columnBuffers(column, rows.length));
  const cells: Cell[] = spec.columns.map(() => null);
  for (let index = 0; index < rows.length; index++) {
    const bad = readCells(rows[index] as Row, cells);
    if (bad >= 0) throw new Error(`${spec.name} row ${index + 1}: column ${spec.columns[bad]?.name} does not fit`);
    for (let i = 0; i < buffers.length; i++) (buffers[i] as ColumnBuffers).append(index, cells[i] as Cell);
  }
  const fields: Field[] = spec.columns.map(
    (column) => new arrow.Field(column.name, arrowType(arrow, column), column.nullable),
  );
  const children = spec.columns.map((_, i) => (buffers[i] as ColumnBuffers).data(arrow, (fields[i] as Field).type));
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: rows.length, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

// ---------------------------------------------------------------------------------------------
// The checkpoint: a Delta checkpoint's `add` column (struct with a map), written by parquet-wasm.

const CHECKPOINT_ROWS = 10_000;

interface AddAction {
  readonly path: string;
  readonly partitionValues: ReadonlyMap<string, string | null>;
  readonly size: bigint;
  readonly modificationTime: bigint;
  readonly dataChange: boolean;
  readonly stats: string | null;
}

/** Add actions like the lake's: two partition columns (some null, some files none), sizes past 2^32. */
function addActions(count: number): AddAction[] {
  return Array.from({ length: count }, (_, i) => {
    const partitionValues = new Map<string, string | null>();
    if (i % 10 !== 0) {
      partitionValues.set('snapshot_date', `2026-12-${String(1 + (i % 28)).padStart(2, '0')}`);
      partitionValues.set('run_id', i % 7 === 0 ? null : `20261206T14${String(i % 60).padStart(2, '0')}00Z-abcd`);
    }
    return {
      path: `referrals/snapshot_date=2026-12-06/run_id=${RUN_ID}/part-${String(i).padStart(5, '0')}-é.parquet`,
      partitionValues,
      size: 5_000_000_000n + BigInt(i),
      modificationTime: 1_765_029_600_000n + BigInt(i),
      dataChange: i % 2 === 0,
      stats: i % 5 === 0 ? null : JSON.stringify({ numRecords: i, minValues: { id: `r${i}` }, nullCount: { id: 0 } }),
    };
  });
}

function addType(arrow: Arrow) {
  const entries = new arrow.Struct([
    new arrow.Field('key', new arrow.Utf8(), false),
    new arrow.Field('value', new arrow.Utf8(), true),
  ]);
  return new arrow.Struct([
    new arrow.Field('path', new arrow.Utf8(), false),
    new arrow.Field('partitionValues', new arrow.Map_(new arrow.Field('key_value', entries, false)), false),
    new arrow.Field('size', new arrow.Int64(), false),
    new arrow.Field('modificationTime', new arrow.Int64(), false),
    new arrow.Field('dataChange', new arrow.Bool(), false),
    new arrow.Field('stats', new arrow.Utf8(), true),
  ]);
}

async function checkpointChild(dir: string) {
  const loadBegan = performance.now();
  const arrow: Arrow = await import('apache-arrow');
  const pq: ParquetWasm = await import('parquet-wasm');
  const loadSeconds = (performance.now() - loadBegan) / 1000;
  const adds = addActions(CHECKPOINT_ROWS);
  const times: number[] = [];
  let parquet: Uint8Array = new Uint8Array();
  for (let run = 0; run < 4; run++) {
    const began = performance.now();
    const table = new arrow.Table({ add: arrow.vectorFromArray(adds, addType(arrow)) });
    parquet = pq.writeParquet(
      pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')),
      writerProperties(pq, CHECKPOINT_ROWS),
    );
    times.push((performance.now() - began) / 1000);
  }
  await mkdir(dir, { recursive: true });
  writeFileSync(join(dir, 'checkpoint.parquet'), parquet);
  return {
    rows: CHECKPOINT_ROWS,
    bytes: parquet.length,
    loadSeconds: round(loadSeconds, 3),
    firstSeconds: round(times[0] as number, 3),
    bestSeconds: round(Math.min(...times.slice(1)), 3),
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: runs the children, checks the files with DuckDB, counts the package size.

const SCRIPT = fileURLToPath(import.meta.url);

function runChild<T>(args: string[]): T {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=4', SCRIPT, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MIB,
    // As the sync's processes run (src/common/process-tuning.ts), but without its heap limit: all
    // rows of 100k referrals are held at once here.
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
  });
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}

function round(value: number, places = 2): number {
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
}

type Duck = import('@duckdb/node-api').DuckDBConnection;

async function rowsOf(duck: Duck, sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The most rows our writer put in one row group, per table: parquet-wasm's row-group size. */
async function largestRowGroups(duck: Duck, dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const file = sqlString(join(dir, `${table.name}.parquet`));
    const [row] = await rowsOf(duck, `SELECT max(row_group_num_rows)::BIGINT AS n FROM parquet_metadata(${file})`);
    out[table.name] = Number(row?.n);
  }
  return out;
}

interface FileCheck {
  readonly rows: number;
  readonly checksum: string;
  readonly typesAsDeclared: boolean;
  readonly typeDifferences: string[];
  readonly repetitionDifferences: number;
  readonly rowGroups: number;
  readonly codecs: string;
  /** Rows this file has that ours has not, and the other way round (EXCEPT ALL). */
  readonly notInOurs: number;
  readonly onlyInOurs: number;
}

const DUCKDB_TYPES: Record<ColumnSpec['type'], string> = {
  string: 'VARCHAR',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  date: 'DATE',
};

async function checkFile(duck: Duck, table: TableSpec, file: string, ours: string): Promise<FileCheck> {
  const source = `read_parquet(${sqlString(file)})`;
  const described = await rowsOf(duck, `DESCRIBE SELECT * FROM ${source}`);
  const typeDifferences: string[] = [];
  table.columns.forEach((column, i) => {
    const got = described[i];
    const want = DUCKDB_TYPES[column.type];
    if (got?.column_name !== column.name || got?.column_type !== want) {
      typeDifferences.push(`${column.name}: ${String(got?.column_name)} ${String(got?.column_type)}, want ${want}`);
    }
  });
  if (described.length !== table.columns.length) typeDifferences.push(`${described.length} columns`);
  const cells = table.columns.map((c) => {
    const text = c.type === 'timestamp' ? `epoch_us(${ident(c.name)})::VARCHAR` : `${ident(c.name)}::VARCHAR`;
    return `coalesce(${text}, '<null>')`;
  });
  const [sum] = await rowsOf(
    duck,
    `SELECT count(*)::BIGINT AS n, sum(hash(concat_ws('|', ${cells.join(', ')})))::VARCHAR AS h FROM ${source}`,
  );
  const schema = await rowsOf(duck, `SELECT name, repetition_type FROM parquet_schema(${sqlString(file)})`);
  let repetitionDifferences = 0;
  for (const column of table.columns) {
    const found = schema.find((s) => s.name === column.name);
    if (found?.repetition_type !== (column.nullable ? 'OPTIONAL' : 'REQUIRED')) repetitionDifferences++;
  }
  const [meta] = await rowsOf(
    duck,
    `SELECT count(DISTINCT row_group_id)::BIGINT AS groups, string_agg(DISTINCT compression, ',') AS codecs
     FROM parquet_metadata(${sqlString(file)})`,
  );
  const except = async (a: string, b: string) => {
    const [row] = await rowsOf(
      duck,
      `SELECT count(*)::BIGINT AS n FROM (SELECT * FROM read_parquet(${sqlString(a)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(b)}))`,
    );
    return Number(row?.n);
  };
  return {
    rows: Number(sum?.n),
    checksum: String(sum?.h),
    typesAsDeclared: typeDifferences.length === 0,
    typeDifferences,
    repetitionDifferences,
    rowGroups: Number(meta?.groups),
    codecs: String(meta?.codecs),
    notInOurs: file === ours ? 0 : await except(file, ours),
    onlyInOurs: file === ours ? 0 : await except(ours, file),
  };
}

/** Reads the checkpoint back and compares every add action with what was written. */
async function checkCheckpoint(duck: Duck, file: string) {
  const source = `read_parquet(${sqlString(file)})`;
  const [described] = await rowsOf(duck, `DESCRIBE SELECT * FROM ${source}`);
  const schema = await rowsOf(
    duck,
    `SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema(${sqlString(file)})`,
  );
  const read = await rowsOf(
    duck,
    `SELECT add.path AS path, map_keys(add.partitionValues) AS keys, map_values(add.partitionValues) AS vals,
       add.size::VARCHAR AS size, add.modificationTime::VARCHAR AS mtime, add.dataChange AS dc, add.stats AS stats
     FROM ${source}`,
  );
  const expected = addActions(CHECKPOINT_ROWS);
  let mismatches = 0;
  let firstMismatch: string | undefined;
  expected.forEach((add, i) => {
    const want = {
      path: add.path,
      keys: [...add.partitionValues.keys()],
      vals: [...add.partitionValues.values()],
      size: String(add.size),
      mtime: String(add.modificationTime),
      dc: add.dataChange,
      stats: add.stats,
    };
    const got = read[i];
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      mismatches++;
      firstMismatch ??= `row ${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
    }
  });
  return {
    duckdbType: String(described?.column_type),
    parquetSchema: schema.map((s) =>
      [s.name, s.repetition_type, s.converted_type ?? '', s.logical_type ?? ''].filter(Boolean).join(' '),
    ),
    rowsRead: read.length,
    mismatches,
    firstMismatch,
  };
}

/** Bytes of the files under a folder (symlinks not followed; nested node_modules left out). */
function folderBytes(folder: string, skipNodeModules: boolean): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) total += folderBytes(path, skipNodeModules);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

interface LockPackage {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

/** The installed packages (lock-file paths) that `roots` need at run time, resolved as Node does. */
function dependencyClosure(lock: Record<string, LockPackage>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (seen.has(path) || !lock[path]) continue;
    seen.add(path);
    const entry = lock[path];
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      let base = path;
      for (;;) {
        const candidate = `${base}/node_modules/${name}`;
        if (lock[candidate]) {
          queue.push(candidate);
          break;
        }
        const cut = base.lastIndexOf('/node_modules/');
        if (cut < 0) {
          if (lock[`node_modules/${name}`]) queue.push(`node_modules/${name}`);
          break;
        }
        base = base.slice(0, cut);
      }
    }
  }
  return seen;
}

function packageSizes(root: string) {
  const lock = (
    JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> }
  ).packages;
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const production = dependencyClosure(
    lock,
    Object.keys(manifest.dependencies).map((name) => `node_modules/${name}`),
  );
  const added = [...dependencyClosure(lock, ['node_modules/parquet-wasm', 'node_modules/apache-arrow'])].filter(
    (path) => !production.has(path),
  );
  const bytesOf = (path: string) => (existsSync(join(root, path)) ? folderBytes(join(root, path), true) : 0);
  const sum = (paths: Iterable<string>) => [...paths].reduce((n, p) => n + bytesOf(p), 0);
  const nodeBuild = join(root, 'node_modules/parquet-wasm/node');
  return {
    productionNodeModulesMB: round(sum(production) / MIB, 1),
    addedPackages: added.sort(),
    addedMB: round(sum(added) / MIB, 1),
    parquetWasmPackageMB: round(bytesOf('node_modules/parquet-wasm') / MIB, 1),
    parquetWasmNodeBuildMB: round(folderBytes(nodeBuild, false) / MIB, 2),
    parquetWasmWasmFileMB: round(lstatSync(join(nodeBuild, 'parquet_wasm_bg.wasm')).size / MIB, 2),
    apacheArrowPackageMB: round(bytesOf('node_modules/apache-arrow') / MIB, 1),
    apacheArrowWithDepsMB: round(sum(added.filter((p) => !p.startsWith('node_modules/parquet-wasm'))) / MIB, 1),
  };
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '3' },
      keep: { type: 'string' },
    },
  });
  const count = Number(values.count);
  const runs = Number(values.runs);
  const work = values.keep ?? (await mkdtemp(join(tmpdir(), 'parquet-compare-')));
  await mkdir(work, { recursive: true });
  const extractedAtMicros = Date.now() * 1000;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const duck = await instance.connect();
  try {
    const results = Object.fromEntries(VARIANTS.map((v) => [v, [] as ChildFigures[]])) as Record<
      Variant,
      ChildFigures[]
    >;
    let rowGroupRows: Record<string, number> | undefined;
    for (let run = 1; run <= runs; run++) {
      for (const variant of VARIANTS) {
        const dir = join(work, `${variant}-${run}`);
        await rm(dir, { recursive: true, force: true });
        const args = [
          '--child',
          variant,
          '--dir',
          dir,
          '--count',
          String(count),
          '--extracted',
          String(extractedAtMicros),
        ];
        if (rowGroupRows) args.push('--row-groups', JSON.stringify(rowGroupRows));
        const figures = runChild<ChildFigures>(args);
        process.stderr.write(`parquet-compare: run ${run} ${variant}: ${JSON.stringify(figures)}\n`);
        results[variant].push(figures);
        rowGroupRows ??= await largestRowGroups(duck, dir);
        // Keep the first run's files for the checks; later runs' only until measured.
        if (run > 1) await rm(dir, { recursive: true, force: true });
      }
    }
    const summary = Object.fromEntries(
      VARIANTS.map((variant) => {
        const all = results[variant];
        const best = (pick: (f: ChildFigures) => number) => round(Math.min(...all.map(pick)));
        return [
          variant,
          {
            writeSeconds: best((f) => f.writeSeconds),
            loadSeconds: best((f) => f.loadSeconds),
            totalSeconds: best((f) => f.totalSeconds),
            generateSeconds: best((f) => f.generateSeconds),
            peakOverBaselineMB: round(Math.min(...all.map((f) => f.peakOverBaselineMB)), 0),
            baselineMB: round(Math.min(...all.map((f) => f.baselineMB)), 0),
            baselineHeapFreeMB: round(Math.min(...all.map((f) => f.baselineHeapFreeMB)), 0),
            bytes: all[0]?.bytes,
            steps: all[0]?.steps && Object.keys(all[0].steps).map((k) => `${k} ${best((f) => f.steps?.[k] ?? 0)}`),
            wasmMemoryMB: all[0]?.wasmMemoryMB,
            allWriteSeconds: all.map((f) => round(f.writeSeconds)),
            allPeakMB: all.map((f) => round(f.peakOverBaselineMB, 0)),
          },
        ];
      }),
    );
    const rows = results.ours[0]?.rows;

    const checks: Record<string, Record<string, FileCheck>> = {};
    for (const table of TABLES) {
      const ours = join(work, 'ours-1', `${table.name}.parquet`);
      checks[table.name] = {};
      for (const variant of VARIANTS) {
        const file = join(work, `${variant}-1`, `${table.name}.parquet`);
        (checks[table.name] as Record<string, FileCheck>)[variant] = await checkFile(duck, table, file, ours);
      }
    }
    const agreement = Object.fromEntries(
      VARIANTS.map((variant) => {
        const differences: string[] = [];
        for (const table of TABLES) {
          const all = checks[table.name] as Record<string, FileCheck>;
          const mine = all[variant] as FileCheck;
          const ours = all.ours as FileCheck;
          if (mine.rows !== rows?.[table.name]) differences.push(`${table.name}: ${mine.rows} rows read`);
          if (mine.checksum !== ours.checksum) differences.push(`${table.name}: checksum`);
          if (mine.notInOurs || mine.onlyInOurs) {
            differences.push(`${table.name}: ${mine.notInOurs} rows not in ours, ${mine.onlyInOurs} only in ours`);
          }
          if (!mine.typesAsDeclared) differences.push(`${table.name}: types ${mine.typeDifferences.join('; ')}`);
          if (mine.repetitionDifferences) {
            differences.push(`${table.name}: ${mine.repetitionDifferences} columns not REQUIRED/OPTIONAL as declared`);
          }
        }
        const rowGroups = TABLES.map((t) => (checks[t.name] as Record<string, FileCheck>)[variant]?.rowGroups);
        const codecs = [...new Set(TABLES.map((t) => (checks[t.name] as Record<string, FileCheck>)[variant]?.codecs))];
        return [variant, { agrees: differences.length === 0, differences, rowGroups, codecs }];
      }),
    );

    const checkpointDir = join(work, 'checkpoint');
    const checkpoint = runChild<Record<string, unknown>>(['--checkpoint', '--dir', checkpointDir]);
    const checkpointRead = await checkCheckpoint(duck, join(checkpointDir, 'checkpoint.parquet'));

    const packages = packageSizes(fileURLToPath(new URL('../..', import.meta.url)));
    const report = {
      count,
      runs,
      rows,
      rowGroupRows,
      summary,
      agreement,
      checksums: Object.fromEntries(
        TABLES.map((t) => [t.name, (checks[t.name] as Record<string, FileCheck>).ours?.checksum]),
      ),
      checkpoint: { ...checkpoint, ...checkpointRead },
      packages,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    duck.closeSync();
    instance.closeSync();
    if (!values.keep) await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    strict: false,
    options: {
      child: { type: 'string' },
      checkpoint: { type: 'boolean' },
      dir: { type: 'string' },
      count: { type: 'string' },
      extracted: { type: 'string' },
      'row-groups': { type: 'string' },
    },
  });
  if (typeof values.child === 'string') {
    const variant = values.child as Variant;
    if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
    const figures = await child(variant, {
      dir: String(values.dir),
      count: Number(values.count),
      extractedAtMicros: Number(values.extracted),
      rowGroupRows: JSON.parse(String(values['row-groups'] ?? '{}')) as Record<string, number>,
    });
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } else if (values.checkpoint) {
    process.stdout.write(`${JSON.stringify(await checkpointChild(String(values.dir)))}\n`);
  } else {
    await parent();
  }
}

await main();

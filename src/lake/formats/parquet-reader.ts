/**
 * Reads the lake's Parquet files back, one row group at a time, into rows of a declared table: for
 * the app's own readers of the lake (the flow trigger), never the tests' judge (they use DuckDB).
 *
 * parquet-wasm decodes and Arrow carries the values; the file is read by byte ranges (the footer,
 * then the row group asked for), so a reader holds one row group whatever the file's size. Cells
 * come back as the writers take them (table.ts): timestamps as epoch microseconds, dates as
 * `YYYY-MM-DD`, int64 as numbers.
 */
import type { Cell, ColumnSpec, Row, TableSpec } from '../../schema/table.js';
import type { StorageTarget } from '../storage/storage.js';

export interface ParquetRowGroups {
  readonly path: string;
  readonly rowGroups: number;
  /** The rows of one row group, in file order, with the table's columns (missing ones null). */
  read(rowGroup: number): Promise<Row[]>;
  /** Frees what the decoder holds for the file (WebAssembly memory the garbage collector does not see). */
  close(): void;
}

/** Opens a Parquet file of `size` bytes in the lake for row-group reads; reads its footer now. */
export async function openParquetRowGroups(
  target: StorageTarget,
  path: string,
  size: number,
  table: TableSpec,
): Promise<ParquetRowGroups> {
  const [parquet, arrow] = await Promise.all([import('parquet-wasm'), import('apache-arrow')]);
  const file = await parquet.ParquetFile.fromFile(rangedBlob(target, path, size) as unknown as Blob);
  const rowGroups = file.metadata().numRowGroups();
  return {
    path,
    rowGroups,
    async read(rowGroup) {
      if (!Number.isInteger(rowGroup) || rowGroup < 0 || rowGroup >= rowGroups) {
        throw new RangeError(`${path} has ${rowGroups} row groups, not a row group ${rowGroup}`);
      }
      const wasmTable = await file.read({ rowGroups: [rowGroup] });
      return toRows(arrow.tableFromIPC(wasmTable.intoIPCStream()), table);
    },
    close() {
      file.free();
    },
  };
}

/**
 * What parquet-wasm reads a file through: the size, and slices whose bytes come from the lake only
 * when asked for. (It takes a Blob; this is the part of one it uses.)
 */
function rangedBlob(target: StorageTarget, path: string, size: number) {
  return {
    size,
    slice(start: number, end: number) {
      return {
        async arrayBuffer(): Promise<ArrayBuffer> {
          if (end <= start) return new ArrayBuffer(0);
          const bytes = await target.readRange(path, start, end - start);
          if (!bytes) throw new Error(`${path} disappeared while it was read`);
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
        },
      };
    },
  };
}

interface ArrowData {
  readonly type: { readonly unit?: number };
  readonly length: number;
  readonly values: ArrayLike<unknown>;
  getValid(index: number): boolean;
}

interface ArrowColumn {
  readonly data: readonly ArrowData[];
  get(index: number): unknown;
}

interface ArrowTable {
  readonly numRows: number;
  getChild(name: string): ArrowColumn | null;
}

function toRows(table: ArrowTable, spec: TableSpec): Row[] {
  const columns = spec.columns.map((column) => {
    const values = table.getChild(column.name);
    return { name: column.name, cells: values ? columnCells(column, values) : undefined };
  });
  const rows: Row[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, Cell> = {};
    for (const { name, cells } of columns) row[name] = cells?.[i] ?? null;
    rows.push(row);
  }
  return rows;
}

const DAY_MS = 86_400_000;

/** Arrow's TimeUnit: another writer's file may hold seconds, milliseconds or nanoseconds. */
const MICROSECOND = 2;
const TO_MICROS: Readonly<Record<number, (value: bigint) => number>> = {
  0: (v) => Number(v) * 1_000_000,
  1: (v) => Number(v) * 1000,
  2: (v) => Number(v),
  3: (v) => Number(v / 1000n),
};

/** A column's cells, as the writers were given them. */
function columnCells(column: ColumnSpec, vector: ArrowColumn): Cell[] {
  const cells: Cell[] = [];
  if (column.type === 'timestamp') {
    // The stored microseconds themselves: Arrow's get() gives fractional milliseconds, a double that
    // loses microseconds far from 1970.
    for (const data of vector.data) {
      const toMicros = TO_MICROS[data.type.unit ?? MICROSECOND] ?? ((v: bigint) => Number(v));
      for (let j = 0; j < data.length; j++) cells.push(data.getValid(j) ? toMicros(data.values[j] as bigint) : null);
    }
    return cells;
  }
  const length = vector.data.reduce((sum, data) => sum + data.length, 0);
  for (let i = 0; i < length; i++) cells.push(toCell(column, vector.get(i)));
  return cells;
}

/** Arrow's value for a cell of `column`'s type (not a timestamp) back to the writers' cell. */
function toCell(column: ColumnSpec, value: unknown): Cell {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'date':
      return new Date(Math.round(Number(value) / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    case 'int64':
    case 'double':
      return Number(value);
    case 'boolean':
      return Boolean(value);
    default:
      return String(value);
  }
}

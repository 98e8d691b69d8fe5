/**
 * Parquet's Thrift structures for a flat table, named after parquet.thrift: the schema (physical,
 * converted AND logical types, so old and new readers agree), page headers (V1 data pages and
 * dictionary pages), column chunk metadata with statistics, and the footer.
 *
 * Type mapping (what Synapse serverless, Spark/Fabric, Power BI and DuckDB read):
 *   string    BYTE_ARRAY  UTF8             STRING
 *   int64     INT64       -                -
 *   double    DOUBLE      -                -
 *   boolean   BOOLEAN     -                -
 *   timestamp INT64       TIMESTAMP_MICROS TIMESTAMP(isAdjustedToUTC=true, MICROS)
 *   date      INT32       DATE             DATE
 * TIMESTAMP_MICROS as a converted type already means "adjusted to UTC" in the spec; writing the
 * logical type as well is what makes DuckDB read TIMESTAMP WITH TIME ZONE (no shift in another zone).
 */
import type { ColumnSpec, ColumnType, TableSpec } from '../../../schema/table.js';
import {
  binary,
  bool,
  i16,
  i32,
  i64,
  list,
  serialize,
  struct,
  type ThriftStruct,
  type ThriftValue,
  text,
} from './thrift.js';

export type PhysicalType = 'BOOLEAN' | 'INT32' | 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
export type Encoding = 'PLAIN' | 'PLAIN_DICTIONARY' | 'RLE';

const PHYSICAL: Record<PhysicalType, number> = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 };
const ENCODING: Record<Encoding, number> = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3 };
const CONVERTED = { UTF8: 0, DATE: 6, TIMESTAMP_MICROS: 10 } as const;
const REQUIRED = 0;
const OPTIONAL = 1;
/** Per column chunk (column-writer.ts decides). */
export type Codec = 'SNAPPY' | 'UNCOMPRESSED';
const CODEC: Record<Codec, number> = { UNCOMPRESSED: 0, SNAPPY: 1 };
const PAGE_TYPE = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;
/** Readers key some workarounds on created_by; the "<app> version <v>" shape is the conventional one. */
const CREATED_BY = 'referrals-lake version 0.1.0';

const PHYSICAL_TYPE: Record<ColumnType, PhysicalType> = {
  string: 'BYTE_ARRAY',
  int64: 'INT64',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'INT64',
  date: 'INT32',
};

export interface Statistics {
  readonly nullCount: number;
  /** PLAIN-encoded bounds (strings without the length prefix); absent when unknown or too long. */
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

export interface ColumnChunkMeta {
  readonly column: ColumnSpec;
  readonly encodings: readonly Encoding[];
  /** Rows in the chunk, nulls included (a flat column has one value slot per row). */
  readonly numValues: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly codec: Codec;
  readonly dataPageOffset: number;
  readonly dictionaryPageOffset?: number;
  readonly statistics: Statistics;
}

export interface RowGroupMeta {
  readonly columns: readonly ColumnChunkMeta[];
  readonly numRows: number;
  readonly fileOffset: number;
  readonly compressedSize: number;
  readonly ordinal: number;
}

export function dataPageHeader(
  numValues: number,
  encoding: Encoding,
  uncompressed: number,
  compressed: number,
): Buffer {
  return serialize(
    struct(
      [1, i32(PAGE_TYPE.DATA_PAGE)],
      [2, i32(uncompressed)],
      [3, i32(compressed)],
      [5, struct([1, i32(numValues)], [2, i32(ENCODING[encoding])], [3, i32(ENCODING.RLE)], [4, i32(ENCODING.RLE)])],
    ),
  );
}

export function dictionaryPageHeader(numEntries: number, uncompressed: number, compressed: number): Buffer {
  return serialize(
    struct(
      [1, i32(PAGE_TYPE.DICTIONARY_PAGE)],
      [2, i32(uncompressed)],
      [3, i32(compressed)],
      [7, struct([1, i32(numEntries)], [2, i32(ENCODING.PLAIN_DICTIONARY)], [3, bool(false)])],
    ),
  );
}

/** The footer: FileMetaData, its length and the closing magic. */
export function footer(spec: TableSpec, rowGroups: readonly RowGroupMeta[]): Buffer {
  const numRows = rowGroups.reduce((sum, group) => sum + group.numRows, 0);
  const metadata = serialize(
    struct(
      [1, i32(1)],
      [2, list('struct', [rootElement(spec), ...spec.columns.map(schemaElement)])],
      [3, i64(numRows)],
      [4, list('struct', rowGroups.map(rowGroup))],
      [6, text(CREATED_BY)],
      // TYPE_ORDER for every column: readers may then trust min_value/max_value.
      [
        7,
        list(
          'struct',
          spec.columns.map(() => struct([1, struct()])),
        ),
      ],
    ),
  );
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(metadata.length, 0);
  tail.write('PAR1', 4, 'latin1');
  return Buffer.concat([metadata, tail]);
}

export const MAGIC = Buffer.from('PAR1', 'latin1');

function rootElement(spec: TableSpec): ThriftStruct {
  return struct([4, text('schema')], [5, i32(spec.columns.length)]);
}

function schemaElement(column: ColumnSpec): ThriftStruct {
  return struct(
    [1, i32(PHYSICAL[PHYSICAL_TYPE[column.type]])],
    [3, i32(column.nullable ? OPTIONAL : REQUIRED)],
    [4, text(column.name)],
    [6, convertedType(column.type)],
    [10, logicalType(column.type)],
  );
}

function convertedType(type: ColumnType): ThriftValue | undefined {
  if (type === 'string') return i32(CONVERTED.UTF8);
  if (type === 'timestamp') return i32(CONVERTED.TIMESTAMP_MICROS);
  if (type === 'date') return i32(CONVERTED.DATE);
  return undefined;
}

/** LogicalType is a union: STRING = 1, DATE = 6, TIMESTAMP = 8 { isAdjustedToUTC, unit: MICROS = 2 }. */
function logicalType(type: ColumnType): ThriftValue | undefined {
  if (type === 'string') return struct([1, struct()]);
  if (type === 'date') return struct([6, struct()]);
  if (type === 'timestamp') return struct([8, struct([1, bool(true)], [2, struct([2, struct()])])]);
  return undefined;
}

function rowGroup(group: RowGroupMeta): ThriftStruct {
  const uncompressed = group.columns.reduce((sum, c) => sum + c.uncompressedSize, 0);
  return struct(
    [1, list('struct', group.columns.map(columnChunk))],
    [2, i64(uncompressed)],
    [3, i64(group.numRows)],
    [5, i64(group.fileOffset)],
    [6, i64(group.compressedSize)],
    [7, i16(group.ordinal)],
  );
}

function columnChunk(chunk: ColumnChunkMeta): ThriftStruct {
  const start = chunk.dictionaryPageOffset ?? chunk.dataPageOffset;
  return struct(
    [2, i64(start)],
    [
      3,
      struct(
        [1, i32(PHYSICAL[PHYSICAL_TYPE[chunk.column.type]])],
        [
          2,
          list(
            'i32',
            chunk.encodings.map((e) => i32(ENCODING[e])),
          ),
        ],
        [3, list('binary', [text(chunk.column.name)])],
        [4, i32(CODEC[chunk.codec])],
        [5, i64(chunk.numValues)],
        [6, i64(chunk.uncompressedSize)],
        [7, i64(chunk.compressedSize)],
        [9, i64(chunk.dataPageOffset)],
        [11, chunk.dictionaryPageOffset === undefined ? undefined : i64(chunk.dictionaryPageOffset)],
        [12, statistics(chunk.column.type, chunk.statistics)],
      ),
    ],
  );
}

/**
 * min_value/max_value (5, 6) for every type; the deprecated min/max (2, 1) too for numbers, as
 * parquet-mr does, for readers that predate the new fields. Not for strings: old readers compared
 * those as signed bytes.
 */
function statistics(type: ColumnType, stats: Statistics): ThriftStruct {
  const bounds = stats.min !== undefined && stats.max !== undefined;
  const legacy = bounds && type !== 'string';
  return struct(
    [1, legacy && stats.max ? binary(stats.max) : undefined],
    [2, legacy && stats.min ? binary(stats.min) : undefined],
    [3, i64(stats.nullCount)],
    [5, bounds && stats.max ? binary(stats.max) : undefined],
    [6, bounds && stats.min ? binary(stats.min) : undefined],
  );
}

/**
 * The Delta Lake actions this project writes, as PROTOCOL.md (delta-io/delta) defines them, and the
 * table schema they carry, built from the table declaration. Reader version 1 and writer version 2,
 * no table features: what Synapse serverless (Delta 1.0), Fabric, Databricks, delta-rs and DuckDB
 * all read. Nothing here touches storage.
 */
import type { ColumnSpec, ColumnType, TableSpec } from '../../schema/table.js';

export const READER_VERSION = 1;
export const WRITER_VERSION = 2;

export interface ProtocolAction {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  readonly readerFeatures?: readonly string[];
  readonly writerFeatures?: readonly string[];
}

export interface MetadataAction {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly format: { readonly provider: string; readonly options: Readonly<Record<string, string>> };
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  readonly createdTime?: number;
}

export interface AddAction {
  /** Relative to the table's folder, URI-encoded (RFC 2396). */
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  /** JSON text: numRecords, minValues, maxValues, nullCount (stats.ts). */
  readonly stats?: string;
}

export interface RemoveAction {
  readonly path: string;
  readonly deletionTimestamp: number;
  readonly dataChange: boolean;
  readonly extendedFileMetadata?: boolean;
  readonly partitionValues?: Readonly<Record<string, string | null>>;
  readonly size?: number;
}

export interface TxnAction {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number;
}

export interface CommitInfoAction {
  readonly timestamp: number;
  readonly operation: string;
  readonly operationParameters: Readonly<Record<string, string>>;
  readonly isBlindAppend?: boolean;
  readonly engineInfo?: string;
  readonly [key: string]: unknown;
}

/** One line of a commit file: exactly one action. */
export type Action =
  | { readonly commitInfo: CommitInfoAction }
  | { readonly protocol: ProtocolAction }
  | { readonly metaData: MetadataAction }
  | { readonly add: AddAction }
  | { readonly remove: RemoveAction }
  | { readonly txn: TxnAction };

export const PROTOCOL: ProtocolAction = { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION };

/**
 * Delta's primitive type for each declared column type. Timestamps are Delta `timestamp`: UTC-adjusted
 * microseconds, as the Parquet files hold them (`timestamp_ntz` would need a table feature).
 */
const DELTA_TYPES: Record<ColumnType, string> = {
  string: 'string',
  int64: 'long',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
  date: 'date',
};

export function deltaType(column: ColumnSpec): string {
  return DELTA_TYPES[column.type];
}

/** The schema as Delta serializes it (a struct type as JSON text), with each column's doc as its comment. */
export function schemaString(spec: TableSpec): string {
  return JSON.stringify({
    type: 'struct',
    fields: spec.columns.map((column) => ({
      name: column.name,
      type: deltaType(column),
      nullable: column.nullable,
      metadata: { comment: column.doc },
    })),
  });
}

export interface TableIdentity {
  /** The table's id, kept for its life (metaData.id). */
  readonly id: string;
  readonly spec: TableSpec;
  readonly partitionColumns?: readonly string[];
  readonly createdTime: number;
}

export function metadataAction({ id, spec, partitionColumns = [], createdTime }: TableIdentity): MetadataAction {
  for (const name of partitionColumns) {
    if (!spec.columns.some((c) => c.name === name)) {
      throw new Error(`${spec.name}: partition column ${name} is not a column of the table`);
    }
  }
  return {
    id,
    name: spec.name,
    description: spec.doc,
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(spec),
    partitionColumns: [...partitionColumns],
    configuration: {},
    createdTime,
  };
}

/** One line per action, each ending in `\n`: the commit file's bytes. */
export function serializeCommit(actions: readonly Action[]): Buffer {
  return Buffer.from(actions.map((action) => `${JSON.stringify(action)}\n`).join(''), 'utf8');
}

/**
 * A data file's path as the log holds it: relative to the table folder, each segment percent-encoded
 * (RFC 2396), `/` kept. Partition folders (`snapshot_date=2026-12-06`) keep their `=`.
 */
export function encodeDataPath(relative: string): string {
  return relative
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%3D/g, '='))
    .join('/');
}

export function decodeDataPath(uri: string): string {
  return decodeURIComponent(uri);
}

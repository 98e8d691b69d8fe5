/**
 * The one interface every lake file writer has: rows (or raw JSON values) in, one file out through
 * a storage sink, with what the manifest needs back. Writers stream: memory is bounded by one row
 * group (Parquet) or one buffered chunk (NDJSON), never by the file.
 */
import type { Row } from '../../schema/table.js';

export interface FileSummary {
  readonly rows: number;
  /** Bytes of the file as stored (compressed, for `.gz`). */
  readonly bytes: number;
  /** Hex SHA-256 of the stored bytes, for the manifest and for readers that verify. */
  readonly sha256: string;
}

export interface FileWriter<T> {
  /** Resolves once the item is buffered or flushed; await it, since it is the backpressure. */
  write(item: T): Promise<void>;
  /** Flushes, finishes the format (footer, gzip trailer) and commits the file. */
  close(): Promise<FileSummary>;
  /** Discards the file; nothing becomes visible. Safe after a failure and more than once. */
  abort(): Promise<void>;
}

export type TableFileWriter = FileWriter<Row>;

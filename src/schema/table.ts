/**
 * The shape of a flat lake table, as data. Each table (referrals and one per array) is declared
 * once with these types; the declaration drives the normalizer, the Parquet schema, the NDJSON rows
 * and docs/schema.md.
 */

/**
 * Column types, chosen for what Synapse serverless, Spark/Fabric, Power BI and DuckDB all read:
 * - string: UTF-8 (Parquet BYTE_ARRAY, STRING logical type)
 * - int64: whole numbers (ordinals, counts)
 * - double: deal values (estimates, in many currencies; DOUBLE reads everywhere, DECIMAL not always)
 * - boolean
 * - timestamp: an instant, UTC, microsecond precision (Parquet INT64 TIMESTAMP(isAdjustedToUTC, MICROS))
 * - date: a calendar date (Parquet INT32 DATE)
 */
export type ColumnType = 'string' | 'int64' | 'double' | 'boolean' | 'timestamp' | 'date';

export interface ColumnSpec {
  /** snake_case, keeping the source path: `customer_address_country`. */
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /**
   * Where the value comes from: a `/`-separated path in the referral JSON (relative to the array
   * item for child tables), or a bracketed origin for values the pipeline makes:
   * `[lineage]`, `[derived]`, `[ordinal]`, `[parent]`.
   */
  readonly source: string;
  /** One line for docs/schema.md and the analytics views. */
  readonly doc: string;
}

export interface TableSpec {
  /** Folder name in the lake: `referrals`, `referral_products`, … */
  readonly name: string;
  readonly doc: string;
  /** For child tables: the array in the referral JSON that gives one row per item. */
  readonly arrayPath?: string;
  readonly columns: readonly ColumnSpec[];
}

/**
 * One cell in memory. Timestamps are epoch microseconds (a number: exact up to the year 2255);
 * dates are `YYYY-MM-DD` strings; everything else is its JSON type. Writers turn these into each
 * format's own representation.
 */
export type Cell = string | number | boolean | null;

export type Row = Readonly<Record<string, Cell>>;

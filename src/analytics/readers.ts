/**
 * What every analytics rendering shares: how each declared type is spelled by each reader, and the
 * small pieces of Synapse SQL and Power Query M that more than one file is built from (render.ts
 * for the tables, status-history.ts for the referral_status_history view).
 */
import type { ColumnSpec, ColumnType } from '../schema/table.js';
import { SCHEMA_VERSION, schemaFingerprint } from '../schema/tables.js';

/**
 * Each declared type as every reader spells it: the one mapping the files and their test share.
 * `duckdb` is how DuckDB reads our Parquet (TIMESTAMP(isAdjustedToUTC) → WITH TIME ZONE): no
 * analytics file uses it, the tests and the Parquet benchmark do (see duckdbType).
 */
export const READER_TYPES: Readonly<
  Record<ColumnType, { synapse: string; powerQuery: string; spark: string; duckdb: string }>
> = {
  string: { synapse: 'VARCHAR(8000)', powerQuery: 'type text', spark: 'STRING', duckdb: 'VARCHAR' },
  int64: { synapse: 'BIGINT', powerQuery: 'Int64.Type', spark: 'BIGINT', duckdb: 'BIGINT' },
  double: { synapse: 'FLOAT', powerQuery: 'type number', spark: 'DOUBLE', duckdb: 'DOUBLE' },
  boolean: { synapse: 'BIT', powerQuery: 'type logical', spark: 'BOOLEAN', duckdb: 'BOOLEAN' },
  // UTC instants with microseconds. Power Query gets them as datetime holding UTC (see the query).
  timestamp: {
    synapse: 'DATETIME2(6)',
    powerQuery: 'type datetime',
    spark: 'TIMESTAMP',
    duckdb: 'TIMESTAMP WITH TIME ZONE',
  },
  date: { synapse: 'DATE', powerQuery: 'type date', spark: 'DATE', duckdb: 'DATE' },
};

/** Free text that can pass VARCHAR(8000)'s 8,000 UTF-8 bytes. */
export const LONG_TEXT_COLUMNS: ReadonlySet<string> = new Set(['details_notes', 'invite_context_notes', '_extra_json']);

export function synapseType(column: ColumnSpec): string {
  return column.type === 'string' && LONG_TEXT_COLUMNS.has(column.name)
    ? 'VARCHAR(MAX)'
    : READER_TYPES[column.type].synapse;
}

/**
 * The DuckDB type a column reads as from our Parquet, as `DESCRIBE` names it; also what to declare
 * for it when DuckDB reads our NDJSON (`read_json(…, columns = {…})`).
 */
export function duckdbType(column: ColumnSpec): string {
  return READER_TYPES[column.type].duckdb;
}

export const SYNAPSE_DATA_SOURCE = 'referrals_lake';
export const SYNAPSE_DATABASE = 'referrals_lake';

/** The first line of every generated file, in the file's comment syntax. */
export function generatedHeader(comment: string): string {
  return `${comment} Generated from src/schema/tables.ts by src/analytics/render.ts (schema version ${SCHEMA_VERSION}, fingerprint ${schemaFingerprint()}): do not edit, run \`npm run analytics:gen\`.`;
}

export function oneLine(text: string): string {
  return text.replaceAll('\n', ' ');
}

// ---------------------------------------------------------------------------------------------
// Synapse serverless SQL

/** The column lines of an OPENROWSET WITH (…) block: name, type, and the column's doc as a comment. */
export function synapseWithClause(columns: readonly ColumnSpec[], indent = '    '): string {
  const width = Math.max(...columns.map((c) => c.name.length));
  return columns
    .map((c, i) => {
      const comma = i < columns.length - 1 ? ',' : '';
      return `${indent}${`${c.name} ${synapseType(c)}${comma}`.padEnd(width + 16)} -- ${oneLine(c.doc)}`.trimEnd();
    })
    .join('\n');
}

/**
 * OPENROWSET over a Delta table's root folder (with the trailing slash Synapse expects): the log
 * names the files of the current version, partition columns included; never a glob.
 */
export function synapseDeltaRowset(folder: string, columns: readonly ColumnSpec[], indent = ''): string {
  return [
    'OPENROWSET(',
    `    BULK '${folder}/',`,
    `    DATA_SOURCE = '${SYNAPSE_DATA_SOURCE}',`,
    `    FORMAT = 'DELTA'`,
    ') WITH (',
    synapseWithClause(columns),
    ')',
  ]
    .map((line, i) => (i === 0 ? line : `${indent}${line}`))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Power Query M

/** `{ a, b }` laid out one item a line, as the queries' steps show their lists. */
export function mList(items: readonly string[], indent = '        '): string {
  return `{\n${items.map((s) => `${indent}    ${s}`).join(',\n')}\n${indent}}`;
}

/** The steps that open a Delta table of the lake, keep `columns` and give timestamps as datetime holding UTC. */
export function powerQueryOpen(folder: string, columns: readonly ColumnSpec[]): string {
  const timestamps = columns.filter((c) => c.type === 'timestamp');
  return `    Folder = AzureStorage.DataLake(LakeUrl & "/${folder}", [HierarchicalNavigation = true]),
    Combined = DeltaLake.Table(Folder),
    Columns = Table.SelectColumns(
        Combined,
        ${mList(columns.map((c) => `"${c.name}"`))}
    ),
    // Timestamps are UTC instants: kept as datetime holding UTC whether the reader yields datetime or datetimezone.
    Utc = Table.TransformColumns(
        Columns,
        ${mList(timestamps.map((c) => `{"${c.name}", each if _ is datetimezone then DateTimeZone.RemoveZone(DateTimeZone.ToUtc(_)) else _, type datetime}`))}
    ),`;
}

/** `Table.TransformColumnTypes` items for the columns (timestamps are typed by the Utc step or by their own step). */
export function powerQueryTypes(columns: readonly ColumnSpec[]): string {
  return mList(columns.map((c) => `{"${c.name}", ${READER_TYPES[c.type].powerQuery}}`));
}

/** How a query starts: the header and how to use it; `what` says what the query gives. */
export function powerQueryPreamble(what: string): string {
  return `${generatedHeader('//')}
//
// ${what}
// Power BI Desktop: Get data > Blank query > Advanced editor, paste, then sign in to
// "Azure Data Lake Storage Gen2" with an organisational account that may read the table folders
// (ADLS Gen2 ACLs: docs/security.md). Set LakeUrl to the azd output LAKE_DFS_URL + the container (+ /LAKE_PREFIX).
let
    LakeUrl = "https://<account>.dfs.core.windows.net/referrals-lake",`;
}

/**
 * The analytics files, generated from TABLES and the lake layout so their column lists cannot drift
 * from what the sync writes (test/analytics/columns.test.ts compares the committed files with this
 * rendering, and checks them against TABLES and against Parquet a real sync wrote):
 *
 * - analytics/synapse/*.sql: serverless SQL views, one file per table: its snapshots over OPENROWSET
 *   with wildcards (partition columns from filepath()), its latest state as the Delta table it is
 *   (FORMAT = 'DELTA': the log says which files, never a glob);
 * - analytics/powerbi/<table>_latest.pq: Power Query M reading a latest table with DeltaLake.Table;
 * - analytics/spark/read_lake.py: PySpark (Synapse Spark, Fabric, Databricks) readers.
 *
 * CLI (after `npm run build`): `node dist/src/analytics/render.js --write` writes them under the
 * working directory; `--check` exits 1 when any is stale. `npm run analytics:gen` does the first.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { latestFolder, partitionFolder, RUNS_FOLDER } from '../lake/layout/paths.js';
import type { ColumnSpec, ColumnType, TableSpec } from '../schema/table.js';
import { HISTORY_TABLES, SCHEMA_VERSION, schemaFingerprint, TABLES } from '../schema/tables.js';

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

/**
 * The partition folders under a table, in order, from the layout itself: `[{name, index}]` where
 * `index` is the filepath() argument (1-based position of the folder's wildcard in the BULK path).
 */
export function partitionColumns(): { name: string; type: ColumnType }[] {
  const sample = partitionFolder({ table: 't', snapshotDate: '2026-01-02', runId: '20260102T030405Z-abcd' });
  return sample
    .split('/')
    .slice(1)
    .map((segment) => {
      const name = segment.split('=')[0] ?? '';
      return { name, type: name === 'snapshot_date' ? 'date' : 'string' };
    });
}

/** `referrals/snapshot_date=*\/run_id=*\/*.parquet`: every snapshot file of a table. */
export function snapshotGlob(table: string): string {
  const folders = partitionColumns().map((p) => `${p.name}=*`);
  return [table, ...folders, '*.parquet'].join('/');
}

/** A latest table's folder for OPENROWSET: the Delta table's root, with the trailing slash Synapse expects. */
export function latestTableBulk(table: string): string {
  return `${latestFolder(table)}/`;
}

const GENERATED = (comment: string) =>
  `${comment} Generated from src/schema/tables.ts by src/analytics/render.ts (schema version ${SCHEMA_VERSION}, fingerprint ${schemaFingerprint()}): do not edit, run \`npm run analytics:gen\`.`;

// ---------------------------------------------------------------------------------------------
// Synapse serverless SQL

function synapseSetup(): string {
  return `${GENERATED('--')}
--
-- Run once in the Synapse serverless SQL pool ("Built-in"), connected to master, then run
-- 01-runs.sql and every table file in the new database (any order). Replace <account> with the
-- lake account (azd output LAKE_STORAGE_ACCOUNT_NAME); add /<LAKE_PREFIX> to LOCATION if one is set.
--
-- The UTF-8 binary collation is what serverless SQL reads Parquet strings best with (and it
-- pushes filters down); comparisons are then case-sensitive: status = 'New', not 'new'.
CREATE DATABASE ${SYNAPSE_DATABASE} COLLATE Latin1_General_100_BIN2_UTF8;
GO
USE ${SYNAPSE_DATABASE};
GO
-- No credential: each reader's own Entra identity is passed through to the lake, so reading a view
-- needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md).
CREATE EXTERNAL DATA SOURCE ${SYNAPSE_DATA_SOURCE}
WITH (LOCATION = 'https://<account>.dfs.core.windows.net/referrals-lake');
GO
`;
}

function synapseRuns(): string {
  // ISO 8601 instants ('…Z') convert with style 127; everything else casts.
  const field = (name: string, path: string, type: string) =>
    type.startsWith('DATETIME2')
      ? `    CONVERT(${type}, JSON_VALUE(m.doc, '$.${path}'), 127) AS ${name}`
      : `    CAST(JSON_VALUE(m.doc, '$.${path}') AS ${type}) AS ${name}`;
  return `${GENERATED('--')}
--
-- runs: one row per committed sync run, read from its manifest (${RUNS_FOLDER}/<run_id>.json, written
-- last). The snapshot views keep only partitions whose run is here, so a run that died half-way is
-- never read. Each manifest is read whole as one value (0x0b never occurs in it).
CREATE OR ALTER VIEW dbo.runs AS
SELECT
${[
  field('run_id', 'runId', 'VARCHAR(24)'),
  field('status', 'status', 'VARCHAR(20)'),
  field('mode', 'mode', 'VARCHAR(20)'),
  field('snapshot_date', 'snapshotDate', 'DATE'),
  field('started_at', 'startedAt', 'DATETIME2(3)'),
  field('finished_at', 'finishedAt', 'DATETIME2(3)'),
  field('duration_seconds', 'durationSeconds', 'FLOAT'),
  field('referrals', 'counts.referrals', 'BIGINT'),
  field('quarantined', 'counts.quarantined', 'BIGINT'),
  field('schema_version', 'schemaVersion', 'INT'),
  field('watermark', 'watermark', 'DATETIME2(7)'),
].join(',\n')}
FROM OPENROWSET(
    BULK '${RUNS_FOLDER}/*.json',
    DATA_SOURCE = '${SYNAPSE_DATA_SOURCE}',
    FORMAT = 'CSV',
    FIELDTERMINATOR = '0x0b',
    FIELDQUOTE = '0x0b',
    ROWTERMINATOR = '0x0b'
) WITH (doc VARCHAR(MAX)) AS m;
GO
`;
}

function withClause(table: TableSpec): string {
  const width = Math.max(...table.columns.map((c) => c.name.length));
  return table.columns
    .map((c, i) => {
      const comma = i < table.columns.length - 1 ? ',' : '';
      return `    ${`${c.name} ${synapseType(c)}${comma}`.padEnd(width + 16)} -- ${oneLine(c.doc)}`.trimEnd();
    })
    .join('\n');
}

function synapseTable(table: TableSpec): string {
  const partitions = partitionColumns()
    .map((p, i) => `    CAST(r.filepath(${i + 1}) AS ${p.type === 'date' ? 'DATE' : 'VARCHAR(24)'}) AS ${p.name}`)
    .join(',\n');
  const runIndex = partitionColumns().findIndex((p) => p.name === 'run_id') + 1;
  return `${GENERATED('--')}
--
-- ${table.name}: ${oneLine(table.doc)}
-- ${table.name}_latest: the same columns, current state only (one version per referral).
-- Columns and types: docs/schema.md.

-- Every committed snapshot; snapshot_date and run_id come from the partition folders.
CREATE OR ALTER VIEW dbo.${table.name} AS
SELECT
    r.*,
${partitions}
FROM OPENROWSET(
    BULK '${snapshotGlob(table.name)}',
    DATA_SOURCE = '${SYNAPSE_DATA_SOURCE}',
    FORMAT = 'PARQUET'
) WITH (
${withClause(table)}
) AS r
WHERE r.filepath(${runIndex}) IN (SELECT run_id FROM dbo.runs);
GO

-- The current state: a Delta table, overwritten by one commit every run. Its log names the files
-- of the current version; older files stay for time travel, so never read its folder by a glob.
${deltaView(latestFolder(table.name), latestTableBulk(table.name), table)}`;
}

/** A view over a Delta table's folder: its log says which files are the current version. */
function deltaView(view: string, folder: string, table: TableSpec): string {
  return `CREATE OR ALTER VIEW dbo.${view} AS
SELECT r.*
FROM OPENROWSET(
    BULK '${folder}',
    DATA_SOURCE = '${SYNAPSE_DATA_SOURCE}',
    FORMAT = 'DELTA'
) WITH (
${withClause(table)}
) AS r;
GO
`;
}

/** A table the sync keeps as a Delta table at the lake root (referrals_vanished): one view over its log. */
function synapseDeltaTable(table: TableSpec): string {
  return `${GENERATED('--')}
--
-- ${table.name}: ${oneLine(table.doc)}
-- Columns and types: docs/schema.md.

-- A Delta table, appended by the sync: its log names the files (never read its folder by a glob).
${deltaView(table.name, `${table.name}/`, table)}`;
}

// ---------------------------------------------------------------------------------------------
// Power Query M

function powerQuery(table: TableSpec, folder: string = latestFolder(table.name)): string {
  const names = table.columns.map((c) => `"${c.name}"`);
  const timestamps = table.columns.filter((c) => c.type === 'timestamp');
  const others = table.columns.filter((c) => c.type !== 'timestamp');
  const list = (items: readonly string[]) => `{\n${items.map((s) => `            ${s}`).join(',\n')}\n        }`;
  return `${GENERATED('//')}
//
// ${folder}: ${oneLine(table.doc)}${folder === latestFolder(table.name) ? ' Current state, one version per referral.' : ''}
// A Delta table: DeltaLake.Table follows its log to the current version's files.
// Power BI Desktop: Get data > Blank query > Advanced editor, paste, then sign in to
// "Azure Data Lake Storage Gen2" with an organisational account that may read the table folders
// (ADLS Gen2 ACLs: docs/security.md). Set LakeUrl to the azd output LAKE_DFS_URL + the container (+ /LAKE_PREFIX).
let
    LakeUrl = "https://<account>.dfs.core.windows.net/referrals-lake",
    Folder = AzureStorage.DataLake(LakeUrl & "/${folder}", [HierarchicalNavigation = true]),
    Combined = DeltaLake.Table(Folder),
    Columns = Table.SelectColumns(
        Combined,
        ${list(names)}
    ),
    // Timestamps are UTC instants: kept as datetime holding UTC whether the reader yields datetime or datetimezone.
    Utc = Table.TransformColumns(
        Columns,
        ${list(timestamps.map((c) => `{"${c.name}", each if _ is datetimezone then DateTimeZone.RemoveZone(DateTimeZone.ToUtc(_)) else _, type datetime}`))}
    ),
    Typed = Table.TransformColumnTypes(
        Utc,
        ${list(others.map((c) => `{"${c.name}", ${READER_TYPES[c.type].powerQuery}}`))}
    )
in
    Typed
`;
}

// ---------------------------------------------------------------------------------------------
// Spark

function sparkSchema(columns: readonly { name: string; type: ColumnType }[]): string {
  return columns.map((c) => `        "${c.name} ${READER_TYPES[c.type].spark}"`).join(',\n');
}

function spark(tables: readonly TableSpec[]): string {
  const partitions = partitionColumns();
  const schemas = tables.map((t) => `    "${t.name}": ", ".join([\n${sparkSchema(t.columns)},\n    ]),`).join('\n');
  return `${GENERATED('#')}
#
# Read the lake from Spark: Synapse Spark, Microsoft Fabric notebooks, Databricks. The reading identity
# needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md). In Fabric, a OneLake shortcut to the container
# works too: set LAKE to its path (e.g. "Files/referrals-lake").
#
#   referrals = read_table(spark, "referrals")           # every committed snapshot (+ snapshot_date, run_id)
#   latest = read_latest(spark, "referrals")             # current state (a Delta table), one version per referral
#   latest.groupBy("status", "substatus").count().show()
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

# azd outputs: LAKE_STORAGE_ACCOUNT_NAME, LAKE_CONTAINER (+ "/<LAKE_PREFIX>" if one is set).
LAKE = "abfss://referrals-lake@<account>.dfs.core.windows.net"

# Column lists as declared in src/schema/tables.ts (docs/schema.md); Parquet holds exactly these.
SCHEMAS = {
${schemas}
}

# Hive-style partition folders under each table: ${partitions.map((p) => `${p.name}=…`).join('/')}
PARTITIONS = ", ".join([
${sparkSchema(partitions)},
])


def committed_runs(spark: SparkSession) -> DataFrame:
    """Run ids that have a manifest (${RUNS_FOLDER}/<run_id>.json, written last): their files are complete."""
    runs = spark.read.option("multiLine", True).json(f"{LAKE}/${RUNS_FOLDER}/*.json")
    return runs.select(F.col("runId").alias("run_id")).distinct()


def read_table(spark: SparkSession, table: str) -> DataFrame:
    """Every committed snapshot of a table; partition discovery adds ${partitions.map((p) => p.name).join(' and ')}."""
    root = f"{LAKE}/{table}"
    frame = (
        spark.read.schema(f"{SCHEMAS[table]}, {PARTITIONS}")
        .option("basePath", root)
        .parquet(f"{root}/${partitions.map((p) => `${p.name}=*`).join('/')}/*.parquet")
    )
    return frame.join(committed_runs(spark), "run_id", "left_semi")


def read_delta(spark: SparkSession, table: str) -> DataFrame:
    """A table the sync keeps as a Delta table at the lake root: ${HISTORY_TABLES.map((t) => t.name).join(', ')}."""
    return spark.read.format("delta").load(f"{LAKE}/{table}")


def read_latest(spark: SparkSession, table: str, version: int | None = None) -> DataFrame:
    """The current state of a table: the Delta table ${latestFolder('<table>')}, one commit per run (or an earlier version)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(f"{LAKE}/{table}_latest")
`;
}

// ---------------------------------------------------------------------------------------------

function oneLine(text: string): string {
  return text.replaceAll('\n', ' ');
}

/** Every analytics file: repository-relative path → content. Deterministic. */
export function renderAnalytics(tables: readonly TableSpec[] = TABLES): Map<string, string> {
  const files = new Map<string, string>();
  files.set('analytics/synapse/00-setup.sql', synapseSetup());
  files.set('analytics/synapse/01-runs.sql', synapseRuns());
  for (const table of tables) files.set(`analytics/synapse/${table.name}.sql`, synapseTable(table));
  for (const table of tables) files.set(`analytics/powerbi/${latestFolder(table.name)}.pq`, powerQuery(table));
  for (const table of HISTORY_TABLES) {
    files.set(`analytics/synapse/${table.name}.sql`, synapseDeltaTable(table));
    files.set(`analytics/powerbi/${table.name}.pq`, powerQuery(table, table.name));
  }
  files.set('analytics/spark/read_lake.py', spark([...tables, ...HISTORY_TABLES]));
  return files;
}

async function main(args: readonly string[]): Promise<number> {
  const [flag] = args;
  const files = renderAnalytics();
  let stale = 0;
  for (const [path, content] of files) {
    const full = resolve(process.cwd(), path);
    if (flag === '--write') {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content, 'utf8');
    } else if ((await readFile(full, 'utf8').catch(() => '')) !== content) {
      process.stderr.write(`${path} is stale: run \`npm run analytics:gen\`\n`);
      stale++;
    }
  }
  if (flag === '--write') process.stdout.write(`wrote ${files.size} files under analytics/\n`);
  return stale === 0 ? 0 : 1;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  process.exitCode = await main(process.argv.slice(2));
}

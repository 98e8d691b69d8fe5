/**
 * The analytics files, generated from TABLES and the lake layout so their column lists cannot drift
 * from what the sync writes (test/analytics/columns.test.ts compares the committed files with this
 * rendering, and checks them against TABLES and against Parquet a real sync wrote):
 *
 * - analytics/synapse/*.sql: serverless SQL views, one file per table: its runs and its latest state,
 *   each over the Delta table it is (FORMAT = 'DELTA' on the table's root: the log says which files
 *   and gives the partition column, never a glob); the history tables likewise;
 * - analytics/powerbi/*.pq: Power Query M reading each Delta table with DeltaLake.Table;
 * - analytics/spark/read_lake.py: PySpark (Synapse Spark, Fabric, Databricks) readers;
 * - referral_status_history in all three (status-history.ts), and its column table in
 *   docs/analytics.md between the markers (the rest of that doc is written by hand).
 *
 * CLI (after `npm run build`): `node dist/src/analytics/render.js --write` writes them under the
 * working directory; `--check` exits 1 when any is stale. `npm run analytics:gen` does the first.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { latestFolder, RUNS_FOLDER } from '../lake/layout/paths.js';
import type { ColumnSpec, TableSpec } from '../schema/table.js';
import { HISTORY_TABLES, runTableSchema, SNAPSHOT_DATE_COLUMN, TABLES } from '../schema/tables.js';
import {
  generatedHeader,
  oneLine,
  powerQueryOpen,
  powerQueryPreamble,
  powerQueryTypes,
  READER_TYPES,
  SYNAPSE_DATA_SOURCE,
  SYNAPSE_DATABASE,
  synapseDeltaRowset,
} from './readers.js';
import {
  powerQueryStatusHistory,
  STATUS_HISTORY_VIEW,
  sparkStatusHistory,
  statusHistoryDocList,
  synapseStatusHistory,
} from './status-history.js';

export {
  duckdbType,
  LONG_TEXT_COLUMNS,
  READER_TYPES,
  SYNAPSE_DATA_SOURCE,
  SYNAPSE_DATABASE,
  synapseType,
} from './readers.js';

// ---------------------------------------------------------------------------------------------
// Synapse serverless SQL

function synapseSetup(): string {
  return `${generatedHeader('--')}
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
  return `${generatedHeader('--')}
--
-- runs: one row per sync run that wrote its manifest (${RUNS_FOLDER}/<run_id>.json, written last): what
-- kind of run, when, how long, how many referrals. Join it to a run table on run_id = _run_id. The
-- table views need it for nothing: a run is in a Delta table once its commit is, never half.
-- Each manifest is read whole as one value (0x0b never occurs in it).
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

function synapseTable(table: TableSpec): string {
  return `${generatedHeader('--')}
--
-- ${table.name}: ${oneLine(table.doc)}
-- ${latestFolder(table.name)}: the same columns, current state only (one version per referral).
-- Columns and types: docs/schema.md.

-- Every committed run: a Delta table, one append commit a run, partitioned by ${SNAPSHOT_DATE_COLUMN.name}
-- (a column of the log, not of the files); _run_id names the run. A run that never committed is not in
-- the log, so it is never read. A filter on ${SNAPSHOT_DATE_COLUMN.name} reads only those days' files.
${deltaView(table.name, table.name, runTableSchema(table).columns)}
-- The current state: a Delta table, overwritten by one commit every run. Its log names the files
-- of the current version; older files stay for time travel, so never read its folder by a glob.
${deltaView(latestFolder(table.name), latestFolder(table.name), table.columns)}`;
}

/** A view over a Delta table's folder: its log says which files are the current version. */
function deltaView(view: string, folder: string, columns: readonly ColumnSpec[]): string {
  return `CREATE OR ALTER VIEW dbo.${view} AS
SELECT r.*
FROM ${synapseDeltaRowset(folder, columns)} AS r;
GO
`;
}

/** A table the sync keeps as a Delta table at the lake root (referral_versions, …): one view over its log. */
function synapseDeltaTable(table: TableSpec): string {
  return `${generatedHeader('--')}
--
-- ${table.name}: ${oneLine(table.doc)}
-- Columns and types: docs/schema.md.

-- A Delta table, appended by the sync: its log names the files (never read its folder by a glob).
${deltaView(table.name, table.name, table.columns)}`;
}

// ---------------------------------------------------------------------------------------------
// Power Query M

/** A query over one Delta table of the lake: `folder` holds it, `table` declares its columns. */
function powerQuery(table: TableSpec, folder: string, note: string): string {
  const others = table.columns.filter((c) => c.type !== 'timestamp');
  return `${powerQueryPreamble(`${folder}: ${oneLine(table.doc)}${note}
// A Delta table: DeltaLake.Table follows its log to the current version's files.`)}
${powerQueryOpen(folder, table.columns)}
    Typed = Table.TransformColumnTypes(
        Utc,
        ${powerQueryTypes(others)}
    )
in
    Typed
`;
}

// ---------------------------------------------------------------------------------------------
// Spark

function sparkSchema(columns: readonly { name: string; type: keyof typeof READER_TYPES }[]): string {
  return columns.map((c) => `        "${c.name} ${READER_TYPES[c.type].spark}"`).join(',\n');
}

function spark(tables: readonly TableSpec[]): string {
  const schemas = tables.map((t) => `    "${t.name}": ", ".join([\n${sparkSchema(t.columns)},\n    ]),`).join('\n');
  const partition = SNAPSHOT_DATE_COLUMN.name;
  return `${generatedHeader('#')}
#
# Read the lake from Spark: Synapse Spark, Microsoft Fabric notebooks, Databricks. Every table is a
# Delta table, opened through its log (format("delta")), never by a glob of its files. The reading
# identity needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md). In
# Fabric, a OneLake shortcut to the container works too: set LAKE to its path (e.g. "Files/referrals-lake").
#
#   referrals = read_table(spark, "referrals")           # every committed run (+ ${partition}, _run_id)
#   latest = read_latest(spark, "referrals")             # current state, one version per referral
#   latest.groupBy("status", "substatus").count().show()
#   read_latest(spark, "referrals", version=3)           # time travel: an earlier version (or timestamp="2026-11-24")
from pyspark.sql import DataFrame, SparkSession

# azd outputs: LAKE_STORAGE_ACCOUNT_NAME, LAKE_CONTAINER (+ "/<LAKE_PREFIX>" if one is set).
LAKE = "abfss://referrals-lake@<account>.dfs.core.windows.net"

# Each table's columns as its Delta log declares them (src/schema/tables.ts, docs/schema.md). The run
# tables end with their partition column ${partition}, which the log holds and the data files do not.
SCHEMAS = {
${schemas}
}


def read_delta(spark: SparkSession, folder: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """The Delta table in a folder of the lake: its newest version, or the one at \`version\` or \`timestamp\` (time travel).

    History tables: ${HISTORY_TABLES.map((t) => t.name).join(', ')}. DESCRIBE HISTORY delta.\`<path>\` lists the versions.
    """
    if version is not None and timestamp is not None:
        raise ValueError("time travel takes a version or a timestamp, not both")
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    if timestamp is not None:
        reader = reader.option("timestampAsOf", timestamp)
    return reader.load(f"{LAKE}/{folder}")


def read_table(spark: SparkSession, table: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """Every committed run of a table, one append commit a run; ${partition} is its partition column, _run_id the run."""
    return read_delta(spark, table, version, timestamp)


def read_latest(spark: SparkSession, table: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """The current state of a table: the Delta table ${latestFolder('<table>')}, one overwrite commit a run."""
    return read_delta(spark, f"{table}_latest", version, timestamp)


def read_runs(spark: SparkSession) -> DataFrame:
    """One row per run that wrote its manifest (${RUNS_FOLDER}/<run_id>.json): mode, times, counts. Join on runId = _run_id."""
    return spark.read.option("multiLine", True).json(f"{LAKE}/${RUNS_FOLDER}/*.json")


${sparkStatusHistory('read_delta')}`;
}

// ---------------------------------------------------------------------------------------------

/** Every analytics file: repository-relative path → content. Deterministic. */
export function renderAnalytics(tables: readonly TableSpec[] = TABLES): Map<string, string> {
  const files = new Map<string, string>();
  files.set('analytics/synapse/00-setup.sql', synapseSetup());
  files.set('analytics/synapse/01-runs.sql', synapseRuns());
  for (const table of tables) files.set(`analytics/synapse/${table.name}.sql`, synapseTable(table));
  for (const table of tables) {
    files.set(
      `analytics/powerbi/${table.name}.pq`,
      powerQuery(
        runTableSchema(table),
        table.name,
        ' Every committed run, partitioned by snapshot_date.\n// To load fewer runs, filter on snapshot_date (Table.SelectRows) right after Combined.',
      ),
    );
    files.set(
      `analytics/powerbi/${latestFolder(table.name)}.pq`,
      powerQuery(table, latestFolder(table.name), ' Current state, one version per referral.'),
    );
  }
  for (const table of HISTORY_TABLES) {
    files.set(`analytics/synapse/${table.name}.sql`, synapseDeltaTable(table));
    files.set(`analytics/powerbi/${table.name}.pq`, powerQuery(table, table.name, ''));
  }
  files.set(`analytics/synapse/${STATUS_HISTORY_VIEW}.sql`, synapseStatusHistory());
  files.set(`analytics/powerbi/${STATUS_HISTORY_VIEW}.pq`, powerQueryStatusHistory());
  files.set('analytics/spark/read_lake.py', spark([...tables.map(runTableSchema), ...HISTORY_TABLES]));
  return files;
}

export const ANALYTICS_DOC_PATH = 'docs/analytics.md';
const DOC_BEGIN = `<!-- ${STATUS_HISTORY_VIEW} columns: generated by src/analytics/render.ts, do not edit; run \`npm run analytics:gen\` -->`;
const DOC_END = `<!-- end of ${STATUS_HISTORY_VIEW} columns -->`;

/** docs/analytics.md with its generated block (between the markers) rendered anew; throws when a marker is missing. */
export function renderAnalyticsDoc(doc: string): string {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin)
    throw new Error(`${ANALYTICS_DOC_PATH}: the markers ${DOC_BEGIN} … ${DOC_END} are missing`);
  return `${doc.slice(0, begin + DOC_BEGIN.length)}\n${statusHistoryDocList()}\n${doc.slice(end)}`;
}

async function main(args: readonly string[]): Promise<number> {
  const [flag] = args;
  const files = renderAnalytics();
  const doc = await readFile(resolve(process.cwd(), ANALYTICS_DOC_PATH), 'utf8');
  files.set(ANALYTICS_DOC_PATH, renderAnalyticsDoc(doc));
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
  if (flag === '--write')
    process.stdout.write(`wrote ${files.size - 1} files under analytics/ and ${ANALYTICS_DOC_PATH}'s block\n`);
  return stale === 0 ? 0 : 1;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  process.exitCode = await main(process.argv.slice(2));
}

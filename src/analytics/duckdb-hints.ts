/**
 * What to type to look at a local copy of the lake with the DuckDB CLI, offline: the demo prints
 * these, and a test runs them against a lake a sync wrote. DuckDB reads a Delta table through its log
 * only with its delta extension, a download; so these read the NDJSON copies the sync keeps for line
 * readers, outside the Delta folders, and never glob a Delta table's Parquet (after two runs, or
 * once a latest table is overwritten, a glob counts files no version holds together).
 */
import { dataFilePath, latestNdjsonPath } from '../lake/layout/paths.js';

/** `<lake>/…/snapshot_date=*\/run_id=*\/*.ndjson`: every run's NDJSON copy of a run table, from the layout's own path. */
export function runNdjsonGlob(table: string): string {
  const sample = dataFilePath({ table, snapshotDate: '2000-01-01', runId: '20000101T000000Z-0000' }, 'ndjson');
  return sample.replace(/=[^/]+/g, '=*').replace(/[^/]+\.ndjson$/, '*.ndjson');
}

/** SQL statements for the DuckDB CLI over the lake copied to `lakeDir` (a path as the user types it). */
export function duckdbHints(lakeDir: string): string[] {
  const at = (path: string) => `'${`${lakeDir}/${path}`.replaceAll("'", "''")}'`;
  return [
    `SELECT status, substatus, count(*) FROM read_json(${at(latestNdjsonPath('referrals'))}) GROUP BY ALL ORDER BY ALL`,
    `SELECT snapshot_date, _run_id, count(*) FROM read_json(${at(runNdjsonGlob('referrals'))}, hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
  ];
}

/** What the hints leave out, said where they are printed. */
export const DUCKDB_DELTA_NOTE =
  "the Delta tables themselves: DuckDB's delta extension (INSTALL delta, a download), then delta_scan('<table folder>')";

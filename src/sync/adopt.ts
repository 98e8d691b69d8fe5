/**
 * A lake written before the run tables were Delta tables: each run's partition folder
 * (`<table>/snapshot_date=…/run_id=…/`) held its Parquet file, its NDJSON copy and (referrals) its
 * keys file, and readers trusted a partition when its run had a manifest. A run table's first
 * commit takes those committed partitions into the table (so nothing a reader had is lost, and no
 * retention sweep ever sees them as files no version names) and moves their NDJSON and keys files
 * under `ndjson/`, outside the Delta folder. Partitions without a manifest (runs that failed) were
 * never visible and are left alone.
 */
import type { Logger } from '../common/log.js';
import type { NewDataFile } from '../lake/delta/table.js';
import { NDJSON_FOLDER, runManifestPath } from '../lake/layout/paths.js';
import { listAll, type StorageTarget } from '../lake/storage/storage.js';
import { SNAPSHOT_DATE_COLUMN } from '../schema/tables.js';

const PARTITION_FILE = /^snapshot_date=(\d{4}-\d{2}-\d{2})\/run_id=([^/]+)\/(part-\d{5}\.(?:parquet|ndjson|ids\.tsv))$/;

/**
 * The committed earlier partitions' Parquet files of a run table, to add with its first commit (no
 * statistics: the protocol makes them optional, and reading every old footer is not worth it); their
 * other files are moved under `ndjson/` first. `own` are the files the commit adds anyway.
 */
export async function adoptEarlierPartitions(
  target: StorageTarget,
  tableRoot: string,
  own: readonly NewDataFile[],
  logger?: Logger,
): Promise<NewDataFile[]> {
  const skip = new Set(own.map((f) => f.path));
  const committed = new Map<string, boolean>();
  const isCommitted = async (runId: string) => {
    if (!committed.has(runId)) committed.set(runId, await target.exists(runManifestPath(runId)).catch(() => false));
    return committed.get(runId) === true;
  };
  const adopted: NewDataFile[] = [];
  let moved = 0;
  for (const item of await listAll(target, `${tableRoot}/`)) {
    const relative = item.path.slice(tableRoot.length + 1);
    const match = PARTITION_FILE.exec(relative);
    if (!match || skip.has(relative)) continue;
    const [, snapshotDate = '', runId = '', name = ''] = match;
    if (!(await isCommitted(runId))) continue;
    if (name.endsWith('.parquet')) {
      adopted.push({ path: relative, size: item.size, partitionValues: { [SNAPSHOT_DATE_COLUMN.name]: snapshotDate } });
      continue;
    }
    await target.copy(item.path, `${NDJSON_FOLDER}/${item.path}`);
    await target.delete(item.path);
    moved++;
  }
  if (adopted.length > 0 || moved > 0) {
    logger?.info('took the partitions of earlier runs into the Delta table', {
      table: tableRoot,
      dataFiles: adopted.length,
      movedUnderNdjson: moved,
    });
  }
  return adopted;
}

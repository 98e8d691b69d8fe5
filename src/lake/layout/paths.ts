/**
 * Where things live in the lake, as pure functions of (table, snapshot date, run id). Paths are keys
 * relative to the lake root; the storage target adds its own prefix (LAKE_PREFIX), so the full blob
 * name is `<prefix>/<key>`. Partition folders are Hive-style (`name=value`) because Synapse
 * serverless (`filepath()`), Spark/Fabric and DuckDB (`hive_partitioning`) all prune on them:
 *
 *   <table>/_delta_log/, <table>/snapshot_date=2026-11-24/run_id=20261124T060000Z-ab12/part-00000.parquet
 *                                    a run table: Delta, partitioned by snapshot_date, one append a run
 *   <table>_latest/_delta_log/, <table>_latest/part-00000-<uuid>-c000.snappy.parquet
 *                                    a latest table: Delta, one overwrite a run
 *   referral_versions/, referrals_vanished/          Delta tables the sync derives (history)
 *   ndjson/<table>/snapshot_date=…/run_id=…/part-00000.ndjson, ndjson/<table>_latest/part-00000.ndjson
 *                                    NDJSON copies for line readers, outside every Delta folder
 *   raw/snapshot_date=2026-11-24/run_id=20261124T060000Z-ab12/part-00000.ndjson.gz
 *   quarantine/snapshot_date=…/run_id=…/part-00000.ndjson
 *   _runs/20261124T060000Z-ab12.json
 *   _state/watermark.json, _state/latest.json, _state/publish.json
 *   _staging/<run id>/…              files a run publishes by copy once its commits are in
 *   _audit/date=2026-12-06/20261206T101112.123Z-<random>.ndjson   one line per write attempt
 *   _state/idempotency/<key digest>.json                           a write's first answer, 24 h
 *
 * Every input is validated, so no caller can build a key that escapes its folder.
 */
import { randomBytes } from 'node:crypto';
import { epochDays } from '../../common/time.js';
import { LakePathError } from '../storage/storage-keys.js';

export type DataFormat = 'parquet' | 'ndjson';

export interface PartitionRef {
  readonly table: string;
  /** `YYYY-MM-DD`, the UTC day the snapshot describes. */
  readonly snapshotDate: string;
  readonly runId: string;
}

export const RAW_FOLDER = 'raw';
/** NDJSON copies of the Delta tables for line readers (latestNdjsonPath). */
export const NDJSON_FOLDER = 'ndjson';
export const RUNS_FOLDER = '_runs';
export const STATE_FOLDER = '_state';
export const STAGING_FOLDER = '_staging';
export const QUARANTINE_FOLDER = 'quarantine';
export const AUDIT_FOLDER = '_audit';

const RUN_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{4}$/;
const TABLE = /^[a-z][a-z0-9_]{0,62}$/;
const STATE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const MAX_PART = 99_999;

/** A new run id: the start time in UTC to the second, then 4 random hex digits against same-second starts. */
export function newRunId(now: Date = new Date(), suffix: string = randomBytes(2).toString('hex')): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return assertRunId(`${stamp}Z-${suffix}`);
}

export function isRunId(value: string): boolean {
  return runIdTime(value) !== undefined;
}

/** The run id itself, or a LakePathError: only the exact format, nothing that could walk a path. */
export function assertRunId(value: string): string {
  if (!isRunId(value)) throw new LakePathError('run_id', value, 'expected YYYYMMDDTHHMMSSZ-xxxx (UTC, 4 hex digits)');
  return value;
}

/** When the run started, read back from its id; undefined when the id is malformed or not a real time. */
export function runIdTime(value: string): Date | undefined {
  const m = RUN_ID.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const time = new Date(Date.UTC(y ?? 0, (mo ?? 0) - 1, d, h, mi, s));
  const roundTrips = time.toISOString().slice(0, 19).replace(/[-:]/g, '') === value.slice(0, 15);
  return roundTrips ? time : undefined;
}

/** The UTC calendar day of an instant, as a partition value. */
export function snapshotDateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

export function isSnapshotDate(value: string): boolean {
  return epochDays(value) !== undefined;
}

export function assertSnapshotDate(value: string): string {
  if (!isSnapshotDate(value)) throw new LakePathError('snapshot_date', value, 'expected a calendar date YYYY-MM-DD');
  return value;
}

/** Table folder names: snake_case, and never a reserved folder (`raw`, `_runs`, `_state`). */
export function assertTableName(value: string): string {
  if (!TABLE.test(value)) throw new LakePathError('table', value, 'expected snake_case [a-z][a-z0-9_]*');
  if (value === RAW_FOLDER) throw new LakePathError('table', value, `'${RAW_FOLDER}' is reserved for the raw archive`);
  if (value === NDJSON_FOLDER)
    throw new LakePathError('table', value, `'${NDJSON_FOLDER}' is reserved for line readers' copies`);
  return value;
}

/** `<table>/snapshot_date=…/run_id=…`: the folder holding one run's files for one table and day. */
export function partitionFolder(ref: PartitionRef): string {
  return `${assertTableName(ref.table)}/${partitionSuffix(ref.snapshotDate, ref.runId)}`;
}

/**
 * One data file of a run table's partition: `<table>/…/part-00000.parquet` inside the Delta table,
 * or its NDJSON copy `ndjson/<table>/…/part-00000.ndjson` outside it.
 */
export function dataFilePath(ref: PartitionRef, format: DataFormat, part = 0): string {
  const file = `${partitionFolder(ref)}/${partFileName(part, format)}`;
  return format === 'ndjson' ? `${NDJSON_FOLDER}/${file}` : file;
}

/** A run table's data file as its Delta log names it: relative to the table's folder. */
export function tableRelativePath(ref: PartitionRef, path: string): string {
  const prefix = `${assertTableName(ref.table)}/`;
  if (!path.startsWith(prefix)) throw new LakePathError('data file', path, `expected a file under ${prefix}`);
  return path.slice(prefix.length);
}

/** The values that were not kept as sent, for one run (NDJSON; not a table). */
export function quarantinePath(snapshotDate: string, runId: string): string {
  return `${QUARANTINE_FOLDER}/${partitionSuffix(snapshotDate, runId)}/${partFileName(0, 'ndjson')}`;
}

/** The raw archive of untouched API objects for a run: gzip NDJSON, one referral a line. */
export function rawArchivePath(snapshotDate: string, runId: string, part = 0): string {
  return `${RAW_FOLDER}/${partitionSuffix(snapshotDate, runId)}/${partFileName(part, 'ndjson.gz')}`;
}

/** A run's manifest, written last: readers trust a partition only when its run has one. */
export function runManifestPath(runId: string): string {
  return `${RUNS_FOLDER}/${assertRunId(runId)}.json`;
}

/** A small state file (`watermark.json`, `msal-token-cache.json`, …): one flat name, no folders. */
export function statePath(name: string): string {
  if (!STATE_NAME.test(name) || name.includes('..')) {
    throw new LakePathError('state file', name, 'expected a flat name of [a-z0-9._-]');
  }
  return `${STATE_FOLDER}/${name}`;
}

/**
 * The latest table of `table`: a Delta table (its `_delta_log/` and Parquet files of unique names),
 * overwritten by one commit every run. Engines open it as a table; nothing globs its files.
 */
export function latestFolder(table: string): string {
  return `${table}_latest`;
}

/** A data file of a latest table, by its unique name (delta/table.ts, newDataFileName). */
export function latestDataFilePath(table: string, fileName: string): string {
  if (!/^[A-Za-z0-9._-]+\.parquet$/.test(fileName))
    throw new LakePathError('data file', fileName, 'expected a flat .parquet name');
  return `${latestFolder(table)}/${fileName}`;
}

/** The referral keys of a run's referrals file, beside its NDJSON copy (referral-ids.ts). */
export function runReferralIdsPath(snapshotDate: string, runId: string): string {
  return `${NDJSON_FOLDER}/${partitionFolder({ table: 'referrals', snapshotDate, runId })}/${partFileName(0, 'ids.tsv')}`;
}

/** The keys (referral id, version) of every row of referral_versions: which versions it holds. */
export const VERSION_KEYS_PATH = statePath('referral_versions.ids.tsv');

/**
 * Where a run writes a file it publishes by copy once its table commits are in (the NDJSON copies,
 * the keys files): `_staging/<run id>/<the file's own path>`.
 */
export function stagedPath(runId: string, path: string): string {
  return `${STAGING_FOLDER}/${assertRunId(runId)}/${path}`;
}

/** The referral keys of referrals_latest, beside its NDJSON copy. */
export function latestReferralIdsPath(): string {
  return `${NDJSON_FOLDER}/${latestFolder('referrals')}/${partFileName(0, 'ids.tsv')}`;
}

/** A latest table's single file before the latest tables were Delta tables (read once, then removed). */
export function legacyLatestFilePath(table: string, format: DataFormat): string {
  return `${latestFolder(table)}/${partFileName(0, format)}`;
}

/**
 * Line readers' copy of a latest table, outside the Delta folders (a Delta engine's VACUUM would
 * delete a file its log does not name, and a glob of the table folder would count it).
 */
export function latestNdjsonPath(table: string): string {
  return `${NDJSON_FOLDER}/${latestFolder(table)}/${partFileName(0, 'ndjson')}`;
}

/** Names the run the latest tables come from and each table's version; written after them. */
export const LATEST_POINTER_PATH = statePath('latest.json');

/** One write attempt's audit record: partitioned by its UTC day, named so names sort by time. */
export function auditRecordPath(at: Date, suffix: string = randomBytes(4).toString('hex')): string {
  const stamp = at.toISOString().replaceAll('-', '').replaceAll(':', '');
  return `${AUDIT_FOLDER}/date=${snapshotDateOf(at)}/${stamp}-${suffix}.ndjson`;
}

/** The Idempotency-Key records' folder (with its slash: a listing prefix). */
export const IDEMPOTENCY_FOLDER = `${STATE_FOLDER}/idempotency/`;

/** Where the first answer to an Idempotency-Key is kept (`digest`: base64url of a SHA-256). */
export function idempotencyRecordPath(digest: string): string {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(digest)) throw new LakePathError('idempotency', digest, 'not a key digest');
  return `${IDEMPOTENCY_FOLDER}${digest}.json`;
}

/** A run's publish, written before its first table commit and deleted after its last step. */
export const PUBLISH_JOURNAL_PATH = statePath('publish.json');

function partitionSuffix(snapshotDate: string, runId: string): string {
  return `snapshot_date=${assertSnapshotDate(snapshotDate)}/run_id=${assertRunId(runId)}`;
}

function partFileName(part: number, extension: string): string {
  if (!Number.isInteger(part) || part < 0 || part > MAX_PART) {
    throw new LakePathError('part', String(part), `expected an integer 0..${MAX_PART}`);
  }
  return `part-${String(part).padStart(5, '0')}.${extension}`;
}

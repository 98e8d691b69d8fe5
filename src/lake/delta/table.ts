/**
 * One Delta table of the lake: committing data files already written under its folder, as an append
 * or as an overwrite that removes every active file and adds the new ones in one version (a reader
 * sees the old table or the new, never half; the old files stay for time travel). The table is
 * created by its first commit (protocol and metaData from the declaration).
 *
 * A lost race (another writer took the version) re-reads the log and tries the next version: an
 * append adds the same files again on top of the winner's; an overwrite removes what is active then.
 */
import { randomUUID } from 'node:crypto';
import { DeltaConflictError, DeltaLogError } from '../../common/errors.js';
import type { TableSpec } from '../../schema/table.js';
import type { FileStatistics } from '../formats/parquet/file-statistics.js';
import type { StorageTarget } from '../storage/storage.js';
import {
  type Action,
  type AddAction,
  deltaType,
  encodeDataPath,
  metadataAction,
  PROTOCOL,
  type RemoveAction,
  schemaString,
  type TxnAction,
} from './actions.js';
import { CHECKPOINT_INTERVAL, writeCheckpoint } from './checkpoint.js';
import { applyCommit, commit, commitPath, readSnapshot, type Snapshot } from './log.js';
import { deltaStats } from './stats.js';

/** Attempts at the next version before a commit gives up (each lost to another writer). */
const MAX_ATTEMPTS = 5;

export const ENGINE_INFO = 'referrals-lake';

/** A data file written under the table's folder, to be added by a commit. */
export interface NewDataFile {
  /** Relative to the table's folder (`part-…parquet`, or `snapshot_date=…/part-…parquet`). */
  readonly path: string;
  readonly size: number;
  /** Its `add.stats`: JSON text, as newDataFile makes it from the writer's statistics (optional in the protocol). */
  readonly stats?: string;
  readonly partitionValues?: Readonly<Record<string, string | null>>;
}

/** A data file to commit, its statistics turned into Delta's `add.stats` text (JSON-safe, for a journal). */
export function newDataFile(
  spec: TableSpec,
  file: { path: string; size: number; statistics: FileStatistics | undefined },
  partitionValues?: Readonly<Record<string, string | null>>,
): NewDataFile {
  if (!file.statistics) throw new Error(`${file.path}: its writer kept no statistics`);
  return { path: file.path, size: file.size, stats: deltaStats(spec, file.statistics), partitionValues };
}

export interface CommitRequest {
  readonly target: StorageTarget;
  /** The table's folder in the lake (`referrals_latest`). */
  readonly tableRoot: string;
  readonly spec: TableSpec;
  readonly mode: 'append' | 'overwrite';
  readonly files: readonly NewDataFile[];
  readonly partitionColumns?: readonly string[];
  /** Recorded as a transaction identifier (`txn`): which run made this version. */
  readonly transaction?: { readonly appId: string; readonly version: number };
  readonly now?: () => Date;
  /** How long removed files stay in the table's state (a checkpoint keeps their tombstones); default 7 days. */
  readonly retentionMs?: number;
}

export interface Committed {
  readonly version: number;
  /** Files the commit removed (overwrite), as paths relative to the table's folder. */
  readonly removed: readonly string[];
  /** The table as of the new version. */
  readonly snapshot: Snapshot;
  /** A checkpoint that was due but could not be written (the commit stands; the next one retries). */
  readonly checkpointError?: unknown;
}

/** A unique data file name, never reused, in the reference writer's pattern. */
export function newDataFileName(): string {
  return `part-00000-${randomUUID()}-c000.snappy.parquet`;
}

export async function commitFiles(request: CommitRequest): Promise<Committed> {
  let lastConflict: DeltaConflictError | undefined;
  let snapshot = await readSnapshot(request.target, request.tableRoot);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const version = snapshot.version + 1;
    const { actions, removed } = actionsFor(request, snapshot);
    try {
      await commit(request.target, request.tableRoot, version, actions);
      const after = applyCommit(snapshot, actions);
      return { version, removed, ...(await checkpointIfDue(request, after)) };
    } catch (error) {
      if (!(error instanceof DeltaConflictError)) throw error;
      lastConflict = error;
      // The next attempt starts from the table as it is now. A commit whose answer was lost can
      // come back as a conflict with itself (the store retried the create): our data files, named
      // once, already in the table mean the version is ours.
      snapshot = await readSnapshot(request.target, request.tableRoot);
      if (request.files.length > 0 && request.files.every((f) => snapshot.files.has(encodeDataPath(f.path)))) {
        return { version: snapshot.version, removed, snapshot };
      }
    }
  }
  throw lastConflict as DeltaConflictError;
}

/**
 * A checkpoint when the newest is CHECKPOINT_INTERVAL versions behind (so one that failed is tried
 * again by the next commit), with the tombstones still in retention.
 */
async function checkpointIfDue(
  request: CommitRequest,
  snapshot: Snapshot,
): Promise<{ snapshot: Snapshot; checkpointError?: unknown }> {
  if (snapshot.version - (snapshot.checkpoint ?? 0) < CHECKPOINT_INTERVAL) return { snapshot };
  const { protocol, metadata } = snapshot;
  if (!protocol || !metadata) return { snapshot };
  const cutoff = (request.now ?? (() => new Date()))().getTime() - (request.retentionMs ?? DEFAULT_RETENTION_MS);
  try {
    await writeCheckpoint(request.target, request.tableRoot, {
      version: snapshot.version,
      protocol,
      metadata,
      transactions: snapshot.transactions.values(),
      files: snapshot.files.values(),
      tombstones: [...snapshot.tombstones.values()].filter((remove) => remove.deletionTimestamp >= cutoff),
    });
    return { snapshot: { ...snapshot, checkpoint: snapshot.version } };
  } catch (error) {
    return { snapshot, checkpointError: error };
  }
}

const DEFAULT_RETENTION_MS = 7 * 86_400_000;

function actionsFor(request: CommitRequest, snapshot: Snapshot): { actions: Action[]; removed: string[] } {
  const now = (request.now ?? (() => new Date()))().getTime();
  const { spec, mode, partitionColumns = [] } = request;
  const actions: Action[] = [
    {
      commitInfo: {
        timestamp: now,
        operation: 'WRITE',
        operationParameters: {
          mode: mode === 'overwrite' ? 'Overwrite' : 'Append',
          partitionBy: JSON.stringify(partitionColumns),
        },
        isBlindAppend: mode === 'append',
        engineInfo: ENGINE_INFO,
      },
    },
  ];
  if (snapshot.version < 0) {
    actions.push({ protocol: PROTOCOL });
    actions.push({ metaData: metadataAction({ id: randomUUID(), spec, partitionColumns, createdTime: now }) });
  } else {
    const metadata = snapshot.metadata;
    const where = commitPath(request.tableRoot, snapshot.version);
    if (!metadata) throw new DeltaLogError('the log has no metaData action', where);
    if (JSON.stringify(metadata.partitionColumns) !== JSON.stringify(partitionColumns)) {
      throw new DeltaLogError(
        `the table is partitioned by [${metadata.partitionColumns.join(', ')}], not [${partitionColumns.join(', ')}]`,
        where,
      );
    }
    // A changed declaration (a new column) updates the schema in the same version as the data.
    if (metadata.schemaString !== schemaString(spec)) {
      if (mode === 'append') checkAppendable(metadata.schemaString, spec, where);
      actions.push({
        metaData: metadataAction({ id: metadata.id, spec, partitionColumns, createdTime: metadata.createdTime ?? now }),
      });
    }
  }
  if (request.transaction) {
    const txn: TxnAction = { ...request.transaction, lastUpdated: now };
    actions.push({ txn });
  }
  const removed: string[] = [];
  if (mode === 'overwrite') {
    for (const file of snapshot.files.values()) {
      actions.push({ remove: removeFor(file, now) });
      removed.push(decodeURIComponent(file.path));
    }
  }
  for (const file of request.files) actions.push({ add: addFor(file, now) });
  return { actions, removed };
}

/**
 * An append keeps every earlier file, which must still read under the new schema: columns may be
 * added (nullable: the old files have none), never dropped, retyped or made required. An overwrite
 * replaces every file, so any change goes.
 */
function checkAppendable(logged: string, spec: TableSpec, where: string): void {
  const before = (JSON.parse(logged) as { fields: { name: string; type: unknown; nullable: boolean }[] }).fields;
  const after = new Map(spec.columns.map((c) => [c.name, c]));
  const problems = before.flatMap((field) => {
    const column = after.get(field.name);
    if (!column) return [`drops ${field.name}`];
    if (deltaType(column) !== field.type)
      return [`retypes ${field.name} from ${JSON.stringify(field.type)} to ${deltaType(column)}`];
    if (field.nullable && !column.nullable) return [`makes ${field.name} required`];
    return [];
  });
  const known = new Set(before.map((f) => f.name));
  for (const column of spec.columns) {
    if (!known.has(column.name) && !column.nullable) problems.push(`adds ${column.name} as required`);
  }
  if (problems.length === 0) return;
  throw new DeltaLogError(
    `the declared schema of ${spec.name} ${problems.join(', ')}: the table's earlier files would no longer read. ` +
      'Move the table folder away (it stays readable there) to start the table anew',
    where,
  );
}

function addFor(file: NewDataFile, now: number): AddAction {
  return {
    path: encodeDataPath(file.path),
    partitionValues: file.partitionValues ?? {},
    size: file.size,
    modificationTime: now,
    dataChange: true,
    ...(file.stats === undefined ? {} : { stats: file.stats }),
  };
}

function removeFor(file: AddAction, now: number): RemoveAction {
  return {
    path: file.path,
    deletionTimestamp: now,
    dataChange: true,
    partitionValues: file.partitionValues,
    size: file.size,
  };
}

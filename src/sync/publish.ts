/**
 * A run's publish: it commits to every Delta table (run tables, history tables, latest tables),
 * then publishes the files line readers take from fixed paths (NDJSON copies, keys files) by copy,
 * then writes `_state/latest.json` (the version of every table this run committed), its manifest
 * and the watermark. Tables are committed one after another, so a run killed between two commits
 * would leave some tables a run ahead of others; hence the journal:
 *
 * - Everything the publish will do is written to `_state/publish.json` before the first commit
 *   (the data files are all written by then, under unique names).
 * - Every commit carries the run's transaction (Delta `txn`: appId `referrals-lake-sync`, version =
 *   the run's start in epoch ms), so a table whose log already holds it is never committed twice.
 * - The next run, under the lease, completes a journal it finds before it does anything else
 *   (rollForward): the remaining commits, copies, pointer, manifest and watermark, as the killed
 *   run would have. The journal goes last.
 */
import { LakeStateError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { readSnapshot, type Snapshot } from '../lake/delta/log.js';
import { commitFiles, type NewDataFile } from '../lake/delta/table.js';
import { removeExpired } from '../lake/delta/vacuum.js';
import { deltaTableAt } from '../lake/layout/lake-tables.js';
import { LATEST_POINTER_PATH, PUBLISH_JOURNAL_PATH, STAGING_FOLDER } from '../lake/layout/paths.js';
import { listAll, type StorageTarget, writeWhole } from '../lake/storage/storage.js';
import { adoptEarlierPartitions } from './adopt.js';
import { finishedAt, type RunManifest, writeManifest } from './manifest.js';
import { type Watermark, writeWatermark } from './watermark.js';

/** The Delta transaction application id of the sync's commits. */
export const SYNC_APP_ID = 'referrals-lake-sync';

export interface TableCommit {
  /** The Delta table's folder (lake-tables.ts). */
  readonly table: string;
  readonly mode: 'append' | 'overwrite';
  readonly files: readonly NewDataFile[];
}

/** A file published by copy: written by the run at `from`, read by everyone at `to`. */
export interface PublishCopy {
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
}

export interface PublishJournal {
  readonly runId: string;
  /** The run's transaction version: its start in epoch milliseconds. */
  readonly transaction: number;
  readonly commits: readonly TableCommit[];
  readonly copies: readonly PublishCopy[];
  /** Files no reader needs once the commits are in (a latest table's files from before Delta). */
  readonly deletes: readonly string[];
  readonly manifest: RunManifest;
  readonly watermark?: { readonly value: Watermark; readonly etag: string | undefined };
}

export interface PublishOptions {
  readonly logger?: Logger;
  readonly now: () => Date;
  /** How long earlier versions stay readable (LAKE_RETENTION_DAYS). */
  readonly retentionMs: number;
  /** Stops the publish between steps (a lost lease); the journal stays for the next run. */
  readonly signal?: AbortSignal;
}

/** Writes the journal, then carries it out. Returns the manifest as written (with the versions). */
export async function publish(
  target: StorageTarget,
  journal: PublishJournal,
  options: PublishOptions,
): Promise<RunManifest> {
  options.signal?.throwIfAborted();
  const started = performance.now();
  const body = Buffer.from(`${JSON.stringify(journal)}\n`);
  const written = await target.createIfAbsent(PUBLISH_JOURNAL_PATH, body, { contentType: 'application/json' });
  if (!written.created) {
    // The run completed any journal before it started: one now is another run's (this one lost its lease).
    throw new LakeStateError(
      'another run is publishing (its journal appeared during this run); this run publishes nothing',
      `${target.describe()} ${PUBLISH_JOURNAL_PATH}`,
    );
  }
  return complete(target, journal, options, started);
}

/**
 * Completes the publish a killed run left (its journal), if any; then deletes what runs killed
 * before their journal staged. Call under the lease, before the run writes anything.
 */
export async function rollForward(target: StorageTarget, options: PublishOptions): Promise<string | undefined> {
  const file = await target.read(PUBLISH_JOURNAL_PATH);
  let runId: string | undefined;
  if (file) {
    const journal = parseJournal(file.body, `${target.describe()} ${PUBLISH_JOURNAL_PATH}`);
    options.logger?.warn('completing the publish of a run that stopped midway', {
      interruptedRunId: journal.runId,
      tables: journal.commits.length,
    });
    await complete(target, journal, options);
    runId = journal.runId;
  }
  await deleteStaging(target, `${STAGING_FOLDER}/`, options.logger);
  return runId;
}

/** `publishStarted` (performance.now()) when this run is the journal's: its manifest then times the publish. */
async function complete(
  target: StorageTarget,
  journal: PublishJournal,
  options: PublishOptions,
  publishStarted?: number,
): Promise<RunManifest> {
  const step = () => options.signal?.throwIfAborted();
  const versions: Record<string, number> = {};
  const snapshots: Snapshot[] = [];
  for (const request of journal.commits) {
    step();
    const { version, snapshot } = await commitOnce(target, journal, request, options);
    versions[request.table] = version;
    snapshots.push(snapshot);
  }
  for (const copy of journal.copies) {
    step();
    await copyOnce(target, copy);
  }
  for (const path of journal.deletes) {
    step();
    if (await target.delete(path)) options.logger?.info('removed a latest file from before the Delta tables', { path });
  }
  // A completed run's manifest keeps its own end; the run's own publish is timed into it.
  const manifest: RunManifest =
    publishStarted === undefined
      ? { ...journal.manifest, tables: versions }
      : finishedAt({ ...journal.manifest, tables: versions }, options.now(), {
          publish: Math.round(performance.now() - publishStarted) / 1000,
        });
  const pointer = { runId: journal.runId, versions, files: manifest.latest };
  step();
  await writeWhole(target, LATEST_POINTER_PATH, Buffer.from(`${JSON.stringify(pointer, null, 2)}\n`), {
    contentType: 'application/json',
  });
  await writeManifest(target, manifest);
  step();
  if (journal.watermark && !(await writeWatermark(target, journal.watermark.value, journal.watermark.etag))) {
    // When completing a stopped run, that run may have moved the watermark itself before it stopped.
    if (publishStarted !== undefined)
      options.logger?.warn('the watermark changed during this run; left as the other run set it');
  }
  await deleteJournal(target, journal.runId);
  for (const snapshot of snapshots) await removeExpiredQuietly(target, snapshot, options);
  await deleteStaging(target, `${STAGING_FOLDER}/${journal.runId}/`, options.logger);
  return manifest;
}

/** Commits the run's files to one table unless its log already holds the run's transaction. */
async function commitOnce(
  target: StorageTarget,
  journal: PublishJournal,
  request: TableCommit,
  options: PublishOptions,
): Promise<{ version: number; snapshot: Snapshot }> {
  const table = deltaTableAt(request.table);
  const snapshot = await readSnapshot(target, table.root);
  // Equal, not "at least": runs on two hosts start in either order of their clocks. A stopped run was
  // the last to commit before the run completing it, so its txn is the newest in each table it reached.
  if (snapshot.transactions.get(SYNC_APP_ID)?.version === journal.transaction) {
    return { version: snapshot.version, snapshot };
  }
  const earlier =
    table.kind === 'run' && snapshot.version < 0
      ? await adoptEarlierPartitions(target, table.root, request.files, options.logger)
      : [];
  const committed = await commitFiles({
    target,
    tableRoot: table.root,
    spec: table.schema,
    mode: request.mode,
    files: [...earlier, ...request.files],
    partitionColumns: table.partitionColumns,
    transaction: { appId: SYNC_APP_ID, version: journal.transaction },
    now: options.now,
    retentionMs: options.retentionMs,
  });
  if (committed.checkpointError) {
    options.logger?.warn('could not write a Delta checkpoint; the next commit tries again', {
      table: table.root,
      error: committed.checkpointError,
    });
  }
  return committed;
}

/**
 * A copy, done again when a stopped publish is completed. Its source is staged until the journal
 * goes, or is the run's own file; a missing source whose destination already has the size it should
 * was copied before the stop. Otherwise what line readers take is lost, and the run says so.
 */
async function copyOnce(target: StorageTarget, copy: PublishCopy): Promise<void> {
  if (!(await target.exists(copy.from))) {
    const there = await target.read(copy.to);
    if (there?.body.length === copy.bytes) return;
    throw new LakeStateError(
      `is gone before it was copied to ${copy.to}: delete ${PUBLISH_JOURNAL_PATH} and run a full sync, which writes every latest table anew`,
      `${target.describe()} ${copy.from}`,
    );
  }
  const { bytes } = await target.copy(copy.from, copy.to);
  if (bytes !== copy.bytes) {
    throw new Error(`${copy.to}: copied ${bytes} bytes of ${copy.from}, written as ${copy.bytes}`);
  }
}

/** The journal goes once its publish is complete: only the run's own (a lost lease may have let another in). */
async function deleteJournal(target: StorageTarget, runId: string): Promise<void> {
  const file = await target.read(PUBLISH_JOURNAL_PATH);
  if (file && (JSON.parse(file.body.toString('utf8')) as { runId?: unknown }).runId === runId) {
    await target.delete(PUBLISH_JOURNAL_PATH);
  }
}

/**
 * Files of versions past retention go, data and log files a checkpoint covers; a failure costs
 * space, not the run (the next run retries).
 */
async function removeExpiredQuietly(target: StorageTarget, snapshot: Snapshot, options: PublishOptions): Promise<void> {
  try {
    const deleted = await removeExpired(target, snapshot, { retentionMs: options.retentionMs, now: options.now() });
    if (deleted.length > 0) {
      options.logger?.info('deleted files no version within retention reads', {
        table: snapshot.tableRoot,
        files: deleted.length,
      });
    }
  } catch (error) {
    options.logger?.warn('could not delete expired files', { table: snapshot.tableRoot, error });
  }
}

/** Staged files are published by copy; what is left under `prefix` no journal names any more. */
async function deleteStaging(target: StorageTarget, prefix: string, logger: Logger | undefined): Promise<void> {
  try {
    for (const file of await listAll(target, prefix)) await target.delete(file.path);
  } catch (error) {
    logger?.warn('could not delete staged files', { error });
  }
}

function parseJournal(body: Buffer, where: string): PublishJournal {
  let journal: Partial<PublishJournal>;
  try {
    journal = JSON.parse(body.toString('utf8')) as Partial<PublishJournal>;
  } catch (error) {
    throw new LakeStateError('is not JSON: not a publish journal this version wrote', where, { cause: error });
  }
  const valid =
    typeof journal.runId === 'string' &&
    Number.isSafeInteger(journal.transaction) &&
    Array.isArray(journal.commits) &&
    journal.commits.every((c) => typeof c?.table === 'string' && Array.isArray(c.files)) &&
    Array.isArray(journal.copies) &&
    Array.isArray(journal.deletes) &&
    typeof journal.manifest === 'object' &&
    journal.manifest !== null;
  if (!valid) throw new LakeStateError('is not a publish journal this version wrote', where);
  return journal as PublishJournal;
}

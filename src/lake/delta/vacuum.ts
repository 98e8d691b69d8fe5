/**
 * Deleting a Delta table's data files once no version within retention needs them: what Delta's
 * VACUUM does, run by the sync after its commit. A file goes when it is not in the table's current
 * version and either
 * - was removed by a version whose removal is older than the retention (every version that held it
 *   was committed before then, so time travel within retention never reaches it), or
 * - is named by no version at all (a run killed before its commit), is older than the retention,
 *   and was written after the table was created: files that were in the folder before it became a
 *   Delta table are not the table's to delete.
 * Files and folders whose names start with `_` or `.` (the log, temp files) are never touched.
 */
import type { StorageTarget } from '../storage/storage.js';
import { decodeDataPath } from './actions.js';
import { checkpointVersion } from './checkpoint.js';
import type { Snapshot } from './log.js';
import { commitVersion, logFolder } from './log-paths.js';

export interface VacuumOptions {
  readonly retentionMs: number;
  readonly now: Date;
}

/** Both: a table's expired data files, then its log files past retention; returns their paths. */
export async function removeExpired(
  target: StorageTarget,
  snapshot: Snapshot,
  options: VacuumOptions,
): Promise<string[]> {
  return [
    ...(await removeExpiredFiles(target, snapshot, options)),
    ...(await removeExpiredLogFiles(target, snapshot.tableRoot, options)),
  ];
}

/** Deletes the expired files of a table; returns their paths in the lake. */
export async function removeExpiredFiles(
  target: StorageTarget,
  snapshot: Snapshot,
  { retentionMs, now }: VacuumOptions,
): Promise<string[]> {
  const cutoff = now.getTime() - retentionMs;
  const created = snapshot.metadata?.createdTime;
  if (created === undefined) return [];
  const root = `${snapshot.tableRoot}/`;
  const active = new Set([...snapshot.files.keys()].map(decodeDataPath));
  const removedAt = new Map<string, number>();
  for (const [path, remove] of snapshot.tombstones) removedAt.set(decodeDataPath(path), remove.deletionTimestamp);
  const deleted: string[] = [];
  for await (const item of target.list(root)) {
    const relative = item.path.slice(root.length);
    if (relative.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'))) continue;
    if (active.has(relative)) continue;
    const removed = removedAt.get(relative);
    const written = item.lastModified.getTime();
    const expired = removed !== undefined ? removed < cutoff : written < cutoff && written >= created;
    if (expired && (await target.delete(item.path))) deleted.push(item.path);
  }
  return deleted;
}

/**
 * Deletes log files past retention that a checkpoint covers: every commit and checkpoint older than
 * the newest checkpoint written before the retention cutoff. That checkpoint stays, so the oldest
 * version kept can still be read (as the protocol requires of metadata cleanup); versions before it
 * were all committed before the cutoff.
 */
export async function removeExpiredLogFiles(
  target: StorageTarget,
  tableRoot: string,
  { retentionMs, now }: VacuumOptions,
): Promise<string[]> {
  const cutoff = now.getTime() - retentionMs;
  const folder = `${logFolder(tableRoot)}/`;
  const files: { path: string; version: number; checkpoint: boolean; old: boolean }[] = [];
  for await (const item of target.list(folder)) {
    const name = item.path.slice(folder.length);
    const checkpoint = checkpointVersion(name);
    const version = checkpoint ?? commitVersion(name);
    if (version === undefined) continue;
    files.push({
      path: item.path,
      version,
      checkpoint: checkpoint !== undefined,
      old: item.lastModified.getTime() < cutoff,
    });
  }
  const keep = Math.max(-1, ...files.filter((f) => f.checkpoint && f.old).map((f) => f.version));
  const deleted: string[] = [];
  for (const file of files) {
    if (file.version < keep && (await target.delete(file.path))) deleted.push(file.path);
  }
  return deleted;
}

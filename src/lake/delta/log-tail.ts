/**
 * A Delta table's log read forward, commit by commit, from a version a reader remembers: what a
 * change feed needs, without listing or replaying the whole log. A commit is one GET; the newest
 * version is found from `_last_checkpoint` and a few probes after it.
 */
import type { StorageTarget } from '../storage/storage.js';
import type { Action, AddAction } from './actions.js';
import { CHECKPOINT_INTERVAL, lastCheckpointPath } from './checkpoint.js';
import { commitPath, parseCommit } from './log.js';

export type CommitRead =
  | { readonly kind: 'commit'; readonly version: number; readonly actions: readonly Action[] }
  /** Not committed yet: the reader is at the head of the log. */
  | { readonly kind: 'none' }
  /** Committed once, and since removed by log cleanup (a later checkpoint covers it). */
  | { readonly kind: 'expired' };

/** Commit `version`, or why there is none. */
export async function readCommitAt(target: StorageTarget, tableRoot: string, version: number): Promise<CommitRead> {
  const path = commitPath(tableRoot, version);
  const file = await target.read(path);
  if (file) return { kind: 'commit', version, actions: parseCommit(file.body, path) };
  // Versions are contiguous and cleanup deletes only commits older than a checkpoint it keeps: a
  // missing commit with a later one, or with a newer checkpoint, is gone for good; else not written yet.
  const [later, checkpoint] = await Promise.all([
    target.exists(commitPath(tableRoot, version + 1)),
    lastCheckpointVersion(target, tableRoot),
  ]);
  return later || (checkpoint !== undefined && checkpoint > version) ? { kind: 'expired' } : { kind: 'none' };
}

/** The newest committed version, -1 when the table has no log yet. */
export async function newestVersion(target: StorageTarget, tableRoot: string): Promise<number> {
  let newest = (await lastCheckpointVersion(target, tableRoot)) ?? -1;
  // Checkpoints come every CHECKPOINT_INTERVAL versions, so the head is usually a batch of probes away.
  for (;;) {
    const probes = Array.from({ length: CHECKPOINT_INTERVAL }, (_, i) => newest + 1 + i);
    const found = await Promise.all(probes.map((version) => target.exists(commitPath(tableRoot, version))));
    const gap = found.indexOf(false);
    if (gap !== -1) return newest + gap;
    newest += CHECKPOINT_INTERVAL;
  }
}

/** The files a commit added as new data (not a compaction's rewrite), in the order it lists them. */
export function addedData(actions: readonly Action[]): AddAction[] {
  return actions.flatMap((action) => ('add' in action && action.add.dataChange ? [action.add] : []));
}

async function lastCheckpointVersion(target: StorageTarget, tableRoot: string): Promise<number | undefined> {
  const file = await target.read(lastCheckpointPath(tableRoot));
  if (!file) return undefined;
  try {
    const version = (JSON.parse(file.body.toString('utf8')) as { version?: unknown }).version;
    return Number.isSafeInteger(version) ? (version as number) : undefined;
  } catch {
    // A torn or foreign _last_checkpoint is only a hint (the protocol says so): probe from the start.
    return undefined;
  }
}

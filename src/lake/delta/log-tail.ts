/**
 * A Delta table's log read forward, commit by commit, from a version a reader remembers: what a
 * change feed needs, without listing or replaying the whole log. A commit is one GET; the newest
 * version is found from `_last_checkpoint` and a few probes after it.
 *
 * A reader remembers the digest of the last commit it read, and checks it before going on: versions
 * are contiguous and cleanup deletes only commits older than a checkpoint it keeps, so that commit
 * missing means the log was cleaned past the reader; present with other bytes, that the table was
 * made anew in the same folder (its versions start again at 0).
 */
import { createHash } from 'node:crypto';
import type { StorageTarget } from '../storage/storage.js';
import type { Action, AddAction } from './actions.js';
import { CHECKPOINT_INTERVAL, lastCheckpointVersion } from './checkpoint.js';
import { checkedProtocol, commitPath, parseCommit } from './log.js';

export interface TailCommit {
  readonly version: number;
  readonly actions: readonly Action[];
  /** Names these bytes: what a reader keeps to check the log later (see the module comment). */
  readonly digest: string;
}

/** Commit `version`, or undefined when it is not in the log. Refuses a protocol this reader cannot read. */
export async function readTailCommit(
  target: StorageTarget,
  tableRoot: string,
  version: number,
): Promise<TailCommit | undefined> {
  const path = commitPath(tableRoot, version);
  const file = await target.read(path);
  if (!file) return undefined;
  const actions = parseCommit(file.body, path);
  for (const action of actions) if ('protocol' in action) checkedProtocol(action.protocol, path);
  return { version, actions, digest: createHash('sha256').update(file.body).digest('base64url').slice(0, 22) };
}

/**
 * The newest committed version, -1 when the table has no log yet. From `_last_checkpoint` on, unless
 * told not to trust it (it is a hint: a table made anew may find an old one).
 */
export async function newestVersion(target: StorageTarget, tableRoot: string, useHint = true): Promise<number> {
  let newest = (useHint ? await lastCheckpointVersion(target, tableRoot) : undefined) ?? -1;
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

/**
 * The change feed flows are triggered by: the rows `referral_versions` gains, commit by commit, read
 * from a position a trigger state remembers. Every version of every referral the events and the
 * sync record lands there once (src/sync/versions.ts), so a poll costs the lake a few reads and
 * Partner Center nothing.
 *
 * Order: commits in version order (the order runs reached the lake); inside a commit, file by file
 * and row group by row group, each row group's rows oldest updatedDateTime first (then by id, so
 * the order is the same at every read and a position inside it stays valid).
 */
import { type AddAction, decodeDataPath } from '../../lake/delta/actions.js';
import { commitPath } from '../../lake/delta/log-paths.js';
import { addedData, newestVersion, readTailCommit } from '../../lake/delta/log-tail.js';
import { openParquetRowGroups, type ParquetRowGroups } from '../../lake/formats/parquet-reader.js';
import type { StorageTarget } from '../../lake/storage/storage.js';
import type { Row } from '../../schema/table.js';
import { REFERRAL_VERSIONS } from '../../schema/tables.js';

const TABLE_ROOT = REFERRAL_VERSIONS.name;

/** Where a trigger resumes: the next commit, and inside it the file, row group and rows passed. */
export interface FeedPosition {
  readonly version: number;
  readonly file: number;
  readonly group: number;
  readonly row: number;
  /** Digest of commit `version - 1` as read (log-tail.ts): checked before reading on. */
  readonly previous?: string;
  /**
   * Epoch ms the trigger started at, when the table did not exist yet: the commit that creates it
   * counts only versions updated since (it holds the history of every referral seen so far).
   */
  readonly since?: number;
}

export interface FeedLimits {
  /** Changes one read returns at most. */
  readonly changes: number;
  /** Rows one read looks at at most (a filter that matches little must not make a poll long). */
  readonly scanned: number;
  /** Commits one read opens at most. */
  readonly commits: number;
}

export interface FeedRead {
  readonly changes: Row[];
  readonly next: FeedPosition;
  /** The read stopped at a limit, not at the head of the log: poll again soon. */
  readonly more: boolean;
}

/** The position after every commit made so far: a new trigger starts from now. */
export async function headPosition(target: StorageTarget, now: number = Date.now()): Promise<FeedPosition> {
  for (const useHint of [true, false]) {
    const newest = await newestVersion(target, TABLE_ROOT, useHint);
    if (newest < 0) return { version: 0, file: 0, group: 0, row: 0, since: now };
    const head = await readTailCommit(target, TABLE_ROOT, newest);
    if (head) return { version: newest + 1, file: 0, group: 0, row: 0, previous: head.digest };
  }
  throw new Error(`${TABLE_ROOT}'s newest commit disappeared while it was read`);
}

/** The feed cannot go on from a position: its commits or files are gone, or the table was made anew. */
export class FeedExpiredError extends Error {
  constructor(
    readonly version: number,
    why: string,
  ) {
    super(`version ${version} of ${TABLE_ROOT}: ${why}`);
    this.name = 'FeedExpiredError';
  }
}

/** The changes after `from` that `matches` keeps, oldest first, within `limits`. */
export async function readChanges(
  target: StorageTarget,
  from: FeedPosition,
  matches: (row: Row) => boolean,
  limits: FeedLimits,
): Promise<FeedRead> {
  await checkPrevious(target, from);
  const changes: Row[] = [];
  let scanned = 0;
  let at = from;
  for (let commits = 0; commits < limits.commits; commits++) {
    const commit = await readTailCommit(target, TABLE_ROOT, at.version);
    if (!commit) {
      await checkNotCleaned(target, at);
      return { changes, next: at, more: false };
    }
    const keep = at.since !== undefined && at.version === 0 ? updatedSince(at.since, matches) : matches;
    const files = addedData(commit.actions);
    for (let f = at.file; f < files.length; f++) {
      const file = await openDataFile(target, files[f] as AddAction, at.version);
      try {
        for (let g = f === at.file ? at.group : 0; g < file.rowGroups; g++) {
          const rows = oldestFirst(await file.read(g));
          for (let r = f === at.file && g === at.group ? at.row : 0; r < rows.length; r++) {
            scanned++;
            const row = rows[r] as Row;
            if (keep(row)) changes.push(row);
            if (changes.length >= limits.changes || scanned >= limits.scanned) {
              const next = after(
                at,
                commit.digest,
                { f, g, r },
                { files: files.length, groups: file.rowGroups, rows: rows.length },
              );
              return { changes, next, more: true };
            }
          }
        }
      } finally {
        file.close();
      }
    }
    at = { version: at.version + 1, file: 0, group: 0, row: 0, previous: commit.digest };
  }
  return { changes, next: at, more: true };
}

/**
 * The position after row r of group g of file f: the start of the next group, file or commit when
 * that row ends one, so that a poll never opens a group only to find it read.
 */
function after(
  at: FeedPosition,
  digest: string,
  { f, g, r }: { f: number; g: number; r: number },
  sizes: { files: number; groups: number; rows: number },
): FeedPosition {
  if (r + 1 < sizes.rows) return { ...at, file: f, group: g, row: r + 1 };
  if (g + 1 < sizes.groups) return { ...at, file: f, group: g + 1, row: 0 };
  if (f + 1 < sizes.files) return { ...at, file: f + 1, group: 0, row: 0 };
  return { version: at.version + 1, file: 0, group: 0, row: 0, previous: digest };
}

/** The commit before the position must still be the one the trigger read (see log-tail.ts). */
async function checkPrevious(target: StorageTarget, at: FeedPosition): Promise<void> {
  if (at.version === 0) return;
  const previous = await readTailCommit(target, TABLE_ROOT, at.version - 1);
  if (!previous) {
    throw new FeedExpiredError(
      at.version,
      'the log no longer holds the commit before it (cleaned up after the retention)',
    );
  }
  if (at.previous !== undefined && previous.digest !== at.previous) {
    throw new FeedExpiredError(at.version, 'the table was made anew since the trigger read it');
  }
}

/**
 * A position at version 0 has no commit before it to check: the table did not exist when the trigger
 * started. Its first commit missing while a later one is there means the log was cleaned past it.
 */
async function checkNotCleaned(target: StorageTarget, at: FeedPosition): Promise<void> {
  if (at.version === 0 && (await target.exists(commitPath(TABLE_ROOT, 1)))) {
    throw new FeedExpiredError(0, 'the log no longer holds the first commit (cleaned up after the retention)');
  }
}

async function openDataFile(target: StorageTarget, add: AddAction, version: number): Promise<ParquetRowGroups> {
  const path = `${TABLE_ROOT}/${decodeDataPath(add.path)}`;
  if (!(await target.exists(path))) {
    throw new FeedExpiredError(version, `${path}, which the commit added, is gone (vacuumed after the retention)`);
  }
  return openParquetRowGroups(target, path, add.size, REFERRAL_VERSIONS);
}

function updatedSince(sinceMs: number, matches: (row: Row) => boolean): (row: Row) => boolean {
  const since = sinceMs * 1000;
  return (row) => {
    const updated = row._source_updated_date_time;
    return typeof updated === 'number' && updated >= since && matches(row);
  };
}

function oldestFirst(rows: Row[]): Row[] {
  return rows.sort(
    (a, b) =>
      compareMicros(a._source_updated_date_time, b._source_updated_date_time) ||
      compareText(a.referral_id, b.referral_id),
  );
}

/** By code unit, as every reader sorts the same way whatever its locale. */
function compareText(a: unknown, b: unknown): number {
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Timestamps ascending, an unknown one last. */
function compareMicros(a: unknown, b: unknown): number {
  if (typeof a !== 'number') return typeof b === 'number' ? 1 : 0;
  if (typeof b !== 'number') return -1;
  return a - b;
}

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
import { addedData, newestVersion, readCommitAt } from '../../lake/delta/log-tail.js';
import { openParquetRowGroups } from '../../lake/formats/parquet-reader.js';
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
export async function headPosition(target: StorageTarget): Promise<FeedPosition> {
  return { version: (await newestVersion(target, TABLE_ROOT)) + 1, file: 0, group: 0, row: 0 };
}

/** The log no longer holds the trigger's commit: cleanup removed it (LAKE_RETENTION_DAYS). */
export class FeedExpiredError extends Error {
  constructor(readonly version: number) {
    super(`version ${version} of ${TABLE_ROOT} is no longer in its log (removed after the lake's retention)`);
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
  const changes: Row[] = [];
  let scanned = 0;
  let at = from;
  for (let commits = 0; commits < limits.commits; commits++) {
    const read = await readCommitAt(target, TABLE_ROOT, at.version);
    if (read.kind === 'none') return { changes, next: at, more: false };
    if (read.kind === 'expired') throw new FeedExpiredError(at.version);
    const files = addedData(read.actions);
    for (let f = at.file; f < files.length; f++) {
      const add = files[f] as AddAction;
      const file = await openParquetRowGroups(target, dataPath(add), add.size, REFERRAL_VERSIONS);
      const firstGroup = f === at.file ? at.group : 0;
      for (let g = firstGroup; g < file.rowGroups; g++) {
        const rows = oldestFirst(await file.read(g));
        const firstRow = f === at.file && g === at.group ? at.row : 0;
        for (let r = firstRow; r < rows.length; r++) {
          scanned++;
          const row = rows[r] as Row;
          if (matches(row)) changes.push(row);
          if (changes.length >= limits.changes || scanned >= limits.scanned) {
            return { changes, next: { version: at.version, file: f, group: g, row: r + 1 }, more: true };
          }
        }
      }
    }
    at = { version: at.version + 1, file: 0, group: 0, row: 0 };
  }
  return { changes, next: at, more: true };
}

function dataPath(add: AddAction): string {
  return `${TABLE_ROOT}/${decodeDataPath(add.path)}`;
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

/**
 * Which of two copies of one referral is newer. One rule for every place that asks: the run's
 * dedupe (run.ts through SeenIds), the latest tables (latest.ts) and the incremental change count.
 * It reads what the copy's rows hold, `_source_updated_date_time`, because latest.ts can tell copies
 * apart only by that cell: a dedupe that judged by anything else could keep a copy whose rows then
 * lose to its own verdict.
 *
 * That happened (issue 17): the dedupe read updatedDateTime text, in which
 * `9999-12-31T23:59:59.9999999Z` is a fine instant and the newest; the normalizer cannot hold it as
 * exact microseconds, so that copy's rows said null; latest.ts compared null (as 0) with the winning
 * version and skipped both copies. The referral left `referrals_latest` and the run succeeded.
 *
 * A version is updatedDateTime in epoch microseconds, or null when the normalizer did not keep it
 * (absent, unparseable, out of range: quarantined). An unknown version is older than every known
 * one and the same as another unknown one: a copy replaces another only when its rows can show that
 * they are newer. So a copy at 9999-12-31 met after a readable copy is dropped as a duplicate, and
 * met before one is superseded by it; either way the readable copy is the one in the latest tables.
 */
import { sourceUpdatedMicros } from '../normalize/normalize.js';
import type { Row } from '../schema/table.js';

export type Version = number | null;

/** The version of a referral as the API sent it: the `_source_updated_date_time` its rows get. */
export function referralVersion(referral: unknown): Version {
  return sourceUpdatedMicros(referral);
}

/** The version a written row carries. */
export function rowVersion(row: Row): Version {
  const cell = row._source_updated_date_time;
  return typeof cell === 'number' ? cell : null;
}

/**
 * A version as one float64 that orders as compareVersions does (unknown is −∞): how SeenIds keeps
 * versions in its records.
 */
export function versionRank(version: Version): number {
  return version ?? Number.NEGATIVE_INFINITY;
}

/** Negative when `a` is older than `b`, 0 for the same version, positive when newer. */
export function compareVersions(a: Version, b: Version): number {
  const x = versionRank(a);
  const y = versionRank(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

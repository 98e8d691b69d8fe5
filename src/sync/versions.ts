/**
 * referral_versions: every distinct version of every referral the sync has seen, one row per
 * (referral_id, _source_updated_date_time), never twice. Every run (full or incremental) appends the
 * versions of its referrals that no earlier run recorded.
 *
 * Which versions the table holds is in its keys file (`_state/referral_versions.ids.tsv`, one line
 * per row, referral-ids.ts), published with each append. Memory stays flat:
 * 1. one pass over the keys marks each referral of the run whose kept version is already recorded
 *    (a bit per id in SeenIds); a referral met at two versions during the pull (few) has both copies
 *    in the run's file, so its recorded versions are collected instead;
 * 2. one pass over the run's referrals file, beside its own keys file (same rows, same order), writes
 *    the rows not recorded, parsing only those; the new keys file is the old one plus theirs.
 */
import { InconsistentRunError, LakeStateError } from '../common/errors.js';
import { readSnapshot } from '../lake/delta/log.js';
import { newDataFile, newDataFileName } from '../lake/delta/table.js';
import { ndjsonRowParser, readNdjsonLines } from '../lake/formats/ndjson-reader.js';
import { createParquetWriter } from '../lake/formats/parquet-writer.js';
import { stagedPath, VERSION_KEYS_PATH } from '../lake/layout/paths.js';
import { ReferralIdsWriter, readReferralIds } from '../lake/layout/referral-ids.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import { getTable, REFERRAL_VERSIONS } from '../schema/tables.js';
import type { PublishCopy, TableCommit } from './publish.js';
import type { SeenIds } from './seen-ids.js';
import type { Version } from './version.js';

export interface VersionsInput {
  readonly target: StorageTarget;
  readonly runId: string;
  /** The run's start, epoch microseconds: `_first_seen_at`. */
  readonly firstSeenAtMicros: number;
  /** The run's referrals NDJSON file and its keys file (run-files.ts). */
  readonly runReferrals: { readonly ndjson: string; readonly ids: string };
  /** The run's referrals and the version it kept of each. */
  readonly seen: SeenIds;
  /** Referrals met at two versions during the pull (both copies are in the run's file). */
  readonly superseded: ReadonlyMap<string, Version>;
}

export interface VersionsStaged {
  readonly rows: number;
  /** The append and the new keys file; undefined when every version was recorded already. */
  readonly commit?: TableCommit;
  readonly copy?: PublishCopy;
}

export async function stageVersions(input: VersionsInput): Promise<VersionsStaged> {
  const { target, runId } = input;
  await checkKeysFile(target);
  const keysPath = stagedPath(runId, VERSION_KEYS_PATH);
  const keys = new ReferralIdsWriter(await target.openWrite(keysPath));
  const fileName = newDataFileName();
  const writer = createParquetWriter(
    REFERRAL_VERSIONS,
    await target.openWrite(`${REFERRAL_VERSIONS.name}/${fileName}`),
  );
  try {
    const recordedTwice = await carryKeysOver(input, keys);
    const parse = ndjsonRowParser(getTable('referrals'), `${target.describe()} ${input.runReferrals.ndjson}`);
    let rows = 0;
    for await (const { key, line, lineNumber } of keyedLines(target, input.runReferrals)) {
      const recorded = input.superseded.has(key.id)
        ? (recordedTwice.get(key.id)?.has(key.version) ?? false)
        : input.seen.isMarked(key.id);
      if (recorded) continue;
      const row = parse(line, lineNumber);
      await writer.write({ ...row, _first_seen_run_id: runId, _first_seen_at: input.firstSeenAtMicros });
      await keys.write(row);
      rows++;
    }
    if (rows === 0) {
      await Promise.all([writer.abort(), keys.abort()]);
      return { rows };
    }
    const [{ bytes }, keysFile] = await Promise.all([writer.close(), keys.close()]);
    const file = newDataFile(REFERRAL_VERSIONS, { path: fileName, size: bytes, statistics: writer.statistics });
    return {
      rows,
      commit: { table: REFERRAL_VERSIONS.name, mode: 'append', files: [file] },
      copy: { from: keysPath, to: VERSION_KEYS_PATH, bytes: keysFile.bytes },
    };
  } catch (error) {
    await Promise.allSettled([writer.abort(), keys.abort()]);
    throw error;
  }
}

/**
 * Copies the recorded keys into the new keys file, marking each run referral whose kept version
 * is among them; returns the recorded versions of the run's superseded referrals.
 */
async function carryKeysOver(input: VersionsInput, keys: ReferralIdsWriter): Promise<Map<string, Set<Version>>> {
  const recordedTwice = new Map<string, Set<Version>>();
  for await (const { id, version } of readReferralIds(input.target, VERSION_KEYS_PATH)) {
    await keys.write({ referral_id: id, _source_updated_date_time: version });
    if (!input.superseded.has(id)) input.seen.markIfKept(id, version);
    else recordedTwice.set(id, (recordedTwice.get(id) ?? new Set()).add(version));
  }
  return recordedTwice;
}

/** The run's referrals lines with their keys, read side by side from the two files. */
async function* keyedLines(
  target: StorageTarget,
  files: VersionsInput['runReferrals'],
): AsyncGenerator<{ key: { id: string; version: Version }; line: string; lineNumber: number }> {
  const keys = readReferralIds(target, files.ids);
  try {
    for await (const { line, lineNumber } of readNdjsonLines(target, files.ndjson)) {
      const next = await keys.next();
      if (next.done || !line.includes(`"referral_id":${JSON.stringify(next.value.id)}`)) {
        throw new InconsistentRunError(
          `${files.ids} does not match ${files.ndjson} at line ${lineNumber}: the run's referrals and their keys differ`,
        );
      }
      yield { key: next.value, line, lineNumber };
    }
  } finally {
    await keys.return(undefined);
  }
}

/** A table with rows but no keys file would get every version again: refused, naming the file. */
async function checkKeysFile(target: StorageTarget): Promise<void> {
  if (await target.exists(VERSION_KEYS_PATH)) return;
  const snapshot = await readSnapshot(target, REFERRAL_VERSIONS.name);
  if (snapshot.files.size === 0) return;
  throw new LakeStateError(
    `is missing while ${REFERRAL_VERSIONS.name} holds ${snapshot.files.size} data file(s): this run would record ` +
      'every version again. Restore the file, or move the table folder away to start the history anew',
    `${target.describe()} ${VERSION_KEYS_PATH}`,
  );
}

/**
 * referral_versions: every distinct version of every referral the sync has seen, one row per
 * (referral_id, _source_updated_date_time), never twice. Every run (full or incremental) appends the
 * versions of its referrals that no earlier run recorded.
 *
 * Which versions the table holds is in its keys file (`_state/referral_versions.ids.tsv`, one line
 * per row, referral-ids.ts), published with each append. The recorder reads it once before the
 * pull, copying it into the run's new keys file and keeping each referral's newest recorded version
 * in a SeenIds (flat memory, ~9 MB a million); then the pull's referrals rows come in as they are
 * written, and the ones at a version newer than recorded go straight to the new data file. The run's
 * NDJSON is never read back: for a run that changes little, that pass cost more than everything
 * else the Delta tables add (6.5 s of a 50 s run at 100k, against Azurite).
 *
 * A row older than the newest recorded version of its referral (updatedDateTime does not go back in
 * Partner Center, so this is rare) is kept aside and checked against the whole keys file at the end.
 */
import { LakeStateError } from '../common/errors.js';
import { readSnapshot } from '../lake/delta/log.js';
import { newDataFile, newDataFileName } from '../lake/delta/table.js';
import { readNdjsonRows } from '../lake/formats/ndjson-reader.js';
import { createParquetWriter, lakeTableWriterOptions, type ParquetFileWriter } from '../lake/formats/parquet-writer.js';
import { stagedPath, VERSION_KEYS_PATH } from '../lake/layout/paths.js';
import { ReferralIdsWriter, readReferralIds } from '../lake/layout/referral-ids.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import type { Cell, Row } from '../schema/table.js';
import { getTable, REFERRAL_VERSIONS } from '../schema/tables.js';
import { previousLatestNdjson } from './latest.js';
import type { PublishCopy, TableCommit } from './publish.js';
import { SeenIds } from './seen-ids.js';
import { compareVersions, rowVersion, type Version } from './version.js';

/** Rows per row group of referral_versions' files. */
export const VERSIONS_ROW_GROUP_ROWS = 10_000;

export interface VersionsStaged {
  readonly rows: number;
  /** The append and the new keys file; undefined when every version was recorded already. */
  readonly commit?: TableCommit;
  readonly copy?: PublishCopy;
}

export interface VersionsRecorderOptions {
  readonly target: StorageTarget;
  readonly runId: string;
  /** The run's start, epoch microseconds: `_first_seen_at`. */
  readonly firstSeenAtMicros: number;
}

export class VersionsRecorder {
  private readonly newest = new SeenIds();
  /** Rows older than their referral's newest recorded version, checked at the end. */
  private readonly older: Row[] = [];
  private rows = 0;

  private constructor(
    private readonly options: VersionsRecorderOptions,
    private readonly keysPath: string,
    private readonly keys: ReferralIdsWriter,
    private readonly fileName: string,
    private readonly writer: ParquetFileWriter,
  ) {}

  /**
   * Reads the recorded keys, checking them against the table; call before the pull. A lake that has
   * latest tables but no versions yet (written before referral_versions) starts the table from
   * referrals_latest: those versions were seen, by the runs their rows name.
   */
  static async open(options: VersionsRecorderOptions): Promise<VersionsRecorder> {
    const { target, runId } = options;
    const tableRows = await rowsInTable(target);
    const keysPath = stagedPath(runId, VERSION_KEYS_PATH);
    const keys = new ReferralIdsWriter(await target.openWrite(keysPath));
    const fileName = newDataFileName();
    const writer = createParquetWriter(
      REFERRAL_VERSIONS,
      await target.openWrite(`${REFERRAL_VERSIONS.name}/${fileName}`),
      // The flows' trigger (src/live/trigger/feed.ts) decodes a row group per poll: groups of
      // 10,000 rows keep that short, where the referrals default would make it up to a million.
      { ...lakeTableWriterOptions('referrals'), rowGroupRows: VERSIONS_ROW_GROUP_ROWS },
    );
    const recorder = new VersionsRecorder(options, keysPath, keys, fileName, writer);
    try {
      let recorded = 0;
      for await (const key of readReferralIds(target, VERSION_KEYS_PATH)) {
        await keys.write({ referral_id: key.id, _source_updated_date_time: key.version });
        recorder.newest.observe(key.id, key.version);
        recorded++;
      }
      checkKeysMatch(target, recorded, tableRows);
      if (tableRows === 0) await recorder.seedFromLatest();
    } catch (error) {
      await recorder.abort();
      throw error;
    }
    return recorder;
  }

  /** A referrals row of the run: recorded when its version is new. */
  async offer(row: Row): Promise<void> {
    const id = row.referral_id;
    if (typeof id !== 'string') return;
    const seen = this.newest.observe(id, rowVersion(row));
    if (seen === 'new' || seen === 'newer') await this.record(row);
    else if (seen === 'older') this.older.push(row);
  }

  /** Closes the files; the commit and the keys copy for the run's publish, when anything is new. */
  async stage(): Promise<VersionsStaged> {
    try {
      await this.recordUnrecordedOlder();
      if (this.rows === 0) {
        await this.abort();
        return { rows: 0 };
      }
      const [{ bytes }, keysFile] = await Promise.all([this.writer.close(), this.keys.close()]);
      const file = newDataFile(REFERRAL_VERSIONS, {
        path: this.fileName,
        size: bytes,
        statistics: this.writer.statistics,
      });
      return {
        rows: this.rows,
        commit: { table: REFERRAL_VERSIONS.name, mode: 'append', files: [file] },
        copy: { from: this.keysPath, to: VERSION_KEYS_PATH, bytes: keysFile.bytes },
      };
    } finally {
      this.newest.close();
    }
  }

  async abort(): Promise<void> {
    this.newest.close();
    await Promise.allSettled([this.writer.abort(), this.keys.abort()]);
  }

  private async record(
    row: Row,
    firstSeen: { runId: Cell; atMicros: Cell } = {
      runId: this.options.runId,
      atMicros: this.options.firstSeenAtMicros,
    },
  ): Promise<void> {
    await this.writer.write({ ...row, _first_seen_run_id: firstSeen.runId, _first_seen_at: firstSeen.atMicros });
    await this.keys.write(row);
    this.rows++;
  }

  /** Every row of the previous referrals_latest, first seen by the run that extracted it. */
  private async seedFromLatest(): Promise<void> {
    const previous = await previousLatestNdjson(this.options.target, 'referrals');
    for await (const row of readNdjsonRows(this.options.target, previous, getTable('referrals'))) {
      if (typeof row.referral_id !== 'string') continue;
      if (this.newest.observe(row.referral_id, rowVersion(row)) !== 'new') continue;
      await this.record(row, { runId: row._run_id ?? this.options.runId, atMicros: row._extracted_at ?? null });
    }
  }

  /** One more pass over the recorded keys, only when some row came older than its newest version. */
  private async recordUnrecordedOlder(): Promise<void> {
    if (this.older.length === 0) return;
    const wanted = new Map<string, Version[]>();
    for (const row of this.older)
      wanted.set(String(row.referral_id), [...(wanted.get(String(row.referral_id)) ?? []), rowVersion(row)]);
    const recorded = new Set<string>();
    for await (const { id, version } of readReferralIds(this.options.target, VERSION_KEYS_PATH)) {
      if (wanted.get(id)?.some((v) => compareVersions(v, version) === 0)) recorded.add(`${id}\t${version}`);
    }
    for (const row of this.older) {
      const key = `${row.referral_id}\t${rowVersion(row)}`;
      if (recorded.has(key)) continue;
      recorded.add(key);
      await this.record(row);
    }
  }
}

/** The rows referral_versions holds now, by its files' statistics (every file this writer adds has them). */
async function rowsInTable(target: StorageTarget): Promise<number> {
  const snapshot = await readSnapshot(target, REFERRAL_VERSIONS.name);
  let rows = 0;
  for (const file of snapshot.files.values()) {
    const stats = file.stats === undefined ? undefined : (JSON.parse(file.stats) as { numRecords?: unknown });
    if (typeof stats?.numRecords !== 'number') return Number.NaN;
    rows += stats.numRecords;
  }
  return rows;
}

/**
 * The keys must name exactly the table's rows: fewer (a lost or older file) would record versions
 * again, more (a newer file, or the table moved away) would never record the ones missing. Both are
 * refused, naming the file. A table whose files carry no row counts is not checked.
 */
function checkKeysMatch(target: StorageTarget, keys: number, tableRows: number): void {
  if (Number.isNaN(tableRows) || keys === tableRows) return;
  throw new LakeStateError(
    `names ${keys} version(s) where ${REFERRAL_VERSIONS.name} holds ${tableRows} row(s): the keys file and the ` +
      'table disagree, and this run would record versions twice or never. Restore the keys file that goes with ' +
      'the table, or move both the table folder and the keys file away to start the history anew',
    `${target.describe()} ${VERSION_KEYS_PATH}`,
  );
}

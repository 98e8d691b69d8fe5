/**
 * Referrals that leave the book. After a full run, referrals_latest holds exactly what the pull
 * found; a referral that was in the previous latest table and that the pull did not find has
 * vanished (deleted in Partner Center, or no longer visible to the signed-in user: the API does not
 * say which). Its last row goes to the Delta table referrals_vanished, with when and in which run.
 *
 * The shrink guard comes first: a full run that would vanish more than the allowed share of the
 * latest table was probably not the whole book (the wrong user signed in), and publishes nothing.
 * Incremental runs read only what changed and never vanish anything.
 */
import { ShrinkRefusedError } from '../common/errors.js';
import { newDataFile, newDataFileName } from '../lake/delta/table.js';
import { leadingStringValue, ndjsonRowParser, readNdjsonLines } from '../lake/formats/ndjson-reader.js';
import { createParquetWriter, lakeTableWriterOptions } from '../lake/formats/parquet-writer.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import { getTable, REFERRALS_VANISHED } from '../schema/tables.js';
import { previousLatestKeys } from './latest.js';
import type { TableCommit } from './publish.js';

export interface VanishCount {
  /** Referrals in the previous latest table. */
  readonly previous: number;
  /** Of those, the ones this run did not find. */
  readonly vanished: number;
}

export interface VanishInput {
  readonly target: StorageTarget;
  /** The previous latest rows of referrals (NDJSON; latest.ts knows where), read for those that vanished. */
  readonly previousLatest: string;
  /** Whether this run found the referral. */
  readonly found: (referralId: string) => boolean;
}

/** One pass over the previous latest table's keys (its ids file): cheap beside the run. */
export async function countVanished(input: VanishInput): Promise<VanishCount> {
  let previous = 0;
  let vanished = 0;
  for await (const { id } of previousLatestKeys(input.target)) {
    previous++;
    if (!input.found(id)) vanished++;
  }
  return { previous, vanished };
}

function referralIdOf(line: string): string {
  return leadingStringValue(line, 'referral_id') ?? '';
}

/** Refuses a run that would vanish more than `limit` of the latest table, unless allowed. */
export function checkShrink(count: VanishCount, limit: number, allowShrink: boolean, runFolder: string): void {
  if (allowShrink || count.vanished === 0) return;
  if (count.vanished > limit * count.previous) {
    throw new ShrinkRefusedError(count.vanished, count.previous, limit, runFolder);
  }
}

export interface VanishedStaged {
  readonly rows: number;
  /** The append to referrals_vanished; undefined when nothing vanished. */
  readonly commit?: TableCommit;
}

/**
 * Writes the vanished referrals' last rows as one data file of referrals_vanished, for the run's
 * publish to append. Called before the latest tables are replaced (it reads the previous ones).
 */
export async function stageVanished(
  input: VanishInput & { readonly runId: string; readonly vanishedAtMicros: number },
): Promise<VanishedStaged> {
  const fileName = newDataFileName();
  const path = `${REFERRALS_VANISHED.name}/${fileName}`;
  const writer = createParquetWriter(
    REFERRALS_VANISHED,
    await input.target.openWrite(path),
    lakeTableWriterOptions('referrals'),
  );
  const parse = ndjsonRowParser(getTable('referrals'), `${input.target.describe()} ${input.previousLatest}`);
  let rows = 0;
  try {
    for await (const { line, lineNumber } of readNdjsonLines(input.target, input.previousLatest)) {
      if (input.found(referralIdOf(line))) continue;
      const row = parse(line, lineNumber);
      await writer.write({ ...row, _vanished_at: input.vanishedAtMicros, _vanished_run_id: input.runId });
      rows++;
    }
    if (rows === 0) {
      await writer.abort();
      return { rows };
    }
    const { bytes } = await writer.close();
    const file = newDataFile(REFERRALS_VANISHED, { path: fileName, size: bytes, statistics: writer.statistics });
    return { rows, commit: { table: REFERRALS_VANISHED.name, mode: 'append', files: [file] } };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

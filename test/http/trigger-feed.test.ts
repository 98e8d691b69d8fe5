/**
 * The trigger's change feed (src/live/trigger/feed.ts) over commits of several files of several row
 * groups, written with the lake's own writer and committed with its Delta log code: read in pieces
 * of any size it gives every row once, each row group oldest first, and a position never rests at
 * the end of a group, file or commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReferrals } from '../../sandbox/generator.js';
import { commitFiles, newDataFile, newDataFileName } from '../../src/lake/delta/table.js';
import { createParquetWriter } from '../../src/lake/formats/parquet-writer.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { type FeedPosition, readChanges } from '../../src/live/trigger/feed.js';
import { normalizeReferral } from '../../src/normalize/normalize.js';
import type { Row } from '../../src/schema/table.js';
import { REFERRAL_VERSIONS } from '../../src/schema/tables.js';

let root: string;
let target: LocalDirectoryTarget;
/** Rows of each commit, file by file. */
const commits: Row[][][] = [];

function versionRows(count: number, offset: number): Row[] {
  const referrals = generateReferrals({ count: count + offset, seed: 70 }).slice(offset);
  return referrals.map((referral, i) => {
    const [row] = normalizeReferral(referral, { runId: `run-${offset}`, extractedAtMicros: 1e15 }).rows.referrals;
    if (!row) throw new Error('the normalizer kept no row');
    // Out of order in the file, so that each row group's sort shows.
    return { ...row, _first_seen_run_id: `run-${offset}`, _first_seen_at: 1e15 + ((i * 7) % count) };
  });
}

async function writeFile(rows: readonly Row[]): Promise<{ path: string; size: number; statistics: unknown }> {
  const path = newDataFileName();
  const writer = createParquetWriter(REFERRAL_VERSIONS, await target.openWrite(`${REFERRAL_VERSIONS.name}/${path}`), {
    rowGroupRows: 3,
  });
  for (const row of rows) await writer.write(row);
  const { bytes } = await writer.close();
  return { path, size: bytes, statistics: writer.statistics };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trigger-feed-'));
  target = new LocalDirectoryTarget({ root });
  let offset = 0;
  for (const sizes of [[7, 5], [4], [1, 3, 6]]) {
    const files = sizes.map((size) => {
      const rows = versionRows(size, offset);
      offset += size;
      return rows;
    });
    const written = [];
    for (const rows of files) written.push(await writeFile(rows));
    await commitFiles({
      target,
      tableRoot: REFERRAL_VERSIONS.name,
      spec: REFERRAL_VERSIONS,
      mode: 'append',
      files: written.map((file) => newDataFile(REFERRAL_VERSIONS, file as never)),
    });
    commits.push(files);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const START: FeedPosition = { version: 0, file: 0, group: 0, row: 0 };
const ALL = { changes: 1e6, scanned: 1e6, commits: 1e3 };
const id = (row: Row) => String(row.referral_id);

describe('the change feed', () => {
  it('gives every row of every commit once, file by file, each row group oldest first', async () => {
    const whole = await readChanges(target, START, () => true, ALL);
    expect(whole.more).toBe(false);
    expect(whole.next).toMatchObject({ version: 3, file: 0, group: 0, row: 0 });
    const expected = commits.flatMap((files) =>
      files.flatMap((rows) => {
        const groups: Row[][] = [];
        for (let i = 0; i < rows.length; i += 3) groups.push(rows.slice(i, i + 3));
        return groups.flatMap((group) =>
          [...group].sort(
            (a, b) =>
              (a._source_updated_date_time as number) - (b._source_updated_date_time as number) ||
              (id(a) < id(b) ? -1 : 1),
          ),
        );
      }),
    );
    expect(whole.changes.map(id)).toEqual(expected.map(id));
  });

  it('read in pieces of every size, gives the same rows, and never rests at the end of a group', async () => {
    const whole = await readChanges(target, START, () => true, ALL);
    for (const changes of [1, 2, 3, 4, 5, 7]) {
      const pieces: Row[] = [];
      let at = START;
      for (let reads = 0; ; reads++) {
        expect(reads).toBeLessThan(100);
        const read = await readChanges(target, at, () => true, { changes, scanned: 1e6, commits: 1 });
        pieces.push(...read.changes);
        // A resting row is inside its group: the next read never opens a group to find it read.
        const files = commits[read.next.version];
        if (files) {
          const groupSize = Math.min(3, (files[read.next.file]?.length ?? 0) - read.next.group * 3);
          expect(read.next.row).toBeLessThan(groupSize);
        }
        at = read.next;
        if (!read.more) break;
      }
      expect(pieces.map(id), `pieces of ${changes}`).toEqual(whole.changes.map(id));
    }
  });

  it('bounds a read by the rows it looks at, whatever the filter keeps', async () => {
    const read = await readChanges(target, START, () => false, { changes: 100, scanned: 4, commits: 10 });
    expect(read).toMatchObject({ changes: [], more: true, next: { version: 0, file: 0, group: 1, row: 1 } });
  });
});

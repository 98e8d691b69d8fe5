import { describe, expect, it } from 'vitest';
import {
  assertRunId,
  dataFilePath,
  isRunId,
  isSnapshotDate,
  newRunId,
  partitionFolder,
  quarantinePath,
  rawArchivePath,
  runIdTime,
  runManifestPath,
  runReferralIdsPath,
  snapshotDateOf,
  stagedPath,
  statePath,
  tableRelativePath,
} from '../../src/lake/layout/paths.js';
import {
  assertKey,
  assertListPrefix,
  joinKey,
  LakePathError,
  normalizeRootPrefix,
} from '../../src/lake/storage/storage-keys.js';

const RUN = '20261124T060000Z-ab12';
const ref = { table: 'referrals', snapshotDate: '2026-11-24', runId: RUN };

describe('run ids', () => {
  it('are the UTC start time to the second plus 4 hex digits', () => {
    expect(newRunId(new Date('2026-11-24T06:00:00.987Z'), 'ab12')).toBe(RUN);
    expect(newRunId(new Date('2026-01-02T03:04:05+02:00'), '0f0f')).toBe('20260102T010405Z-0f0f');
    expect(newRunId()).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(new Set(Array.from({ length: 50 }, () => newRunId(new Date(0)))).size).toBeGreaterThan(40);
  });

  it('read back as the instant they started', () => {
    expect(runIdTime(RUN)?.toISOString()).toBe('2026-11-24T06:00:00.000Z');
  });

  it.each([
    '',
    '20261124T060000Z',
    '20261124T060000Z-AB12', // upper-case hex
    '20261124T060000Z-ab1',
    '20261124T060000Z-ab123',
    '20261124T060000-ab12',
    '20261124060000Z-ab12',
    '20261324T060000Z-ab12', // month 13
    '20260230T060000Z-ab12', // 30 February
    '20261124T250000Z-ab12', // hour 25
    '../20261124T060000Z-ab12',
    '20261124T060000Z-ab12/..',
    '20261124T060000Z-ab12\n',
    ' 20261124T060000Z-ab12',
    '20261124T060000Z-ab12%2F',
  ])('rejects %j', (bad) => {
    expect(isRunId(bad)).toBe(false);
    expect(() => assertRunId(bad)).toThrow(LakePathError);
    expect(() => runManifestPath(bad)).toThrow(LakePathError);
  });
});

describe('partition paths', () => {
  it('are Hive-style folders under the table', () => {
    expect(partitionFolder(ref)).toBe(`referrals/snapshot_date=2026-11-24/run_id=${RUN}`);
    expect(dataFilePath(ref, 'parquet')).toBe(`referrals/snapshot_date=2026-11-24/run_id=${RUN}/part-00000.parquet`);
    expect(dataFilePath(ref, 'ndjson', 12)).toBe(
      `ndjson/referrals/snapshot_date=2026-11-24/run_id=${RUN}/part-00012.ndjson`,
    );
    expect(rawArchivePath('2026-11-24', RUN)).toBe(`raw/snapshot_date=2026-11-24/run_id=${RUN}/part-00000.ndjson.gz`);
    expect(quarantinePath('2026-11-24', RUN)).toBe(
      `quarantine/snapshot_date=2026-11-24/run_id=${RUN}/part-00000.ndjson`,
    );
    expect(runReferralIdsPath('2026-11-24', RUN)).toBe(
      `ndjson/referrals/snapshot_date=2026-11-24/run_id=${RUN}/part-00000.ids.tsv`,
    );
    // The Delta log names a run table's file relative to the table; nothing outside it.
    expect(tableRelativePath(ref, dataFilePath(ref, 'parquet'))).toBe(
      `snapshot_date=2026-11-24/run_id=${RUN}/part-00000.parquet`,
    );
    expect(() => tableRelativePath(ref, dataFilePath(ref, 'ndjson'))).toThrow(LakePathError);
    expect(stagedPath(RUN, 'ndjson/referrals_latest/part-00000.ndjson')).toBe(
      `_staging/${RUN}/ndjson/referrals_latest/part-00000.ndjson`,
    );
    expect(() => stagedPath('../x', 'a')).toThrow(LakePathError);
    expect(runManifestPath(RUN)).toBe(`_runs/${RUN}.json`);
    expect(statePath('watermark.json')).toBe('_state/watermark.json');
    expect(statePath('msal-cache.json')).toBe('_state/msal-cache.json');
  });

  it('refuse tables, dates, parts and state names that could escape or collide', () => {
    for (const table of ['', 'Referrals', 'raw', '_runs', '../x', 'a/b', 'a b', '1abc', 'x'.repeat(64)]) {
      expect(() => partitionFolder({ ...ref, table }), table).toThrow(LakePathError);
    }
    for (const snapshotDate of ['2026-02-30', '2026-1-01', '20261124', '2026-11-24/..', '']) {
      expect(() => dataFilePath({ ...ref, snapshotDate }, 'parquet'), snapshotDate).toThrow(LakePathError);
    }
    for (const part of [-1, 1.5, 100_000, Number.NaN]) {
      expect(() => dataFilePath(ref, 'parquet', part), String(part)).toThrow(LakePathError);
    }
    for (const name of ['', '../x.json', 'a/b.json', '.hidden', 'x..json', 'UPPER.json']) {
      expect(() => statePath(name), name).toThrow(LakePathError);
    }
  });

  it('name the UTC day of an instant', () => {
    expect(snapshotDateOf(new Date('2026-11-24T23:30:00-05:00'))).toBe('2026-11-25');
    expect(isSnapshotDate('2024-02-29')).toBe(true);
    expect(isSnapshotDate('2023-02-29')).toBe(false);
  });
});

describe('storage keys', () => {
  it('accept lake paths and reject anything that walks out', () => {
    expect(assertKey(dataFilePath(ref, 'parquet'))).toContain('part-00000');
    for (const bad of ['', '/x', 'x/', 'a//b', './a', 'a/../b', 'a\\b', 'a\u0000b', 'a/.~lock-x', 'x'.repeat(1025)]) {
      expect(() => assertKey(bad), JSON.stringify(bad)).toThrow(LakePathError);
    }
  });

  it('take listing prefixes with a trailing slash or a partial segment', () => {
    expect(assertListPrefix('')).toBe('');
    expect(assertListPrefix('referrals/')).toBe('referrals/');
    expect(assertListPrefix('referrals/snapshot_date=2026-')).toBe('referrals/snapshot_date=2026-');
    expect(() => assertListPrefix('../')).toThrow(LakePathError);
    expect(() => assertListPrefix('/referrals')).toThrow(LakePathError);
  });

  it('normalize a root prefix and join keys under it', () => {
    expect(normalizeRootPrefix(undefined)).toBe('');
    expect(normalizeRootPrefix(' /tenant/lake/ ')).toBe('tenant/lake');
    expect(() => normalizeRootPrefix('a/../b')).toThrow(LakePathError);
    expect(joinKey('', 'x.json')).toBe('x.json');
    expect(joinKey('tenant/lake', 'x.json')).toBe('tenant/lake/x.json');
  });
});

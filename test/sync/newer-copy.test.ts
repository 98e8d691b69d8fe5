/**
 * Issue 17, part 7: one pull returns a referral twice and the newer copy's updatedDateTime is
 * 9999-12-31T23:59:59.9999999Z, past what a row can hold. The run's dedupe and the latest tables
 * must agree on which copy is newer, and no referral may leave `referrals_latest` while the run says
 * it succeeded. The sandbox moves a referral updated mid-pull behind the cursor of an
 * updatedDateTime-ordered pull, as Partner Center does, so the pull meets it again; DuckDB reads
 * what landed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { InconsistentRunError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/log.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { LATEST_POINTER_PATH } from '../../src/lake/layout/paths.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { listAll } from '../../src/lake/storage/storage.js';
import { normalizeReferral, referralIdOf } from '../../src/normalize/normalize.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { runSyncJob } from '../../src/sync/job.js';
import { stageLatest } from '../../src/sync/latest.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { runSync } from '../../src/sync/run.js';
import { RunFiles } from '../../src/sync/run-files.js';
import { compareVersions, referralVersion } from '../../src/sync/version.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb, readNdjson } from '../helpers/duckdb.js';
import { STUB_API, STUB_SYNC_OPTIONS, stubClient } from '../helpers/stub-source.js';

const COUNT = 2000;
const MOVED = 19;
/** .NET's DateTime.MaxValue: an instant, but not exact as epoch microseconds in a double. */
const MAX_DATE = '9999-12-31T23:59:59.9999999Z';

let sandbox: Sandbox;
let duck: DuckDb;
let work: string;
let lake: string;
let env: Record<string, string>;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: COUNT, seed: 17 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'newer-copy-'));
  lake = join(work, 'lake');
  env = {
    ...sandbox.env,
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'token-cache.json'),
    LAKE_LOCAL_DIR: lake,
    // One listing in updatedDateTime order: an update moves the referral to its end.
    SYNC_RANGE_FIELD: 'updatedDateTime',
    SYNC_CONCURRENCY: '1',
    SYNC_PAGE_SIZE: '100',
  };
}, 60_000);

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  await rm(work, { recursive: true, force: true });
});

function micros(timestamp: string): number {
  const canonical = canonicalTimestamp(timestamp) ?? '';
  return Date.parse(`${canonical.slice(0, 23)}Z`) * 1000 + Number(canonical.slice(23, 26));
}

async function sync(mode: 'full' | 'incremental', onPage?: (pages: number) => void) {
  const lines: string[] = [];
  const logger = createLogger((_level, line) => lines.push(line), { level: 'info' });
  const manifest = await runSyncJob(
    { ...env, SYNC_MODE: mode },
    {},
    { logger, onProgress: onPage && ((p) => onPage(p.pages)) },
  );
  return { manifest, log: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** referrals_latest as DuckDB reads it, Parquet and NDJSON. */
async function latestRows(): Promise<{ parquet: LatestRow[]; ndjson: LatestRow[] }> {
  const select = 'SELECT referral_id, _source_updated_date_time AS version, updated_date_time AS updated FROM';
  const parquet = await duck.query(`${select} ${deltaParquetSource(join(lake, 'referrals_latest'))}`);
  const ndjson = await duck.query(
    `${select} ${readNdjson(`${lake}/ndjson/referrals_latest/part-00000.ndjson`, {
      referral_id: 'VARCHAR',
      _source_updated_date_time: 'TIMESTAMP WITH TIME ZONE',
      updated_date_time: 'TIMESTAMP WITH TIME ZONE',
    })}`,
  );
  return { parquet: parquet as unknown as LatestRow[], ndjson: ndjson as unknown as LatestRow[] };
}

interface LatestRow {
  referral_id: string;
  version: number | null;
  updated: number | null;
}

describe('a pull that meets a referral again at 9999-12-31T23:59:59.9999999Z', () => {
  let moved: Referral[];
  let full: RunManifest;
  let fullLog: Record<string, unknown>[];

  beforeAll(async () => {
    const byUpdated = sandbox.store
      .all()
      .sort((a, b) => micros(a.updatedDateTime ?? '') - micros(b.updatedDateTime ?? ''));
    // From the first page (the 100 oldest), so the pull has served them before they move.
    moved = byUpdated
      .slice(0, 100)
      .filter((_, i) => i % 5 === 0)
      .slice(0, MOVED);
    ({ manifest: full, log: fullLog } = await sync('full', (pages) => {
      if (pages !== 1) return;
      for (const referral of moved) sandbox.store.put({ ...referral, updatedDateTime: MAX_DATE });
    }));
  }, 120_000);

  it('met them twice, kept each once, and says so', () => {
    expect(moved).toHaveLength(MOVED);
    expect(full.status).toBe('succeeded');
    expect(full.counts.referrals + full.counts.duplicatesDropped).toBe(COUNT + MOVED);
    expect(full.counts).toMatchObject({ referrals: COUNT, duplicatesDropped: MOVED, supersededVersions: 0 });
    const warning = fullLog.find((l) => l.level === 'warn' && String(l.message).includes('cannot hold'));
    expect(warning).toMatchObject({ copies: MOVED });
    expect(new Set(warning?.referralIds as string[])).toEqual(new Set(moved.map((r) => r.id)));
  });

  it('referrals_latest holds every referral once, the moved ones at the version their row can show', async () => {
    const { parquet, ndjson } = await latestRows();
    const all = new Set(sandbox.store.all().map((r) => r.id));
    for (const [format, rows] of [
      ['parquet', parquet],
      ['ndjson', ndjson],
    ] as const) {
      expect(rows, format).toHaveLength(COUNT);
      expect(new Set(rows.map((r) => r.referral_id)), format).toEqual(all);
      const byId = new Map(rows.map((r) => [r.referral_id, r]));
      for (const referral of moved) {
        const readable = micros(referral.updatedDateTime ?? '');
        expect(byId.get(referral.id), `${format} ${referral.id}`).toEqual({
          referral_id: referral.id,
          version: readable,
          updated: readable,
        });
      }
    }
    // The manifest's count of latest rows is the same as what a reader finds.
    const latestParquet = full.latest.find((f) => f.table === 'referrals_latest' && f.format === 'parquet');
    expect(latestParquet?.rows).toBe(COUNT);
  });

  it('an incremental run then takes the 9999 copies (the later run is the later state) and keeps a usable watermark', async () => {
    const { manifest } = await sync('incremental');
    expect(manifest.status).toBe('succeeded');
    expect(manifest.counts.changed).toBe(MOVED);
    // A watermark at 9999-12-31 would make every later incremental run ask for nothing.
    expect(manifest.watermark).toBeDefined();
    expect(manifest.watermark?.startsWith('9999')).toBe(false);
    expect(Date.parse(manifest.watermark ?? '')).toBeLessThanOrEqual(Date.parse(manifest.startedAt));

    const { parquet } = await latestRows();
    expect(parquet).toHaveLength(COUNT);
    const byId = new Map(parquet.map((r) => [r.referral_id, r]));
    for (const referral of moved) {
      expect(byId.get(referral.id)).toEqual({ referral_id: referral.id, version: null, updated: null });
    }

    // The same unknown version again is no change: nothing to do, the lake left as it is.
    const again = await sync('incremental');
    expect(again.manifest).toMatchObject({ status: 'nothing_to_do', counts: { changed: 0 } });
  }, 120_000);
});

describe('the same two copies met the other way round', () => {
  it('a readable copy after a 9999 copy supersedes it, and referrals_latest holds the readable one', async () => {
    const dir = join(work, 'other-order');
    const [a, b] = ['6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b', '0a7d4b9e-2c3f-4e5a-8b6c-7d8e9f0a1b2c'];
    const readable = '2026-03-04T05:06:07.1234567Z';
    const client = stubClient([
      [
        { id: a, name: 'at DateTime.MaxValue', updatedDateTime: MAX_DATE },
        { id: b, name: 'other', updatedDateTime: '2026-01-01T00:00:00Z' },
      ],
      [{ id: a, name: 'readable', updatedDateTime: readable }],
    ]);
    const manifest = await runSync(
      { client, target: new LocalDirectoryTarget({ root: dir }), apiBaseUrl: STUB_API },
      { ...STUB_SYNC_OPTIONS, rangeField: 'updatedDateTime' },
    );
    expect(manifest.status).toBe('succeeded');
    expect(manifest.counts).toMatchObject({ referrals: 3, supersededVersions: 1, duplicatesDropped: 0 });
    const rows = await duck.query(
      `SELECT referral_id, name, _source_updated_date_time AS version FROM ${deltaParquetSource(join(dir, 'referrals_latest'))} ORDER BY referral_id`,
    );
    expect(rows).toEqual([
      { referral_id: b, name: 'other', version: micros('2026-01-01T00:00:00Z') },
      { referral_id: a, name: 'readable', version: micros(readable) },
    ]);
  });
});

describe('stageLatest', () => {
  it('fails, publishing nothing, rather than write referrals_latest without a superseded referral', async () => {
    const dir = join(work, 'lost-winner');
    const target = new LocalDirectoryTarget({ root: dir });
    const runId = '20260304T050607Z-abcd';
    const files = await RunFiles.open({
      target,
      snapshotDate: '2026-03-04',
      lineage: { runId, extractedAtMicros: Date.UTC(2026, 2, 4) * 1000 },
    });
    const id = '6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b';
    await files.write({ id, updatedDateTime: '2026-01-01T00:00:00Z' });
    const written = await files.close();
    // A verdict no row agrees with: the winning version was never written.
    const build = stageLatest({
      target,
      runId,
      mode: 'full',
      runFiles: written,
      runStatistics: (table) => files.parquetStatistics(table),
      superseded: new Map([[id, micros('2026-02-01T00:00:00Z')]]),
    });
    await expect(build).rejects.toBeInstanceOf(InconsistentRunError);
    await expect(build).rejects.toThrow(id);
    const stored = (await listAll(target, '')).map((f) => f.path);
    expect(stored.filter((path) => path.includes('_latest/') || path === LATEST_POINTER_PATH)).toEqual([]);
  });
});

describe('the identity rule', () => {
  it("is the normalizer's referral_id, and none for a referral quarantined whole", () => {
    const lineage = { runId: '20260304T050607Z-abcd', extractedAtMicros: 0 };
    for (const id of ['6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b', 'ref-\uDC00', ' spaced ', '', 5, null, undefined]) {
      const referral = { id, updatedDateTime: '2026-01-01T00:00:00Z' };
      const row = normalizeReferral(referral, lineage).rows.referrals[0];
      expect(referralIdOf(referral), String(id)).toBe(row?.referral_id);
    }
    expect(referralIdOf('not an object')).toBeUndefined();
  });

  it('dedupes by the referral_id the rows hold: an id with a lone surrogate, met at two versions, is one referral', async () => {
    const dir = join(work, 'repaired-id');
    const id = 'ref-\uD800-1';
    const client = stubClient([
      [{ id, name: 'first', updatedDateTime: '2026-01-01T00:00:00Z' }],
      [{ id, name: 'second', updatedDateTime: '2026-02-01T00:00:00Z' }],
    ]);
    const manifest = await runSync(
      { client, target: new LocalDirectoryTarget({ root: dir }), apiBaseUrl: STUB_API },
      STUB_SYNC_OPTIONS,
    );
    expect(manifest.counts).toMatchObject({ referrals: 2, supersededVersions: 1 });
    const rows = await duck.query(`SELECT referral_id, name FROM ${deltaParquetSource(join(dir, 'referrals_latest'))}`);
    expect(rows).toEqual([{ referral_id: 'ref-\uFFFD-1', name: 'second' }]);
  });
});

describe('the version rule', () => {
  it("is the normalizer's _source_updated_date_time, in every row, whatever updatedDateTime holds", () => {
    const values = [
      '2026-03-04T05:06:07.1234567Z',
      '2026-03-04T05:06:07Z',
      '2026-03-04T07:06:07.5+02:00',
      '2026-03-04 05:06:07',
      MAX_DATE,
      '0001-01-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      'yesterday',
      '',
      1_772_600_767,
      null,
      undefined,
      { at: 'now' },
    ];
    const lineage = { runId: '20260304T050607Z-abcd', extractedAtMicros: 0 };
    for (const updatedDateTime of values) {
      const referral = {
        id: 'r1',
        updatedDateTime,
        team: [{ id: 'm1' }],
        details: { requirements: { products: [{ id: 'p' }] } },
      };
      const { rows } = normalizeReferral(referral, lineage);
      const cells = Object.values(rows).flatMap((table) => table.map((row) => row._source_updated_date_time));
      expect(cells, String(updatedDateTime)).toHaveLength(3); // the referral, its team member, its product
      for (const cell of cells) expect(cell, String(updatedDateTime)).toBe(referralVersion(referral));
    }
    expect(referralVersion({ id: 'r1', updatedDateTime: MAX_DATE })).toBeNull();
  });

  it('orders an unknown version below every known one and level with another unknown one', () => {
    expect(compareVersions(null, 0)).toBeLessThan(0);
    expect(compareVersions(null, -62_135_596_800_000_000)).toBeLessThan(0);
    expect(compareVersions(5, null)).toBeGreaterThan(0);
    expect(compareVersions(null, null)).toBe(0);
    expect(compareVersions(2, 1)).toBeGreaterThan(0);
    expect(compareVersions(1, 1)).toBe(0);
  });
});

/**
 * The whole pipeline against real services: the sandbox (5,000 referrals) → the timer handler, called
 * in test mode → Azurite; DuckDB, an independent reader, checks what landed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvocationContext, type Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { listAll } from '../../src/lake/storage/storage.js';
import { normalizeReferrals } from '../../src/normalize/normalize.js';
import type { Row } from '../../src/schema/table.js';
import { TABLES } from '../../src/schema/tables.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { copyToLocal, type DuckDb, duckdbType, openDuckDb, readNdjson, sqlString } from '../helpers/duckdb.js';

const CONTAINER = 'lake';

let sandbox: Sandbox;
let azurite: Azurite;
let duck: DuckDb;
let work: string;
let target: BlobStorageTarget;
const savedEnv = { ...process.env };

/** The last timer run's log lines, parsed. */
let timerLog: Record<string, unknown>[] = [];

async function runTimer(): Promise<RunManifest> {
  const { syncTimerHandler } = await import('../../src/functions/sync-referrals.js');
  const context = new InvocationContext({ functionName: 'syncReferrals', invocationId: 'test' });
  const lines: string[] = [];
  context.info = (...args: unknown[]) => lines.push(String(args[0]));
  await syncTimerHandler({ isPastDue: false } as Timer, context);
  timerLog = lines.map((l) => JSON.parse(l));
  const summary = timerLog.find((l) => l.message === 'run summary');
  return summary?.summary as RunManifest;
}

/** Downloads the lake and returns the local folder DuckDB reads. */
async function downloadLake(name: string): Promise<string> {
  const dir = join(work, name);
  await copyToLocal(target, '', dir);
  return dir;
}

/** DuckDB adds the partition folders' key=value pairs as columns; the files themselves do not hold them. */
function withoutHiveColumns(row: Record<string, unknown>): Record<string, unknown> {
  const { snapshot_date: _date, run_id: _run, ...rest } = row;
  return rest;
}

function sortById(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const key = (r: Record<string, unknown>) => `${r.referral_id}|${String(r.ordinal ?? '').padStart(6, '0')}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

beforeAll(async () => {
  [sandbox, azurite, duck] = await Promise.all([startSandbox({ count: 5000, seed: 1 }), startAzurite(), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'sync-azurite-'));
  Object.assign(process.env, sandbox.env, {
    LAKE_CONNECTION_STRING: azurite.connectionString,
    LAKE_CONTAINER: CONTAINER,
    PARTNER_CENTER_TOKEN_CACHE: 'lake',
    SYNC_MODE: 'full',
    SYNC_CONCURRENCY: '4',
  });
  target = new BlobStorageTarget({ connectionString: azurite.connectionString, container: CONTAINER });
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  duck?.close();
  await Promise.allSettled([sandbox?.close(), azurite?.stop()]);
  await rm(work, { recursive: true, force: true });
});

describe('timer sync: sandbox → Azurite, read back by DuckDB', () => {
  let manifest: RunManifest;
  let lake: string;

  beforeAll(async () => {
    manifest = await runTimer();
    lake = await downloadLake('full');
  }, 180_000);

  it('logs whether the process tuning reached the worker (heap limit, young generation, glibc setting)', () => {
    const started = timerLog.find((l) => l.message === 'sync started');
    expect(Number(started?.heapLimitMiB)).toBeGreaterThan(0);
    expect(Number(started?.youngGenerationMiB)).toBeGreaterThan(0);
    expect(started?.mallocMmapThreshold).toBe(process.env.MALLOC_MMAP_THRESHOLD_);
  });

  it('publishes a manifest last, naming every file it wrote', async () => {
    expect(manifest.status).toBe('succeeded');
    expect(manifest.counts.referrals).toBe(5000);
    const stored = new Set((await listAll(target, '')).map((f) => f.path));
    expect(stored.has(`_runs/${manifest.runId}.json`)).toBe(true);
    for (const file of [...manifest.files, ...manifest.latest]) expect(stored.has(file.path), file.path).toBe(true);
    // The MSAL cache lives in the lake too, and holds the rotated refresh token.
    expect(stored.has('_state/msal-token-cache.json')).toBe(true);
  });

  it('DuckDB reads the Parquet with hive partitions: every referral once, declared types', async () => {
    const source = `read_parquet(${sqlString(`${lake}/referrals/*/*/*.parquet`)}, hive_partitioning = true)`;
    const [counts] = await duck.query(
      `SELECT count(*) AS n, count(DISTINCT referral_id) AS ids, min(run_id) AS run, min(snapshot_date)::VARCHAR AS day FROM ${source}`,
    );
    expect(counts).toEqual({ n: 5000, ids: 5000, run: manifest.runId, day: manifest.snapshotDate });
    const ids = (await duck.query(`SELECT referral_id FROM ${source}`)).map((r) => r.referral_id);
    expect(new Set(ids)).toEqual(new Set(sandbox.store.all().map((r) => r.id)));
    for (const table of TABLES) {
      const types = await duck.describe(`read_parquet(${sqlString(`${lake}/${table.name}/*/*/*.parquet`)})`);
      for (const column of table.columns)
        expect(types[column.name], `${table.name}.${column.name}`).toBe(duckdbType(column));
    }
  });

  it('every table holds exactly the normalizer rows of the source, in Parquet and in NDJSON', async () => {
    const expected = normalizeReferrals(sandbox.store.all(), {
      runId: manifest.runId,
      extractedAtMicros: Date.parse(manifest.startedAt) * 1000,
    });
    for (const table of TABLES) {
      const folder = `${lake}/${table.name}/snapshot_date=${manifest.snapshotDate}/run_id=${manifest.runId}`;
      const parquet = await duck.query(`SELECT * FROM read_parquet(${sqlString(`${folder}/part-00000.parquet`)})`);
      const columns = Object.fromEntries(table.columns.map((c) => [c.name, duckdbType(c)]));
      const ndjsonFile = `${lake}/ndjson/${table.name}/snapshot_date=${manifest.snapshotDate}/run_id=${manifest.runId}/part-00000.ndjson`;
      const ndjson = await duck.query(`SELECT * FROM ${readNdjson(ndjsonFile, columns)}`);
      const want = sortById(expected.rows[table.name] as Row[]);
      expect(parquet.length, table.name).toBe(want.length);
      expect(sortById(parquet.map(withoutHiveColumns)), `${table.name} parquet`).toEqual(want);
      expect(sortById(ndjson.map(withoutHiveColumns)), `${table.name} ndjson`).toEqual(want);
    }
  }, 120_000);

  it('an incremental run after 50 updates changes exactly those (re-reading only the overlap), and latest equals the source now', async () => {
    Object.assign(process.env, { SYNC_MODE: 'incremental' });
    const before = new Map(sandbox.store.all().map((r) => [r.id, r.updatedDateTime]));
    const { updated, created } = sandbox.mutate(50, 0);
    expect(created).toHaveLength(0);
    expect(new Set(updated).size).toBe(50);
    const incremental = await runTimer();
    expect(incremental.mode).toBe('incremental');
    const dir = await downloadLake('incremental');
    const runIds = (
      await duck.query(
        `SELECT referral_id FROM read_parquet(${sqlString(`${dir}/referrals/*/run_id=${incremental.runId}/*.parquet`)})`,
      )
    ).map((r) => String(r.referral_id));
    // Every change is taken; anything else the run re-read is unchanged and lies inside the overlap
    // window before the watermark (re-reading it is what protects against in-flight updates).
    for (const id of updated) expect(runIds).toContain(id);
    const windowStart = Date.parse(manifest.watermark ?? '') - 60 * 60_000;
    const extras = runIds.filter((id) => !updated.includes(id));
    for (const id of extras) {
      expect(sandbox.store.get(id)?.updatedDateTime).toBe(before.get(id));
      expect(Date.parse(before.get(id) ?? '')).toBeGreaterThanOrEqual(windowStart);
    }
    expect(extras.length).toBeLessThan(10);
    // Measured against the previous latest, the run changed exactly the 50 mutated referrals.
    expect(incremental.counts.changed).toBe(50);

    const latest = await duck.query(
      `SELECT referral_id, _source_updated_date_time AS updated, status FROM ${deltaParquetSource(join(dir, 'referrals_latest'))}`,
    );
    expect(latest).toHaveLength(5000);
    const now = normalizeReferrals(sandbox.store.all(), { runId: incremental.runId, extractedAtMicros: 0 });
    const want = new Map(now.rows.referrals.map((r) => [r.referral_id, [r._source_updated_date_time, r.status]]));
    for (const row of latest)
      expect([row.updated, row.status], String(row.referral_id)).toEqual(want.get(String(row.referral_id)));
    for (const table of TABLES.slice(1)) {
      const [{ n }] = (await duck.query(
        `SELECT count(*) AS n FROM ${deltaParquetSource(join(dir, `${table.name}_latest`))}`,
      )) as [{ n: number }];
      expect(n, `${table.name}_latest`).toBe(now.rows[table.name].length);
    }
  }, 180_000);
});

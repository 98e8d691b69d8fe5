/**
 * The latest tables as Delta tables, through the sync as the timer runs it (sandbox → folder lake),
 * judged by the tests' own log replay and DuckDB: one commit per run and table, the previous version
 * readable by time travel, the NDJSON copy outside the table folders, and a lake written before the
 * latest tables were Delta tables taken over without losing a referral.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { DeltaLogError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import { DELTA_TABLES } from '../../src/lake/layout/lake-tables.js';
import { TABLES } from '../../src/schema/tables.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { deltaParquetSource, replayDeltaLog } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb, readNdjson, sqlString } from '../helpers/duckdb.js';

const COUNT = 400;
let sandbox: Sandbox;
let work: string;
let duck: DuckDb;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: COUNT, seed: 11 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'latest-delta-'));
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function sync(lake: string, mode: 'full' | 'incremental'): Promise<RunManifest> {
  return runSyncJob(
    {
      ...sandbox.env,
      LAKE_LOCAL_DIR: lake,
      PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
      SYNC_CONCURRENCY: '2',
    },
    { mode },
    { logger: silentLogger },
  );
}

async function statuses(lake: string, asOf?: number): Promise<Map<string, string>> {
  const rows = await duck.query(
    `SELECT referral_id, status FROM ${deltaParquetSource(join(lake, 'referrals_latest'), asOf)}`,
  );
  return new Map(rows.map((r) => [String(r.referral_id), String(r.status)]));
}

describe('latest tables as Delta tables', () => {
  const lake = () => join(work, 'lake');
  let first: RunManifest;

  it('commits each latest table as version 0 of a Delta table, holding exactly the run’s rows', async () => {
    first = await sync(lake(), 'full');
    expect(first.status).toBe('succeeded');
    for (const table of TABLES) {
      const replayed = replayDeltaLog(join(lake(), `${table.name}_latest`));
      expect(replayed.version, table.name).toBe(0);
      expect(replayed.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
      expect(replayed.schema.map((c) => c.name)).toEqual(table.columns.map((c) => c.name));
      // The one active file is the one the manifest lists, and its stats count its rows.
      const [path, file] = [...replayed.active][0] ?? [];
      const listed = first.latest.find((f) => f.table === `${table.name}_latest` && f.format === 'parquet');
      expect(`${table.name}_latest/${path}`).toBe(listed?.path);
      expect(file?.stats?.numRecords).toBe(first.counts.rows?.[table.name]);
      const [{ n } = { n: -1 }] = await duck.query(
        `SELECT count(*)::INTEGER AS n FROM ${deltaParquetSource(join(lake(), `${table.name}_latest`))}`,
      );
      expect(n, table.name).toBe(first.counts.rows?.[table.name]);
    }
    const pointer = JSON.parse(await readFile(join(lake(), '_state', 'latest.json'), 'utf8'));
    expect(pointer.runId).toBe(first.runId);
    // Version 0 of every table the first run published: nothing vanished yet.
    const published = DELTA_TABLES.filter((t) => t.root !== 'referrals_vanished');
    expect(pointer.versions).toEqual(Object.fromEntries(published.map((t) => [t.root, 0])));
    expect(first.tables).toEqual(pointer.versions);
    expect((await statuses(lake())).size).toBe(COUNT);
  });

  it('keeps the NDJSON copy outside the Delta folders, with the same rows', async () => {
    const ndjson = join(lake(), 'ndjson', 'referrals_latest', 'part-00000.ndjson');
    const [{ n } = { n: -1 }] = await duck.query(
      `SELECT count(DISTINCT referral_id)::INTEGER AS n FROM ${readNdjson(ndjson, { referral_id: 'VARCHAR' })}`,
    );
    expect(n).toBe(COUNT);
    const inTable = await duck.query(
      `SELECT file FROM glob(${sqlString(join(lake(), 'referrals_latest', '*'))}) WHERE file NOT LIKE '%.parquet'`,
    );
    expect(inTable).toEqual([]);
  });

  it('overwrites with one new version per run; time travel to version 0 gives the previous rows', async () => {
    const before = await statuses(lake());
    const { updated } = sandbox.mutate(25, 0);
    const manifest = await sync(lake(), 'incremental');
    expect(manifest.counts.changed).toBe(25);
    const replayed = replayDeltaLog(join(lake(), 'referrals_latest'));
    expect(replayed.version).toBe(1);
    expect(replayed.commits[1]?.filter((a) => a.remove)).toHaveLength(1);
    const after = await statuses(lake());
    expect(after.size).toBe(COUNT);
    expect(await statuses(lake(), 0)).toEqual(before);
    // The removed file is still on disk (retention), and only the mutated referrals moved.
    const changed = [...after].filter(([id, status]) => before.get(id) !== status).map(([id]) => id);
    for (const id of changed) expect(updated).toContain(id);
  });
});

describe('a table log this writer cannot follow', () => {
  it('stops the run before it writes anything, naming the file', async () => {
    const broken = join(work, 'broken');
    await cp(join(work, 'lake'), broken, { recursive: true });
    const log = join(broken, 'referral_products_latest', '_delta_log');
    const next = String(replayDeltaLog(join(broken, 'referral_products_latest')).version + 1).padStart(20, '0');
    await writeFile(join(log, `${next}.json`), '{"commitInfo":{}}\n{not json\n');
    const before = await filesUnder(broken);
    const error = await sync(broken, 'full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeltaLogError);
    expect((error as DeltaLogError).file).toBe(`referral_products_latest/_delta_log/${next}.json`);
    // Nothing was added or removed but the run's lease; no table, partition, manifest, pointer or
    // watermark changed (the token cache lives outside this lake).
    const after = await filesUnder(broken);
    const changed = after.filter((f) => !before.includes(f)).concat(before.filter((f) => !after.includes(f)));
    expect(changed.filter((f) => !/^_state\/sync\.lease/.test(f))).toEqual([]);
    for (const file of ['_state/latest.json', '_state/watermark.json']) {
      expect(await readFile(join(broken, file), 'utf8'), file).toBe(await readFile(join(work, 'lake', file), 'utf8'));
    }
  });
});

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe('a lake written before the latest tables were Delta tables', () => {
  it('takes the old latest files over on the next incremental run, losing no referral, then removes them', async () => {
    const current = join(work, 'lake');
    const legacy = join(work, 'legacy');
    await cp(current, legacy, { recursive: true });
    // Back to the old layout: one part-00000 file per latest folder, no log, no NDJSON copy.
    for (const table of TABLES) {
      const folder = join(legacy, `${table.name}_latest`);
      const active = [...replayDeltaLog(folder).active.keys()][0] ?? '';
      await cp(join(folder, active), join(work, 'keep.parquet'));
      await rm(folder, { recursive: true });
      await cp(join(work, 'keep.parquet'), join(folder, 'part-00000.parquet'));
      await cp(join(legacy, 'ndjson', `${table.name}_latest`, 'part-00000.ndjson'), join(folder, 'part-00000.ndjson'));
    }
    await rm(join(legacy, 'ndjson'), { recursive: true });

    sandbox.mutate(5, 0);
    const manifest = await sync(legacy, 'incremental');
    expect(manifest.status).toBe('succeeded');
    expect(manifest.counts.changed).toBe(5);
    expect((await statuses(legacy)).size).toBe(COUNT);
    for (const table of TABLES) {
      const folder = join(legacy, `${table.name}_latest`);
      expect(replayDeltaLog(folder).version, table.name).toBe(0);
      const leftovers = await duck.query(`SELECT file FROM glob(${sqlString(join(folder, 'part-00000.*'))})`);
      expect(leftovers, table.name).toEqual([]);
    }
  });
});

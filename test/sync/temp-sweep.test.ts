/**
 * A sync sweeps the temp files a killed run left in a folder lake: only under the lease, only those
 * unchanged for a lease duration, and it logs what it swept. (test/cli/sync-crash.test.ts does the
 * same after a real SIGKILL; test/lake/local-sweep.test.ts covers the target's sweep itself.)
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { AlreadyRunningError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/log.js';
import { RunLease } from '../../src/lake/layout/lease.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { runSync, type SyncOptions } from '../../src/sync/run.js';
import { STUB_API, STUB_SYNC_OPTIONS, stubClient } from '../helpers/stub-source.js';

const PARTITION = ['referrals', 'snapshot_date=2026-03-03', 'run_id=20260303T050607Z-dead'];
/** As the folder target names a file it is writing. */
const OLD_TEMP = '.~tmp-0123456789ab';
const FRESH_TEMP = '.~tmp-ba9876543210';
const OPTIONS: SyncOptions = { ...STUB_SYNC_OPTIONS, leaseMs: 2000 };

let work: string;
let root: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'temp-sweep-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let lakes = 0;
beforeEach(async () => {
  root = join(work, `lake-${++lakes}`);
  const folder = join(root, ...PARTITION);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, OLD_TEMP), Buffer.alloc(4096));
  const killedAt = new Date(Date.now() - 10 * 60_000);
  await utimes(join(folder, OLD_TEMP), killedAt, killedAt);
  await writeFile(join(folder, FRESH_TEMP), Buffer.alloc(10));
});

function sync(options: Partial<SyncOptions> = {}) {
  const log: Record<string, unknown>[] = [];
  const logger = createLogger((_level, line) => log.push(JSON.parse(line)), { level: 'info' });
  const client = stubClient([
    [{ id: '6f1c3c6e-0d1e-4b8e-9a53-0c1d2e3f4a5b', updatedDateTime: '2026-03-04T00:00:00Z' }],
  ]);
  const run = runSync(
    { client, target: new LocalDirectoryTarget({ root }), apiBaseUrl: STUB_API, logger },
    { ...OPTIONS, ...options },
  );
  return { run, log };
}

async function tempsLeft(): Promise<string[]> {
  return (await readdir(join(root, ...PARTITION))).filter((name) => name.startsWith('.~')).sort();
}

it('sweeps temp files older than the lease, keeps a fresh one, and logs what it swept', async () => {
  const { run, log } = sync();
  expect((await run).status).toBe('succeeded');
  expect(await tempsLeft()).toEqual([FRESH_TEMP]);
  expect(log.find((l) => l.message === 'swept temporary files that interrupted writes left')).toMatchObject({
    level: 'info',
    files: 1,
    bytes: 4096,
    paths: [[...PARTITION, OLD_TEMP].join('/')],
  });
});

it('sweeps nothing when another run holds the lease', async () => {
  const holder = await RunLease.acquire(new LocalDirectoryTarget({ root }), '20260304T000000Z-beef', {
    durationMs: 60_000,
  });
  try {
    await expect(sync().run).rejects.toBeInstanceOf(AlreadyRunningError);
    expect(await tempsLeft()).toEqual([OLD_TEMP, FRESH_TEMP].sort());
  } finally {
    await holder.release();
  }
});

it('sweeps nothing in a dry run, which takes no lease', async () => {
  await sync({ dryRun: true }).run;
  expect(await tempsLeft()).toEqual([OLD_TEMP, FRESH_TEMP].sort());
});

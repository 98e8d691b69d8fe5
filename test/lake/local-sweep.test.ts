/**
 * The folder target's sweep of temp files that writes never finished (a killed run leaves one per
 * open file, beside where the file would have gone). Files are made by the target's own writes and
 * left unfinished, then aged with utimes; the file system, not the target, says what remains.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { listAll, type WriteSink, writeWhole } from '../../src/lake/storage/storage.js';

let root: string;
let target: LocalDirectoryTarget;
const unfinished: WriteSink[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lake-sweep-'));
  target = new LocalDirectoryTarget({ root });
});
afterEach(async () => {
  await Promise.all(unfinished.splice(0).map((sink) => sink.abort()));
  await rm(root, { recursive: true, force: true });
});

/** Starts a write of `bytes` bytes to `key` and leaves it unfinished; returns its temp file. */
async function abandonWrite(key: string, bytes: number): Promise<string> {
  const folder = join(root, ...key.split('/').slice(0, -1));
  const before = new Set(await readdir(folder).catch(() => []));
  const sink = await target.openWrite(key);
  unfinished.push(sink);
  await sink.write(new Uint8Array(bytes));
  const temp = (await readdir(folder)).find((name) => !before.has(name));
  if (!temp) throw new Error(`no temp file appeared for ${key}`);
  return join(folder, temp);
}

async function age(file: string, minutes: number): Promise<void> {
  const then = new Date(Date.now() - minutes * 60_000);
  await utimes(file, then, then);
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

it('deletes temp files unchanged for longer than the window, at any depth, and nothing else', async () => {
  const partition = 'referrals/snapshot_date=2026-03-04/run_id=20260304T050607Z-abcd';
  const oldData = await abandonWrite(`${partition}/part-00000.parquet`, 1000);
  const oldLatest = await abandonWrite('referrals_latest/part-00000.ndjson', 300);
  const fresh = await abandonWrite(`${partition}/part-00000.ndjson`, 50);
  await age(oldData, 10);
  await age(oldLatest, 2);
  // Committed files and a lock file left by a crash, all as old: not temp files, so not swept.
  await writeWhole(target, `${partition}/part-00001.parquet`, Buffer.from('committed'));
  await age(join(root, ...partition.split('/'), 'part-00001.parquet'), 10);
  await mkdir(join(root, '_state'), { recursive: true });
  const lock = join(root, '_state', '.~lock-watermark.json');
  await writeFile(lock, '123\n');
  await age(lock, 10);
  const before = await filesUnder(root);

  const swept = await target.sweepTemporaryFiles(60_000);

  const key = (file: string) => file.slice(root.length + 1);
  expect(swept.map((f) => [f.path, f.size]).sort()).toEqual(
    [
      [key(oldData), 1000],
      [key(oldLatest), 300],
    ].sort(),
  );
  expect(await filesUnder(root)).toEqual(before.filter((f) => f !== key(oldData) && f !== key(oldLatest)));
  expect(await filesUnder(root)).toContain(key(fresh));
  expect(await filesUnder(root)).toContain(key(lock));
  expect((await listAll(target, '')).map((f) => f.path)).toEqual([`${partition}/part-00001.parquet`]);
});

it('keeps a temp file younger than the window, and finishes the write that owns it', async () => {
  const temp = await abandonWrite('_runs/20260304T050607Z-abcd.json', 10);
  await age(temp, 1);
  expect(await target.sweepTemporaryFiles(5 * 60_000)).toEqual([]);
  const sink = unfinished.pop() as WriteSink;
  await expect(sink.close()).resolves.toMatchObject({ bytes: 10 });
  expect((await listAll(target, '_runs/')).map((f) => f.path)).toEqual(['_runs/20260304T050607Z-abcd.json']);
});

it('sweeps nothing in a folder that does not exist yet, and stops when its signal is aborted', async () => {
  expect(await new LocalDirectoryTarget({ root: join(root, 'nothing-here') }).sweepTemporaryFiles(0)).toEqual([]);
  const temp = await abandonWrite('raw/part.ndjson.gz', 10);
  await age(temp, 10);
  const stopped = new AbortController();
  stopped.abort();
  expect(await target.sweepTemporaryFiles(60_000, { signal: stopped.signal })).toEqual([]);
  expect(await filesUnder(root)).toContain(temp.slice(root.length + 1));
});

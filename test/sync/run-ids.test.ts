/**
 * A run's partition and manifest are written once. Runs used to accept a caller's run id; a rerun
 * with the same id rewrote the committed run's files in place, and when it failed before its own
 * manifest, the first run's manifest named files of other sizes and hashes. Run ids are now always
 * new; this checks what that protects: a later run, even a failing one, leaves a committed run's
 * files as its manifest describes them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUNS_FOLDER } from '../../src/lake/layout/paths.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import type { StorageTarget } from '../../src/lake/storage/storage.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { runSync } from '../../src/sync/run.js';
import { STUB_API, STUB_SYNC_OPTIONS, stubClient } from '../helpers/stub-source.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-ids-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function referrals(name: string): unknown[] {
  return Array.from({ length: 30 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `${name} ${i}`,
    updatedDateTime: `2026-03-0${1 + (i % 3)}T00:00:00Z`,
  }));
}

/** The target, except that no run manifest can be written: a run that fails at its commit point. */
function failingAtManifest(target: StorageTarget): StorageTarget {
  const failing: StorageTarget = Object.create(target);
  failing.openWrite = (path, options) =>
    path.startsWith(`${RUNS_FOLDER}/`)
      ? Promise.reject(new Error('manifest write refused by the test'))
      : target.openWrite(path, options);
  return failing;
}

it("a later run, even one that fails before its manifest, leaves a committed run's files as its manifest says", async () => {
  const target = new LocalDirectoryTarget({ root: join(work, 'lake') });
  const first = await runSync(
    { client: stubClient([referrals('first')]), target, apiBaseUrl: STUB_API },
    { ...STUB_SYNC_OPTIONS, now: () => new Date('2026-03-04T05:06:07Z') },
  );
  const second = runSync(
    { client: stubClient([referrals('second')]), target: failingAtManifest(target), apiBaseUrl: STUB_API },
    { ...STUB_SYNC_OPTIONS, now: () => new Date('2026-03-04T05:06:08Z') },
  );
  await expect(second).rejects.toThrow('manifest write refused by the test');

  const stored = await target.read(`${RUNS_FOLDER}/${first.runId}.json`);
  const manifest = JSON.parse(stored?.body.toString('utf8') ?? '{}') as RunManifest;
  expect(manifest.runId).toBe(first.runId);
  expect(manifest.files.length).toBeGreaterThan(0);
  for (const file of manifest.files) {
    const content = await target.read(file.path);
    expect(content?.body.length, file.path).toBe(file.bytes);
    expect(
      createHash('sha256')
        .update(content?.body ?? '')
        .digest('hex'),
      file.path,
    ).toBe(file.sha256);
  }
});

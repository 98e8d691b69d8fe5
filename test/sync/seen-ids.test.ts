import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRandom, guid } from '../../sandbox/random.js';
import { startSandbox } from '../../sandbox/sandbox.js';
import { StorageError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import { runSyncJob } from '../../src/sync/job.js';
import { SeenIds } from '../../src/sync/seen-ids.js';

let directory: string;
const open: SeenIds[] = [];

function seenIds(initialCapacity?: number): SeenIds {
  const seen = new SeenIds({ initialCapacity, directory });
  open.push(seen);
  return seen;
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'seen-ids-test-'));
});

afterEach(async () => {
  for (const seen of open.splice(0)) seen.close();
  await rm(directory, { recursive: true, force: true });
});

describe('SeenIds', () => {
  it('tells new, same, older and newer versions apart', () => {
    const seen = seenIds(4);
    const id = 'c5fbb3b6-be74-4795-9fb5-4324c73fed37';
    expect(seen.observe(id, 100)).toBe('new');
    expect(seen.observe(id.toUpperCase(), 100)).toBe('same');
    expect(seen.observe(id, 50)).toBe('older');
    expect(seen.observe(id, 200)).toBe('newer');
    expect(seen.observe(id, 150)).toBe('older');
    expect(seen.size).toBe(1);
  });

  it('keeps exact identity and versions across growth and the file for 200,000 GUIDs', () => {
    const random = createRandom(9);
    const ids = Array.from({ length: 200_000 }, () => guid(random));
    const seen = seenIds(16);
    for (const [i, id] of ids.entries()) expect(seen.observe(id, i)).toBe('new');
    expect(seen.size).toBe(200_000);
    for (const [i, id] of ids.entries()) {
      if (seen.observe(id, i) !== 'same') throw new Error(`lost ${id}`);
    }
    expect(seen.observe(guid(createRandom(10)), 1)).toBe('new');
    // A newer version of an id long written to the file is kept there, and read back.
    // (Reading another record between the two makes the second read come from the file.)
    expect(seen.observe(ids[3] as string, 1e15)).toBe('newer');
    expect(seen.observe(ids[4] as string, 4)).toBe('same');
    expect(seen.observe(ids[3] as string, 1e15 - 1)).toBe('older');
    expect(seen.observe(ids[4] as string, 4)).toBe('same');
    expect(seen.observe(ids[3] as string, 1e15)).toBe('same');
    // 8 bytes an id in memory at a load of at least 0.72 (plus the 64 shards' first slots).
    expect(seen.tableBytes).toBeLessThan((200_000 * 8) / 0.72 + 64 * 16 * 8);
  });

  // The hash XORs the first and last words (among others): flipping the same bits in both keeps it.
  const a = 'c5fbb3b6-be74-4795-9fb5-4324c73fed37';
  const b = 'c5fbb3b7-be74-4795-9fb5-4324c73fed36';

  it('tells apart GUIDs whose hashes are equal', () => {
    const seen = seenIds(16);
    expect(seen.observe(a, 1)).toBe('new');
    expect(seen.observe(b, 5)).toBe('new');
    expect(seen.observe(a, 1)).toBe('same');
    expect(seen.observe(b, 5)).toBe('same');
    expect(seen.observe(a, 3)).toBe('newer');
    expect(seen.observe(b, 4)).toBe('older');
    expect(seen.size).toBe(2);
  });

  it('tells apart GUIDs whose hashes are equal when their records are in the file', () => {
    const random = createRandom(11);
    const seen = seenIds(16);
    expect(seen.observe(a, 1)).toBe('new');
    for (let i = 0; i < 5_000; i++) seen.observe(guid(random), i);
    expect(seen.observe(b, 5)).toBe('new');
    for (let i = 0; i < 5_000; i++) seen.observe(guid(random), i);
    expect(seen.observe(b, 5)).toBe('same');
    expect(seen.observe(a, 1)).toBe('same');
    expect(seen.observe(b, 6)).toBe('newer');
    expect(seen.observe(a, 3)).toBe('newer');
    expect(seen.observe(b, 5)).toBe('older');
    expect(seen.observe(a, 2)).toBe('older');
    expect(seen.observe(b, 6)).toBe('same');
    expect(seen.observe(a, 3)).toBe('same');
  });

  it('keeps the all-zero GUID (its hash is 0, the empty-slot mark) apart from every other id', () => {
    const seen = seenIds(16);
    const zero = '00000000-0000-0000-0000-000000000000';
    expect(seen.observe(zero, 1)).toBe('new');
    expect(seen.observe('00000000-0000-0000-0000-000000000001', 1)).toBe('new');
    expect(seen.observe(zero, 1)).toBe('same');
    expect(seen.observe(zero.toUpperCase(), 2)).toBe('newer');
    expect(seen.size).toBe(2);
  });

  it('handles ids that are not GUIDs', () => {
    const seen = seenIds();
    expect(seen.observe('ref-1', 1)).toBe('new');
    expect(seen.observe('ref-1', 2)).toBe('newer');
    expect(seen.observe('ref-2', 1)).toBe('new');
    expect(seen.size).toBe(2);
  });

  it('leaves no file and no open descriptor behind, and names the directory it cannot write to', async () => {
    // Linux lists a process's descriptors in /proc (where CI runs); elsewhere only the file is checked.
    const descriptors = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const before = descriptors();
    const seen = seenIds();
    seen.observe('c5fbb3b6-be74-4795-9fb5-4324c73fed37', 1);
    if (before > 0) expect(descriptors()).toBe(before + 1);
    seen.close();
    seen.close();
    expect(descriptors()).toBe(before);
    expect(await readdir(directory)).toEqual([]);
    const missing = join(directory, 'missing');
    expect(() => new SeenIds({ directory: missing })).toThrow(StorageError);
    expect(() => new SeenIds({ directory: missing })).toThrow(missing);
  });
});

/** The dedupe files this process holds open (Linux lists them in /proc, marked deleted). */
function openDedupeFiles(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed meanwhile
      }
    })
    .filter((target) => target.includes('referrals-lake-seen-ids-'));
}

describe.runIf(existsSync('/proc/self/fd'))('a sync run and its dedupe file', () => {
  it('closes the file when the run succeeds and when it fails mid-pull', async () => {
    const sandbox = await startSandbox({ count: 300, seed: 4 });
    const lake = await mkdtemp(join(tmpdir(), 'seen-ids-run-'));
    const env = { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: 'lake', SYNC_CONCURRENCY: '2' };
    try {
      let pagesSeen = 0;
      const done = await runSyncJob(
        env,
        { mode: 'full' },
        {
          logger: silentLogger,
          onProgress: () => {
            pagesSeen++;
            // The run holds two while it pulls: its dedupe, and the versions referral_versions recorded.
            expect(openDedupeFiles()).toHaveLength(2);
          },
        },
      );
      expect(done.counts.referrals).toBe(300);
      expect(pagesSeen).toBeGreaterThan(0);
      expect(openDedupeFiles()).toEqual([]);
      const failing = runSyncJob(
        env,
        { mode: 'full' },
        {
          logger: silentLogger,
          onProgress: () => {
            throw new Error('stopped after a page');
          },
        },
      );
      await expect(failing).rejects.toThrow('stopped after a page');
      expect(openDedupeFiles()).toEqual([]);
    } finally {
      await sandbox.close();
      await rm(lake, { recursive: true, force: true });
    }
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockTimeoutError, withFileLock } from '../../src/common/file-lock.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'file-lock-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The pid of a process that has already exited: a lock left by a run killed inside it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('withFileLock', () => {
  it('takes over at once a lock whose process is gone', async () => {
    const lock = join(work, 'dead.lock');
    await writeFile(lock, `${deadPid()}\n`);
    const began = Date.now();
    const result = await withFileLock(lock, async () => 'ran', { timeoutMs: 2_000, staleMs: 60_000 });
    expect(result).toBe('ran');
    expect(Date.now() - began).toBeLessThan(1_500);
  });

  it('waits for a lock whose process still runs, and times out', async () => {
    const lock = join(work, 'alive.lock');
    await writeFile(lock, `${process.ppid}\n`);
    await expect(withFileLock(lock, async () => 'ran', { timeoutMs: 300, staleMs: 60_000 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
  });

  it('does not judge a lock file its owner has not written yet', async () => {
    const lock = join(work, 'empty.lock');
    await writeFile(lock, '');
    await expect(withFileLock(lock, async () => 'ran', { timeoutMs: 300, staleMs: 60_000 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
  });
});

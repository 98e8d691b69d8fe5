/**
 * A lock file beside a state file, so that a read-compare-rename in the folder target is one step
 * even across processes (two CLI runs against the same folder). `open(…, 'wx')` is atomic; a lock
 * left by a crashed process is taken over at once when the process it names is gone from this
 * machine (a run killed with SIGKILL inside the lock must not stall the next one past its timeout),
 * else once it is older than `staleMs`.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  readonly timeoutMs?: number;
  readonly staleMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(readonly lockPath: string) {
    super(`timed out waiting for the lock ${lockPath}`);
    this.name = 'LockTimeoutError';
  }
}

export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await acquire(lockPath, options.timeoutMs ?? 10_000, options.staleMs ?? 30_000);
  try {
    return await work();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(lockPath: string, timeoutMs: number, staleMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(lockPath)) return;
    if (await isStale(lockPath, staleMs)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new LockTimeoutError(lockPath);
    await sleep(Math.min(5 * 2 ** Math.min(attempt, 5), 100));
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    if (Date.now() - (await stat(lockPath)).mtimeMs > staleMs) return true;
    return ownerIsGone(await readFile(lockPath, 'utf8'));
  } catch {
    return false; // released meanwhile: the next attempt takes it
  }
}

/**
 * True when the lock names a process that no longer runs here. An empty or half-written file (its
 * owner between create and write) is not judged; a reused pid only delays the takeover to staleMs.
 */
function ownerIsGone(content: string): boolean {
  const pid = Number(content.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Stopping a child process the dev tools started (Azurite, serve), by its own process id. */
import type { ChildProcess } from 'node:child_process';

const STOP_TIMEOUT_MS = 5_000;

/** SIGTERM, then SIGKILL if it has not exited after `timeoutMs` (5 s); resolves once it has exited. */
export async function killAndWait(child: ChildProcess, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // A plain timer, cleared on exit: a pending one would keep this process alive for STOP_TIMEOUT_MS.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

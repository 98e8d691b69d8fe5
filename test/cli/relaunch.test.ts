/**
 * The tuned child process of `referrals-lake sync` (src/cli/relaunch.ts): what it adds, and that it
 * is transparent — argv, exit code, signals, and no child left behind. The process-level cases run
 * test/fixtures/tuned-command.mjs, which relaunches as the CLI does and reports what it got.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { cliProcessTuning, commandOf, missingTuning } from '../../src/cli/relaunch.js';
import { PROCESS_TUNING } from '../../src/common/process-tuning.js';
import { alive } from '../helpers/process.js';

const FIXTURE = new URL('../fixtures/tuned-command.mjs', import.meta.url).pathname;

describe('missingTuning', () => {
  it('adds every flag and setting to an empty environment', () => {
    expect(missingTuning({}, [], PROCESS_TUNING)).toEqual({
      NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=4',
      MALLOC_MMAP_THRESHOLD_: '131072',
    });
  });

  it("keeps the user's NODE_OPTIONS first and adds only the flags they lack, in either spelling", () => {
    expect(
      missingTuning({ NODE_OPTIONS: ' --max_old_space_size=2048 --enable-source-maps ' }, [], PROCESS_TUNING),
    ).toEqual({
      NODE_OPTIONS: '--max_old_space_size=2048 --enable-source-maps --max-semi-space-size=4',
      MALLOC_MMAP_THRESHOLD_: '131072',
    });
  });

  it("counts node's own arguments and keeps the user's MALLOC_MMAP_THRESHOLD_", () => {
    expect(missingTuning({ MALLOC_MMAP_THRESHOLD_: '65536' }, ['--max-semi-space-size=8'], PROCESS_TUNING)).toEqual({
      NODE_OPTIONS: '--max-old-space-size=512',
    });
  });

  it('is undefined when nothing is missing', () => {
    const env = { NODE_OPTIONS: '--max-old-space-size=700 --max-semi-space-size=2', MALLOC_MMAP_THRESHOLD_: '1' };
    expect(missingTuning(env, [], PROCESS_TUNING)).toBeUndefined();
  });
});

describe('commandOf and cliProcessTuning', () => {
  it('names the command, not an option; none when help is asked', () => {
    expect(commandOf(['node', 'cli', 'sync', '--mode', 'full'])).toBe('sync');
    expect(commandOf(['node', 'cli', '--foo', 'sync'])).toBe('sync');
    expect(commandOf(['node', 'cli', 'sync', '--help'])).toBeUndefined();
    expect(commandOf(['node', 'cli'])).toBeUndefined();
  });

  it("uses the default instance's tuning, or a smaller machine's quarter", () => {
    expect(cliProcessTuning(24 * 2 ** 30)).toEqual(PROCESS_TUNING);
    expect(cliProcessTuning(2 ** 30).NODE_OPTIONS).toBe('--max-old-space-size=256 --max-semi-space-size=4');
  });
});

interface Report {
  event: string;
  pid: number;
  signal?: string;
  nodeOptions?: string;
  mallocMmapThreshold?: string;
  heapLimitMiB?: number;
  argv?: string[];
}

/** The fixture as a user starts it: only PATH and `env` in its environment. */
function start(args: readonly string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [FIXTURE, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reports: Report[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    reports.push(JSON.parse(line) as Report);
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal, stderr }));
  const report = async (event: string): Promise<Report> => {
    for (;;) {
      const found = reports.find((r) => r.event === event);
      if (found) return found;
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
      if (child.exitCode !== null || child.signalCode !== null) {
        const late = reports.find((r) => r.event === event);
        if (late) return late;
        throw new Error(`exited before "${event}": ${stderr}`);
      }
    }
  };
  return { child, report, exited };
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.kill(signal)) throw new Error(`could not send ${signal}`);
}

describe('the tuned child process', () => {
  it('runs the same arguments with the tuning added, and ends with its exit code', async () => {
    const run = start(['work', 'exit=7', '--flag']);
    const ready = await run.report('ready');
    expect(ready.pid).not.toBe(run.child.pid);
    expect(ready.argv).toEqual(['work', 'exit=7', '--flag']);
    expect(ready.nodeOptions).toBe(PROCESS_TUNING.NODE_OPTIONS);
    expect(ready.mallocMmapThreshold).toBe('131072');
    expect(ready.heapLimitMiB).toBeLessThan(600);
    expect((await run.exited).code).toBe(7);
  });

  it("keeps the user's NODE_OPTIONS and adds what they lack", async () => {
    const run = start(['work'], { NODE_OPTIONS: '--max-old-space-size=300' });
    const ready = await run.report('ready');
    expect(ready.nodeOptions).toBe('--max-old-space-size=300 --max-semi-space-size=4');
    expect(ready.heapLimitMiB).toBeLessThan(400);
    expect((await run.exited).code).toBe(0);
  });

  it('runs in the same process when the tuning is there, or when the mark says so', async () => {
    const tuned = start(['work'], { ...PROCESS_TUNING });
    expect((await tuned.report('ready')).pid).toBe(tuned.child.pid);
    const marked = start(['work'], { REFERRALS_LAKE_TUNED: '1' });
    const ready = await marked.report('ready');
    expect(ready.pid).toBe(marked.child.pid);
    expect(ready.nodeOptions).toBeUndefined();
    const other = start(['other']);
    expect((await other.report('ready')).pid).toBe(other.child.pid);
    expect((await Promise.all([tuned.exited, marked.exited, other.exited])).map((e) => e.code)).toEqual([0, 0, 0]);
  });

  it('passes SIGTERM on; the child stops as it chooses, and its exit code is the exit code', async () => {
    const run = start(['work', 'wait']);
    await run.report('ready');
    kill(run.child, 'SIGTERM');
    expect(await run.report('stopping')).toMatchObject({ signal: 'SIGTERM' });
    expect(await run.exited).toMatchObject({ code: 1, signal: null });
  });

  it('a Ctrl+C that reaches both processes stops the child once', async () => {
    const run = start(['work', 'wait', '300']);
    const { pid } = await run.report('ready');
    process.kill(pid, 'SIGINT');
    kill(run.child, 'SIGINT');
    expect(await run.report('stopping')).toMatchObject({ signal: 'SIGINT' });
    expect(await run.exited).toMatchObject({ code: 1, signal: null });
  });

  it('a second signal kills the child, and the parent ends by the first', async () => {
    const run = start(['work', 'wait', '60000']);
    const { pid } = await run.report('ready');
    kill(run.child, 'SIGINT');
    await run.report('stopping');
    kill(run.child, 'SIGINT');
    expect(await run.exited).toMatchObject({ code: null, signal: 'SIGINT' });
    expect(await gone(pid)).toBe(true);
  });

  it('the child does not outlive a parent killed with SIGKILL', async () => {
    const run = start(['work', 'wait']);
    const { pid } = await run.report('ready');
    kill(run.child, 'SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    expect(await gone(pid)).toBe(true);
  });
});

/**
 * Runs `referrals-lake sync` as a user runs it and measures it from outside: the wall clock from
 * start to exit, and the peak resident memory of each process of the command (read from
 * /proc/<pid>/status VmHWM, which the kernel keeps as each process's high-water mark, polled every
 * 20 ms while the command runs; Linux only). The environment holds PATH and the given settings,
 * nothing else: no NODE_OPTIONS, no MALLOC_MMAP_THRESHOLD_ (the CLI applies its process tuning
 * itself by starting a tuned child, so the command is two processes and the child does the work).
 * `BENCH_CLI=<path to another checkout's bin/referrals-lake.js>` measures that build instead, for a
 * before and after on the same machine.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { RunManifest } from '../src/sync/manifest.js';

const BIN = process.env.BENCH_CLI || new URL('../../bin/referrals-lake.js', import.meta.url).pathname;

export interface CliSyncFigures {
  readonly wallSeconds: number;
  /** The largest peak of the command's processes: the tuned child's (the sync's own process). */
  readonly peakRssBytes: number;
  /** How many processes the command ran (2 with the tuned child). */
  readonly processes: number;
  readonly manifest: RunManifest;
}

export async function runCliSync(args: readonly string[], env: Record<string, string>): Promise<CliSyncFigures> {
  const peaks = new Map<number, number>();
  const run = await runCli(['sync', ...args], env, (pid) => {
    const poll = () => {
      for (const each of processTree(pid)) notePeak(peaks, each);
    };
    poll();
    const timer = setInterval(poll, 20);
    return () => clearInterval(timer);
  });
  return {
    wallSeconds: run.wallSeconds,
    peakRssBytes: Math.max(0, ...peaks.values()),
    processes: peaks.size,
    manifest: JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as RunManifest,
  };
}

export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  /** From start to exit. */
  readonly wallSeconds: number;
}

/**
 * `referrals-lake <args>` with only PATH and `env`, to its exit; an error with the end of its stderr
 * unless it exits 0. `watch` is called with its pid at once; what it returns, at the exit.
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  watch?: (pid: number) => () => void,
): Promise<CliRun> {
  const began = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unwatch = child.pid !== undefined ? watch?.(child.pid) : undefined;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const wallSeconds = (performance.now() - began) / 1000;
  unwatch?.();
  if (code !== 0) throw new Error(`referrals-lake ${args[0]} exited ${code}: ${stderr.slice(-2000)}`);
  return { stdout, stderr, wallSeconds };
}

/** The process and its descendants, from /proc/<pid>/task/<tid>/children. */
export function processTree(root: number): number[] {
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    const pid = found[i] as number;
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) found.push(...children.split(/\s+/).map(Number));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function notePeak(peaks: Map<number, number>, pid: number): void {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(match[1]) * 1024));
  } catch {
    // Gone meanwhile: its last reading stands.
  }
}

/** Clock ticks a second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The user + system CPU a process has used so far, in ms, from /proc/<pid>/stat; 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

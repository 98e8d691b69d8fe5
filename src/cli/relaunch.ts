/**
 * The process tuning for the CLI's sync (src/common/process-tuning.ts): V8 flags and glibc's mmap
 * threshold only take effect where a process starts, so `referrals-lake sync` started without them
 * runs itself again in a child Node process that has them, and this process only stands by.
 *
 * Transparent to the caller: the same argv and node flags, stdio inherited, the child's exit code
 * (or the signal that ended it) passed on. A first SIGINT/SIGTERM is passed to the child, which
 * stops the run cleanly; a second kills it, as a second Ctrl+C would kill the process itself. A
 * user's own flags and settings win: only what is missing is added. The child carries a mark so it
 * never starts another; setting the mark (`REFERRALS_LAKE_TUNED=1`) by hand runs the sync here,
 * untuned.
 *
 * Only the sync needs it: its peak memory is what the tuning was measured on. The sandbox holds the
 * whole book in memory (a heap limit would end it), and demo (5,000 referrals next to the sandbox
 * and Azurite in one process) and serve (a page at a time) do not grow with the book.
 *
 * Loaded before the rest of the CLI (bin/referrals-lake.js), so the standing-by process costs a bare
 * Node start; keep its imports to node: modules and process-tuning.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, totalmem } from 'node:os';
import { DEFAULT_INSTANCE_MEMORY_MB, processTuning } from '../common/process-tuning.js';

/** Set in the child's environment: it is the tuned process, and must not start another. */
export const TUNED_MARK = 'REFERRALS_LAKE_TUNED';

/** Commands that run in a tuned process. */
export const TUNED_COMMANDS: readonly string[] = ['sync'];

/**
 * The tuning for this machine: the default instance's (what the bench measures), or a smaller
 * machine's own by the same rule (a quarter of its memory for the heap).
 */
export function cliProcessTuning(memoryBytes = machineMemoryBytes()): Readonly<Record<string, string>> {
  return processTuning(Math.min(DEFAULT_INSTANCE_MEMORY_MB, Math.floor(memoryBytes / 2 ** 20)));
}

function machineMemoryBytes(): number {
  const total = totalmem();
  // A container's limit, where there is one (Node reports an absent limit as a huge number or 0).
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * The environment settings to add so a process gets `tuning`, or undefined when nothing is missing.
 * A flag counts as present in NODE_OPTIONS or in node's own arguments, with any value and in either
 * spelling (`--max-old-space-size`, `--max_old_space_size`); missing flags go after the user's own.
 */
export function missingTuning(
  env: Readonly<Record<string, string | undefined>>,
  execArgv: readonly string[],
  tuning: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const present = new Set(nodeArgs(env, execArgv).map(flagName));
  const missingFlags = (tuning.NODE_OPTIONS ?? '').split(/\s+/).filter((flag) => flag && !present.has(flagName(flag)));
  const add: Record<string, string> = {};
  if (missingFlags.length > 0) add.NODE_OPTIONS = [env.NODE_OPTIONS?.trim(), ...missingFlags].filter(Boolean).join(' ');
  for (const [name, value] of Object.entries(tuning)) {
    if (name !== 'NODE_OPTIONS' && env[name] === undefined) add[name] = value;
  }
  return Object.keys(add).length > 0 ? add : undefined;
}

function nodeArgs(env: Readonly<Record<string, string | undefined>>, execArgv: readonly string[]): string[] {
  return [...(env.NODE_OPTIONS ?? '').split(/\s+/), ...execArgv];
}

function flagName(arg: string): string {
  return (arg.split('=')[0] ?? '').replaceAll('_', '-');
}

/** The command argv names (the first word after the script that is not an option), unless help is asked. */
export function commandOf(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  if (args.some((a) => a === '--help' || a === '-h')) return undefined;
  return args.find((a) => !a.startsWith('-'));
}

/**
 * In the CLI's process: when the command needs the tuning and this process lacks it, starts the
 * tuned child and resolves with the exit code to end with (after the child ended); otherwise
 * undefined, and the command runs here. In the child: arranges its end with this process's.
 */
export function relaunchTuned(
  argv: readonly string[] = process.argv,
  options: { commands?: readonly string[]; tuning?: Readonly<Record<string, string>> } = {},
): Promise<number> | undefined {
  if (process.env[TUNED_MARK] !== undefined) {
    if (process.channel) followParent();
    return undefined;
  }
  const command = commandOf(argv);
  if (!command || !(options.commands ?? TUNED_COMMANDS).includes(command)) return undefined;
  // Under a debugger the child would fight this process for the inspector's port.
  if (nodeArgs(process.env, process.execArgv).some((arg) => arg.startsWith('--inspect'))) return undefined;
  const add = missingTuning(process.env, process.execArgv, options.tuning ?? cliProcessTuning());
  if (!add) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, ...argv.slice(1)], {
    env: { ...process.env, ...add, [TUNED_MARK]: '1' },
    // The IPC channel is only there to close when this process ends, however it ends (followParent).
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  return standBy(child);
}

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

async function standBy(child: ChildProcess): Promise<number> {
  let first: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = signal;
      child.kill(signal);
    } else {
      child.kill('SIGKILL');
    }
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (signal === null) return code ?? 1;
    // Ended by a signal: end the same way, so the shell sees what it would have seen without the
    // child (after a second Ctrl+C, the Ctrl+C rather than the SIGKILL that carried it out).
    const end = signal === 'SIGKILL' && first ? first : signal;
    for (const s of FORWARDED) process.off(s, forward);
    process.kill(process.pid, end);
    return 128 + (constants.signals[end] ?? 0);
  } catch (error) {
    process.stderr.write(`referrals-lake: could not start the sync process: ${(error as Error).message}\n`);
    return 1;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/**
 * The child's side. Its parent passes on every SIGINT/SIGTERM it gets, and a Ctrl+C in a terminal
 * reaches both, so the child can get one twice: it takes the first (the command's own handler) and
 * leaves the second to the parent, which kills it on the user's second signal. When the parent is
 * gone (killed with SIGKILL), the child ends the same way rather than run on unseen.
 */
function followParent(): void {
  const ignore = () => {};
  for (const signal of FORWARDED) process.on(signal, ignore);
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

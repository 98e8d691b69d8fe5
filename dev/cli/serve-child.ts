/**
 * `referrals-lake serve` as a child process (the demo's): started with the settings given and no
 * others (PATH and HOME aside, so a setting of the user's shell cannot point it elsewhere), its JSON
 * line read, its log lines (JSON on stderr) kept so that the caller can show when the receiver queued
 * an event and the worker ran it. Stopped by its process id: SIGTERM, then SIGKILL after 20 s (serve's
 * own shutdown can take over 5 s, and it stops its Azurite last).
 * `dataDir` is serve's `--data-dir` (where it keeps the Azurite it starts when no storage is set;
 * the benchmarks give each serve a fresh one).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { repoFile } from '../repo-file.js';
import { killAndWait } from '../stop-child.js';

/** One of serve's log lines: the logger's JSON (time, level, message, fields). */
export interface LogLine {
  readonly time: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** What serve's JSON line says (dev/cli/serve-command.ts). */
export interface ServeStarted {
  readonly baseUrl: string;
  readonly receiverUrl: string;
  /** The key serve's function-key routes take (x-functions-key). */
  readonly functionKey: string;
  /** The key serve's write routes take, never the read routes' key. */
  readonly writeKey: string;
  /** Azurite's endpoints and data folder, when serve started it (no storage setting). */
  readonly azurite?: { readonly blobEndpoint: string; readonly queueEndpoint: string; readonly location: string };
}

export interface ServeChild extends ServeStarted {
  /** serve's process id (Azurite, when it started it, runs in child processes of its own). */
  readonly pid: number;
  /** The first log line, past or to come, that `match` accepts; rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** Every log line so far that `match` accepts, oldest first. */
  logged(match: (line: LogLine) => boolean): LogLine[];
  /** The last lines serve wrote on stderr, for an error message (its logs are redacted at the source). */
  tail(): string;
  /** Resolves once serve has exited. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
/**
 * How long serve may take to stop before it is killed: its queue host waits up to 5 s for running
 * invocations (dev/queue-host.ts) and then gives their messages back, and only then does serve stop
 * the Azurite it started (up to 5 s more). Killed sooner, serve would leave that Azurite running.
 */
const STOP_TIMEOUT_MS = 20_000;
const TAIL_LINES = 20;

export async function startServeChild(
  settings: Readonly<Record<string, string>>,
  options: { readonly dataDir?: string } = {},
): Promise<ServeChild> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings };
  const dataDir = options.dataDir === undefined ? [] : ['--data-dir', options.dataDir];
  const child = spawn(process.execPath, [repoFile('bin/referrals-lake.js'), 'serve', '--port', '0', ...dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // If this process exits without stop(), take serve (and what serve started) with it.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const logs = new LogLines(child);
  try {
    const started = await firstLine(child, logs);
    let stopped: Promise<void> | undefined;
    return {
      ...started,
      pid: child.pid as number,
      waitForLog: (match, timeoutMs) => logs.waitFor(match, timeoutMs),
      logged: (match) => logs.filter(match),
      tail: () => logs.tail(),
      stop() {
        stopped ??= killAndWait(child, STOP_TIMEOUT_MS).finally(() => process.off('exit', killOnExit));
        return stopped;
      },
    };
  } catch (error) {
    await killAndWait(child);
    process.off('exit', killOnExit);
    throw error;
  }
}

/** serve's JSON line on stdout, or why it never came. */
async function firstLine(child: ChildProcess, logs: LogLines): Promise<ServeStarted> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`serve did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it served:\n${logs.tail()}`)));
  });
  failed.catch(() => undefined);
  try {
    const [line] = (await Promise.race([once(lines, 'line'), failed])) as [string];
    const { baseUrl, receiverUrl, functionKey, writeKey, azurite } = JSON.parse(line) as Partial<ServeStarted>;
    return {
      baseUrl: baseUrl ?? '',
      receiverUrl: receiverUrl ?? '',
      functionKey: functionKey ?? '',
      writeKey: writeKey ?? '',
      ...(azurite ? { azurite } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** serve's stderr, line by line: the JSON ones kept for waitFor(), every one for the tail. */
class LogLines {
  private readonly lines: LogLine[] = [];
  private readonly recent: string[] = [];
  private readonly waiters = new Set<{ check(line: LogLine): void; fail(why: string): void }>();
  private exited: string | undefined;

  constructor(child: ChildProcess) {
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (text) => this.add(text));
    // Waiting for a log line of a serve that has stopped (a Ctrl+C reaches it too) ends at once.
    child.once('exit', (code, signal) => {
      this.exited = `serve exited (${code ?? signal})`;
      for (const waiter of [...this.waiters]) waiter.fail(this.exited);
    });
  }

  waitFor(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.exited) return Promise.reject(new Error(`${this.exited}; its last lines:\n${this.tail()}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        check: (line: LogLine) => {
          if (match(line)) done(() => resolve(line));
        },
        fail: (why: string) => done(() => reject(new Error(`${why}; its last lines:\n${this.tail()}`))),
      };
      const timer = setTimeout(() => waiter.fail(`serve logged nothing of the kind within ${timeoutMs} ms`), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        settle();
      };
      this.waiters.add(waiter);
    });
  }

  filter(match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(match);
  }

  tail(): string {
    return this.recent.join('\n');
  }

  private add(text: string): void {
    this.recent.push(text);
    if (this.recent.length > TAIL_LINES) this.recent.shift();
    const line = parseLogLine(text);
    if (!line) return;
    this.lines.push(line);
    for (const waiter of [...this.waiters]) waiter.check(line);
  }
}

function parseLogLine(text: string): LogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const line = JSON.parse(text) as Partial<LogLine>;
    return typeof line.time === 'string' && typeof line.message === 'string' ? (line as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

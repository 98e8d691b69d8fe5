/**
 * `referrals-lake serve` as a child process (the demo's): started with the settings given and no
 * others (PATH and HOME aside, so a setting of the user's shell cannot point it elsewhere), its JSON
 * line read, its log lines (JSON on stderr) kept so that the caller can show when the receiver queued
 * an event and the worker ran it. Stopped by its process id: SIGTERM, then SIGKILL after 5 s.
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

export interface ServeChild {
  readonly baseUrl: string;
  readonly receiverUrl: string;
  /** The key serve's function-key routes take (x-functions-key). */
  readonly functionKey: string;
  /** The first log line, past or to come, that `match` accepts; rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** The last lines serve wrote on stderr, for an error message (its logs are redacted at the source). */
  tail(): string;
  /** Resolves once serve has exited. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const TAIL_LINES = 20;

export async function startServeChild(settings: Readonly<Record<string, string>>): Promise<ServeChild> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings };
  const child = spawn(process.execPath, [repoFile('bin/referrals-lake.js'), 'serve', '--port', '0'], {
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
      waitForLog: (match, timeoutMs) => logs.waitFor(match, timeoutMs),
      tail: () => logs.tail(),
      stop() {
        stopped ??= killAndWait(child).finally(() => process.off('exit', killOnExit));
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
async function firstLine(
  child: ChildProcess,
  logs: LogLines,
): Promise<{ baseUrl: string; receiverUrl: string; functionKey: string }> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`serve did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it served:\n${logs.tail()}`)));
  });
  failed.catch(() => undefined);
  try {
    const [line] = (await Promise.race([once(lines, 'line'), failed])) as [string];
    const { baseUrl, receiverUrl, functionKey } = JSON.parse(line) as Record<string, string>;
    return { baseUrl: baseUrl ?? '', receiverUrl: receiverUrl ?? '', functionKey: functionKey ?? '' };
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

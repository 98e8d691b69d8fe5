/** Runs the built CLI (`bin/referrals-lake.js`) in a child process with a clean environment. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';

export const BIN = new URL('../../bin/referrals-lake.js', import.meta.url).pathname;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Only PATH (and what `env` adds) reaches the child: no setting leaks in from the test process. */
export async function runCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  const began = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr, seconds: (performance.now() - began) / 1000 } satisfies CliRun;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  readonly functionKey: string;
  /** The whole JSON line serve printed (receiverUrl, queues, azurite…). */
  readonly line: Record<string, unknown>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `referrals-lake serve --port 0` with only `env` (and PATH), once it has printed where it listens. */
export async function startServe(options: { env: Record<string, string>; cwd?: string }): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [line] = (await once(lines, 'line')) as [string];
  const parsed = JSON.parse(line) as { baseUrl: string; functionKey: string };
  return {
    child,
    baseUrl: parsed.baseUrl,
    functionKey: parsed.functionKey,
    line: parsed,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** A plain HTTP GET, as curl would send it. */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string; location?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          text,
          ...(res.headers.location ? { location: res.headers.location } : {}),
        }),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

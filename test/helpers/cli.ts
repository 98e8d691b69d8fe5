/** Runs the built CLI (`bin/referrals-lake.js`) in a child process with a clean environment. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

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

/**
 * Runs the sandbox CLI as a child process for benchmarks, so its CPU is not the client's. Reads the
 * one JSON line it prints, and stops it by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { rootCertificates } from 'node:tls';
import type { SandboxEnv, SandboxStats } from '../sandbox/sandbox.js';

const BIN = new URL('../../bin/referrals-lake.js', import.meta.url).pathname;

export interface SandboxProcess {
  readonly baseUrl: string;
  readonly env: SandboxEnv;
  stats(): Promise<SandboxStats>;
  /** A new bootstrap refresh token: each lake signs in once, and refresh tokens rotate. */
  freshRefreshToken(): Promise<string>;
  stop(): Promise<void>;
}

export async function spawnSandbox(args: readonly string[]): Promise<SandboxProcess> {
  // The sandbox holds the whole book as objects: a million referrals outgrow V8's default ~4 GB heap.
  const child: ChildProcess = spawn(process.execPath, ['--max-old-space-size=16384', BIN, 'sandbox', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (!child.stdout) throw new Error('sandbox has no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { baseUrl, env } = JSON.parse(line) as { baseUrl: string; env: SandboxEnv };
  const { readFileSync } = await import('node:fs');
  const ca = [...rootCertificates, readFileSync(env.PARTNER_CENTER_CA_FILE, 'utf8')];
  return {
    baseUrl,
    env,
    stats: () => control<SandboxStats>(`${baseUrl}/_sandbox/stats`, 'GET', ca),
    freshRefreshToken: async () =>
      (await control<{ refreshToken: string }>(`${baseUrl}/_sandbox/refresh-token`, 'POST', ca)).refreshToken,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

function control<T>(url: string, method: string, ca: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    request(url, { ca, method }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve(JSON.parse(text) as T));
    })
      .on('error', reject)
      .end();
  });
}

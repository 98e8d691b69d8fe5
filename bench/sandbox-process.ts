/**
 * Runs the sandbox CLI as a child process for benchmarks, so its CPU is not the client's. Reads the
 * one JSON line it prints, and stops it by its own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:https';
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
  /** A `/_sandbox/…` control route (docs/sandbox.md), over one keep-alive connection pool; the JSON answer. */
  control<T>(path: string, method: string, body?: unknown): Promise<T>;
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
  const agent = new Agent({
    keepAlive: true,
    ca: [...rootCertificates, readFileSync(env.PARTNER_CENTER_CA_FILE, 'utf8')],
  });
  const control = <T>(path: string, method: string, body?: unknown) =>
    controlRequest<T>(`${baseUrl}${path}`, method, agent, body);
  return {
    baseUrl,
    env,
    control,
    stats: () => control<SandboxStats>('/_sandbox/stats', 'GET'),
    freshRefreshToken: async () =>
      (await control<{ refreshToken: string }>('/_sandbox/refresh-token', 'POST')).refreshToken,
    stop: async () => {
      agent.destroy();
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

function controlRequest<T>(url: string, method: string, agent: Agent, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 500)}`));
        else resolve(JSON.parse(text) as T);
      });
    }).on('error', reject);
    if (body === undefined) req.end();
    else {
      req.setHeader('Content-Type', 'application/json');
      req.end(JSON.stringify(body));
    }
  });
}

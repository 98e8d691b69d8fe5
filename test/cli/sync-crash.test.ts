/**
 * The sync as an operator meets it: the CLI in its own process, killed with SIGKILL mid-run, rerun;
 * two runs started at once. The lake is a local folder so every file can be inspected.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import type { RunManifest } from '../../src/sync/manifest.js';

import { BIN } from '../helpers/cli.js';

const COUNT = 3000;

let sandbox: Sandbox;
let work: string;

beforeAll(async () => {
  sandbox = await startSandbox({ count: COUNT, seed: 4 });
  work = await mkdtemp(join(tmpdir(), 'sync-crash-'));
});
afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

function syncProcess(
  lake: string,
  extraEnv: Record<string, string> = {},
): ChildProcess & { output: Promise<Finished> } {
  const child = spawn(process.execPath, [BIN, 'sync', '--mode', 'full'], {
    env: {
      PATH: process.env.PATH ?? '',
      ...sandbox.env,
      PARTNER_CENTER_TOKEN_CACHE: 'lake',
      LAKE_LOCAL_DIR: lake,
      SYNC_CONCURRENCY: '2',
      SYNC_PAGE_SIZE: '50',
      SYNC_LEASE_SECONDS: '2',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const output = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal,
    stdout,
    stderr,
  }));
  return Object.assign(child, { output });
}

interface Finished {
  code: number | null;
  signal: unknown;
  stdout: string;
  stderr: string;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Temp files of unfinished writes anywhere in the lake, as lake-relative paths. */
async function tempFiles(lake: string): Promise<string[]> {
  const entries = await readdir(lake, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.startsWith('.~tmp-'))
    .map((e) => relative(lake, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

async function manifests(lake: string): Promise<RunManifest[]> {
  const dir = join(lake, '_runs');
  const names = (await exists(dir)) ? await readdir(dir) : [];
  return Promise.all(
    names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))),
  );
}

describe('referrals-lake sync, killed and raced', () => {
  it('a run killed with SIGKILL publishes nothing; the rerun completes with every referral once', async () => {
    const lake = join(work, 'killed');
    // The sandbox's first use of its bootstrap token rotates it: give the lake a cache first.
    const warmup = await syncProcess(lake).output;
    expect(warmup.code, warmup.stderr).toBe(0);
    const before = (await manifests(lake)).map((m) => m.runId);

    sandbox.faults.replace({ latency: { ms: 60, jitter: 0 } });
    const requestsBefore = sandbox.stats().api.requests;
    const doomed = syncProcess(lake);
    // Kill it mid-pull: after 15 pages have been served (of 60), while its files are half written.
    await waitFor(async () => sandbox.stats().api.requests - requestsBefore >= 15, 20_000);
    doomed.kill('SIGKILL');
    const killed = await doomed.output;
    expect(killed.signal).toBe('SIGKILL');
    expect((await manifests(lake)).map((m) => m.runId)).toEqual(before);
    // Its open files stay behind as temp files, which the next run sweeps (they are older than the lease by then).
    const leftByKill = await tempFiles(lake);
    expect(leftByKill.length).toBeGreaterThan(0);

    sandbox.faults.replace({});
    await new Promise((r) => setTimeout(r, 2200)); // the dead run's lease expires
    const rerun = await syncProcess(lake).output;
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout.trim().split('\n').at(-1) ?? '{}') as RunManifest;
    expect(summary.counts.referrals).toBe(COUNT);
    expect(await tempFiles(lake)).toEqual([]);
    const swept = rerun.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message: string; files?: number; paths?: string[] })
      .find((line) => line.message === 'swept temporary files that interrupted writes left');
    expect(swept?.files).toBe(leftByKill.length);
    for (const path of swept?.paths ?? []) expect(leftByKill).toContain(path);

    const latest = (await readFile(join(lake, 'ndjson', 'referrals_latest', 'part-00000.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).referral_id as string);
    expect(latest).toHaveLength(COUNT);
    expect(new Set(latest)).toEqual(new Set(sandbox.store.all().map((r) => r.id)));
    for (const manifest of await manifests(lake)) {
      for (const file of [...manifest.files, ...manifest.latest.filter(() => manifest.runId === summary.runId)]) {
        const info = await stat(join(lake, file.path));
        expect(info.size, file.path).toBe(file.bytes);
      }
    }
  }, 90_000);

  it('two runs started together: one runs, the other exits "already running"; then nothing to do exits 6', async () => {
    const lake = join(work, 'raced');
    // A second lake needs its own sign-in: the first one rotated the bootstrap token away.
    const bootstrap = sandbox.identity.issueBootstrapRefreshToken(0);
    const warmup = await syncProcess(lake, { PARTNER_CENTER_REFRESH_TOKEN: bootstrap }).output;
    expect(warmup.code, warmup.stderr).toBe(0);
    sandbox.faults.replace({ latency: { ms: 20, jitter: 0 } });
    try {
      const [a, b] = await Promise.all([syncProcess(lake).output, syncProcess(lake).output]);
      const codes = [a.code, b.code].sort();
      expect(codes).toEqual([0, 5]);
      const loser = a.code === 5 ? a : b;
      expect(loser.stderr).toMatch(/already running/i);
    } finally {
      sandbox.faults.replace({});
    }
    // Nothing changed since: an incremental run re-reads only the overlap and publishes nothing.
    const runsBefore = (await manifests(lake)).length;
    const idle = spawn(process.execPath, [BIN, 'sync', '--mode', 'incremental'], {
      env: { PATH: process.env.PATH ?? '', ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: 'lake', LAKE_LOCAL_DIR: lake },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    idle.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const [code] = (await once(idle, 'exit')) as [number | null];
    expect(code).toBe(6);
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
      status: 'nothing_to_do',
      counts: { changed: 0 },
    });
    expect(await manifests(lake)).toHaveLength(runsBefore);
  }, 90_000);
});

/**
 * `referrals-lake sync` run as a user runs it, with no tuning in the environment, gets the process
 * tuning anyway (src/cli/relaunch.ts): its first log line says what the process doing the sync has.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { runCli } from '../helpers/cli.js';

let sandbox: Sandbox;
let work: string;

beforeAll(async () => {
  sandbox = await startSandbox({ count: 300, seed: 6 });
  work = await mkdtemp(join(tmpdir(), 'sync-tuning-'));
});
afterAll(async () => {
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

function startedLine(stderr: string): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.includes('"sync started"'));
  if (!line) throw new Error(`no "sync started" line in:\n${stderr}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('referrals-lake sync, as a user runs it', () => {
  it('syncs in a process with the heap limit, young generation and mmap threshold of the tuning', async () => {
    const run = await runCli(['sync', '--mode', 'full', '--target', join(work, 'lake')], {
      env: { ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') },
    });
    expect(run.code, run.stderr).toBe(0);
    const started = startedLine(run.stderr);
    expect(started.heapLimitMiB).toBeLessThan(600);
    expect(started.youngGenerationMiB).toBeLessThanOrEqual(8);
    expect(started.mallocMmapThreshold).toBe('131072');
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ counts: { referrals: 300 } });
  });
});

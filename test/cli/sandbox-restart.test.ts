/**
 * Issue 17 as a new user met it, from a clean folder with the default token cache file
 * (.data/msal-token-cache.json): a sandbox and `sync --target ./lake-a`; then the sandbox stopped
 * and a new one started (a new port, so a new authority, and a new bootstrap refresh token), and
 * `sync` and `serve` with its settings. Each sandbox's bootstrap token must be tried, never the
 * account the cache holds for the one before.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { httpGet, runCli, startServe } from '../helpers/cli.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sandbox-restart-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** Runs `body` against a sandbox that is stopped afterwards, as Ctrl-C in its shell would. */
async function withSandbox(body: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const sandbox = await startSandbox({ count: 300, seed: 1 });
  try {
    await body(sandbox);
  } finally {
    await sandbox.close();
  }
}

async function sync(sandbox: Sandbox) {
  const run = await runCli(['sync', '--target', './lake-a'], { env: { ...sandbox.env }, cwd: work });
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ status: 'succeeded' });
  expect(run.stderr).not.toContain(sandbox.env.PARTNER_CENTER_REFRESH_TOKEN);
  return run;
}

async function listFive(sandbox: Sandbox) {
  const serve = await startServe({ env: { ...sandbox.env }, cwd: work });
  try {
    const page = await httpGet(`${serve.baseUrl}/api/referrals?maxItems=5`, { 'x-functions-key': serve.functionKey });
    expect(page.status, `${page.text}\n${serve.stderr()}`).toBe(200);
    expect((JSON.parse(page.text) as { value: unknown[] }).value).toHaveLength(5);
    return serve.stderr();
  } finally {
    expect(await serve.stop()).toBe(0);
  }
}

async function cachedHosts(): Promise<string[]> {
  const cache = JSON.parse(await readFile(join(work, '.data', 'msal-token-cache.json'), 'utf8'));
  return Object.values(cache.Account as Record<string, { environment: string }>).map((a) => a.environment);
}

describe('sandboxes one after another on one token cache file', () => {
  it('sync works against each; serve works after the sync, and as the first to meet a new sandbox', async () => {
    const hosts: string[] = [];
    await withSandbox(async (first) => {
      hosts.push(new URL(first.baseUrl).host);
      await sync(first);
    });
    await withSandbox(async (second) => {
      hosts.push(new URL(second.baseUrl).host);
      const run = await sync(second);
      expect(run.stderr).toMatch(/signed in with the bootstrap refresh token setting/);
      await listFive(second);
      expect(second.stats().identity.invalidGrants).toBe(0);
    });
    await withSandbox(async (third) => {
      hosts.push(new URL(third.baseUrl).host);
      expect(await listFive(third)).toMatch(/signed in with the bootstrap refresh token setting/);
      const run = await sync(third);
      expect(run.stderr).not.toMatch(/bootstrap/);
      expect(third.stats().identity.invalidGrants).toBe(0);
    });
    expect(await cachedHosts()).toEqual(hosts);
  }, 180_000);
});

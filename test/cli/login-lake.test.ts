/**
 * First login for the function app, as docs/operations.md describes it: `referrals-lake login` with
 * PARTNER_CENTER_TOKEN_CACHE=lake writes the MSAL cache into the lake's `_state/`, where the timer
 * (same settings, no refresh token, no local file) then finds it. In Azure the lake is
 * LAKE_ACCOUNT_URL + DefaultAzureCredential; here a local lake folder stands in for it (same store).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { runCli } from '../helpers/cli.js';

describe('referrals-lake login into the lake, then a sync from the lake cache', () => {
  let sandbox: Sandbox;
  let lake: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 30, seed: 11, deviceCodeAutoApproveMs: 300 });
    lake = await mkdtemp(join(tmpdir(), 'login-lake-'));
    const { PARTNER_CENTER_REFRESH_TOKEN: _bootstrap, ...withoutBootstrap } = sandbox.env;
    env = { ...withoutBootstrap, PARTNER_CENTER_TOKEN_CACHE: 'lake', LAKE_LOCAL_DIR: lake };
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('stores the cache in _state/ of the lake, and an unattended sync signs in from it', async () => {
    const login = await runCli(['login', '--timeout', '30'], { env });
    expect(login.code, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout.trim()).cache).toContain('_state/msal-token-cache.json');
    const cache = JSON.parse(await readFile(join(lake, '_state', 'msal-token-cache.json'), 'utf8'));
    expect(cache).toHaveProperty('RefreshToken');

    // No refresh token setting and no live access token: the sync must redeem the cached refresh token.
    sandbox.identity.expireAccessTokens();
    const refreshesBefore = sandbox.stats().identity.refreshes;
    const sync = await runCli(['sync', '--mode', 'full'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ status: 'succeeded' });
    expect(sandbox.stats().identity.refreshes).toBeGreaterThan(refreshesBefore);
    expect(sandbox.stats().identity.invalidGrants).toBe(0);
  });
});

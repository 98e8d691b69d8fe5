import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { runCli } from '../helpers/cli.js';

const cli = (args: string[], env: Record<string, string>) => runCli(args, { env });

describe('referrals-lake login, then unattended runs', () => {
  let sandbox: Sandbox;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 20, seed: 5, deviceCodeAutoApproveMs: 500 });
    work = await mkdtemp(join(tmpdir(), 'login-test-'));
    const { PARTNER_CENTER_REFRESH_TOKEN: _bootstrap, ...withoutBootstrap } = sandbox.env;
    env = { ...withoutBootstrap, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache', 'msal.json') };
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(work, { recursive: true, force: true });
  });

  it('check without a sign-in exits 4 and says to run login', async () => {
    const run = await cli(['check'], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/referrals-lake login/);
    expect(run.stderr).not.toContain(sandbox.env.PARTNER_CENTER_CLIENT_SECRET);
  });

  it('login completes the device code flow and stores the cache privately', async () => {
    const run = await cli(['login', '--timeout', '30'], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/devicelogin/);
    expect(run.stderr).toMatch(/enter the code [A-Z0-9]{4,}/i);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ signedIn: true, username: 'admin@contoso-partner.example' });
    const file = env.PARTNER_CENTER_TOKEN_CACHE ?? '';
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('RefreshToken');
  });

  it('login says so when PARTNER_CENTER_USERNAME names another user than the one who signed in', async () => {
    const run = await cli(['login', '--timeout', '30'], {
      ...env,
      PARTNER_CENTER_USERNAME: 'seller@contoso-partner.example',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /PARTNER_CENTER_USERNAME is seller@contoso-partner\.example, so unattended runs will not use this account/,
    );
  });

  it('a fresh process then signs in from the persisted cache alone, and keeps working as tokens rotate', async () => {
    const refreshesBefore = sandbox.stats().identity.refreshes;
    for (let i = 0; i < 3; i++) {
      // Every access token dies between runs, so each run must redeem the refresh token its
      // predecessor wrote back (the sandbox kills a refresh token once used).
      sandbox.identity.expireAccessTokens();
      const run = await cli(['check'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout.trim())).toMatchObject({ ok: true, firstPageReferrals: 1 });
    }
    expect(sandbox.stats().identity.refreshes - refreshesBefore).toBe(3);
    expect(sandbox.stats().identity.invalidGrants).toBe(0);
  });
});

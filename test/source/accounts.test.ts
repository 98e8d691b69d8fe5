/**
 * Which cached account a run uses (issue 17): only one of the configured authority and tenant, the
 * one PARTNER_CENTER_USERNAME names when there are several, and the bootstrap refresh token setting
 * when there is none or Entra refuses it. Production wiring (createPartnerCenterSource) against
 * sandboxes that come and go on one token cache file, as a user's would.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountInfo, INetworkModule } from '@azure/msal-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/sandbox.js';
import { AuthRequiredError, ConfigError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/log.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import { chooseAccount, sameAuthority, tenantIdOf } from '../../src/source/auth/accounts.js';
import { createMsalNetworkClient } from '../../src/source/auth/network-client.js';
import { bootstrapFingerprint } from '../../src/source/auth/token-cache.js';
import { createPartnerCenterSource, type PartnerCenterSource } from '../../src/source/create.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'accounts-test-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const sandboxes: Sandbox[] = [];
const sources: PartnerCenterSource[] = [];
afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const ADMIN = 'admin@contoso-partner.example';
const SELLER = 'seller@contoso-partner.example';
const OTHER_TENANT = '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4';

async function sandboxAt(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ count: 5, ...options });
  sandboxes.push(sandbox);
  return sandbox;
}

/** Stops a sandbox: everything it issued is forgotten, as a different Entra would. */
async function stop(sandbox: Sandbox): Promise<number> {
  sandboxes.splice(sandboxes.indexOf(sandbox), 1);
  await sandbox.close();
  return Number(new URL(sandbox.baseUrl).port);
}

interface Run {
  source: PartnerCenterSource;
  logs: string[];
  /** The user the API saw, as the sandbox knows them; or the error the sign-in failed with. */
  user?: string;
  error?: unknown;
}

/** One process's worth: settings from the sandbox plus `env`, production wiring, one API call. */
async function signIn(sandbox: Sandbox, cache: string, env: Record<string, string> = {}): Promise<Run> {
  const logs: string[] = [];
  const config = loadPartnerCenterConfig({ ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: cache, ...env });
  const source = createPartnerCenterSource(config, { logger: createLogger((_l, line) => logs.push(line)) });
  sources.push(source);
  try {
    // A real API call: a cached access token this sandbox did not issue meets a 401 and a refresh.
    await source.client.getReferral(sandbox.store.all()[0]?.id ?? '');
    const token = await source.tokens.getAccessToken();
    const check = await sandbox.identity.verifyAccessToken(`Bearer ${token}`);
    if (!check.ok) throw new Error(`the sandbox refused the token: ${check.description}`);
    return { source, logs, user: check.user.email };
  } catch (error) {
    return { source, logs, error };
  }
}

function cacheFile(name: string): string {
  return join(work, name, 'msal-token-cache.json');
}

async function cachedAccounts(file: string): Promise<Array<{ environment: string; realm: string; username: string }>> {
  return Object.values(JSON.parse(await readFile(file, 'utf8')).Account);
}

/** A sandbox signs `cache` in and stops; another starts on its port: the same authority host. */
async function restartedOnSamePort(
  cache: string,
  options: SandboxOptions = {},
): Promise<{ before: Sandbox; after: Sandbox; port: number }> {
  const before = await sandboxAt();
  expect((await signIn(before, cache)).user).toBe(ADMIN);
  const port = await stop(before);
  return { before, after: await sandboxAt({ ...options, port }), port };
}

const NO_BOOTSTRAP = { PARTNER_CENTER_REFRESH_TOKEN: '' };

describe('a restarted sandbox: new authority host, new bootstrap token, same cache file', () => {
  it('signs in with the new bootstrap token and never shows the old authority its refresh token', async () => {
    const cache = cacheFile('restart');
    const first = await sandboxAt();
    expect((await signIn(first, cache)).user).toBe(ADMIN);
    await stop(first);

    const second = await sandboxAt();
    const run = await signIn(second, cache);
    expect(run.error).toBeUndefined();
    expect(run.user).toBe(ADMIN);
    expect(run.logs.join('\n')).toMatch(/signed in with the bootstrap refresh token setting/);
    // The old account's refresh token went nowhere: the one refresh_token grant was the bootstrap.
    expect(second.stats().identity).toMatchObject({ invalidGrants: 0, byGrant: { refresh_token: 1 } });
    expect((await cachedAccounts(cache)).map((a) => a.environment)).toEqual([
      new URL(first.baseUrl).host,
      new URL(second.baseUrl).host,
    ]);

    // The next process needs no bootstrap token: the new account is in the cache.
    second.identity.expireAccessTokens();
    expect((await signIn(second, cache, NO_BOOTSTRAP)).user).toBe(ADMIN);
  });

  it('without a bootstrap token, says the cache holds accounts of another host only, and what to do', async () => {
    const cache = cacheFile('restart-no-bootstrap');
    await signIn(await sandboxAt(), cache);
    await stop(sandboxes[0] as Sandbox);
    const second = await sandboxAt();
    const { error } = await signIn(second, cache, NO_BOOTSTRAP);
    expect(error).toBeInstanceOf(AuthRequiredError);
    expect((error as Error).message).toMatch(/holds no account for tenant .* at 127\.0\.0\.1:\d+ \(its 1 account/);
    expect((error as Error).message).toMatch(/referrals-lake login.*PARTNER_CENTER_REFRESH_TOKEN/);
    expect(second.stats().identity.tokenRequests).toBe(0);
  });
});

describe('the same authority host and tenant, but Entra refuses the cached sign-in', () => {
  it('tries a bootstrap token new to this cache once; one it already redeemed is not presented again', async () => {
    const cache = cacheFile('refused');
    // The cached account matches, but the second sandbox never issued its refresh token.
    const { after: second, port } = await restartedOnSamePort(cache);
    const run = await signIn(second, cache);
    expect(run.error).toBeUndefined();
    expect(run.user).toBe(ADMIN);
    expect(run.logs.join('\n')).toMatch(/refused the cached sign-in; trying the bootstrap refresh token setting once/);
    expect(second.stats().identity).toMatchObject({ invalidGrants: 1, byGrant: { refresh_token: 2 } });
    expect(await cachedAccounts(cache)).toHaveLength(1);
    const spent = second.env.PARTNER_CENTER_REFRESH_TOKEN;
    await stop(second);

    // A third start, still configured with the second one's bootstrap token, already redeemed here.
    const third = await sandboxAt({ port });
    const again = await signIn(third, cache, { PARTNER_CENTER_REFRESH_TOKEN: spent });
    expect(again.error).toBeInstanceOf(AuthRequiredError);
    expect((again.error as Error).message).toMatch(
      /refused the cached sign-in .*\(invalid_grant\); PARTNER_CENTER_REFRESH_TOKEN was already redeemed on this cache/,
    );
    expect((again.error as Error).message).toMatch(/replace PARTNER_CENTER_REFRESH_TOKEN with a fresh refresh token/);
    expect(third.stats().identity.byGrant).toEqual({ refresh_token: 1 });

    // What the cache remembers of it is a fingerprint, and nothing logs either.
    const text = await readFile(cache, 'utf8');
    expect(text).not.toContain(spent);
    expect(JSON.parse(text).ReferralsLake.redeemedBootstrapTokens).toContain(bootstrapFingerprint(spent));
    for (const line of [...run.logs, ...again.logs, String(again.error)]) {
      expect(line).not.toContain(spent);
      expect(line).not.toContain(bootstrapFingerprint(spent));
    }
  });

  it('names both refusals when the bootstrap token is refused too', async () => {
    const cache = cacheFile('both-refused');
    const { after: second } = await restartedOnSamePort(cache);
    // A token this sandbox never issued, and new to the cache.
    const { error } = await signIn(second, cache, {
      PARTNER_CENTER_REFRESH_TOKEN: `0.S.${'x'.repeat(40)}`,
    });
    expect(error).toBeInstanceOf(AuthRequiredError);
    expect((error as Error).message).toMatch(
      /refused the cached sign-in .*\(invalid_grant\), then Entra ID refused the bootstrap refresh token \(PARTNER_CENTER_REFRESH_TOKEN\) \(invalid_grant\)/,
    );
    expect(second.stats().identity.invalidGrants).toBe(2);
  });
});

describe('a tenant switch on one authority host', () => {
  it.each([
    ['by id', (_s: Sandbox) => OTHER_TENANT],
    ['by domain', (s: Sandbox) => s.tenantDomain],
  ])('uses no account of the old tenant (new tenant named %s)', async (_how, tenantSetting) => {
    const cache = cacheFile(`switch-${_how.replace(' ', '-')}`);
    const { before, after } = await restartedOnSamePort(cache, {
      tenantId: OTHER_TENANT,
      tenantDomain: 'fabrikam-partner.example',
    });
    const tenant = { PARTNER_CENTER_TENANT_ID: tenantSetting(after) };
    const without = await signIn(after, cache, { ...tenant, ...NO_BOOTSTRAP });
    expect(without.error).toBeInstanceOf(AuthRequiredError);
    expect((without.error as Error).message).toMatch(/holds no account for tenant /);
    expect(after.stats().identity.byGrant).toEqual({});

    const run = await signIn(after, cache, tenant);
    expect(run.error).toBeUndefined();
    expect(run.user).toBe(ADMIN);
    expect(after.stats().identity).toMatchObject({ invalidGrants: 0, byGrant: { refresh_token: 1 } });
    expect((await cachedAccounts(cache)).map((a) => a.realm).sort()).toEqual(
      [OTHER_TENANT, before.env.PARTNER_CENTER_TENANT_ID].sort(),
    );
    after.identity.expireAccessTokens();
    expect((await signIn(after, cache, { ...tenant, ...NO_BOOTSTRAP })).user).toBe(ADMIN);
  });
});

describe('a cache with two accounts of the tenant', () => {
  /** The admin signs in by bootstrap, then the seller, named, by a bootstrap token of their own. */
  async function twoAccounts(name: string): Promise<{ sandbox: Sandbox; cache: string }> {
    const sandbox = await sandboxAt();
    const cache = cacheFile(name);
    expect((await signIn(sandbox, cache)).user).toBe(ADMIN);
    const seller = await signIn(sandbox, cache, {
      PARTNER_CENTER_USERNAME: SELLER,
      PARTNER_CENTER_REFRESH_TOKEN: sandbox.identity.issueBootstrapRefreshToken(1),
    });
    expect(seller.user).toBe(SELLER);
    expect(await cachedAccounts(cache)).toHaveLength(2);
    return { sandbox, cache };
  }

  it('refuses to guess: the error names PARTNER_CENTER_USERNAME and lists the usernames, nothing else of them', async () => {
    const { sandbox, cache } = await twoAccounts('two');
    const { error } = await signIn(sandbox, cache, NO_BOOTSTRAP);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('PARTNER_CENTER_USERNAME');
    expect((error as Error).message).toContain(`holds 2 accounts for this tenant (${ADMIN}, ${SELLER})`);
    for (const account of await cachedAccounts(cache)) {
      const { home_account_id, local_account_id } = account as unknown as Record<string, string>;
      expect((error as Error).message).not.toContain(String(local_account_id));
      expect((error as Error).message).not.toContain(String(home_account_id).split('.')[0]);
    }
  });

  it('uses the account PARTNER_CENTER_USERNAME names, in any case', async () => {
    const { sandbox, cache } = await twoAccounts('two-named');
    sandbox.identity.expireAccessTokens();
    expect((await signIn(sandbox, cache, { ...NO_BOOTSTRAP, PARTNER_CENTER_USERNAME: SELLER })).user).toBe(SELLER);
    expect((await signIn(sandbox, cache, { ...NO_BOOTSTRAP, PARTNER_CENTER_USERNAME: ADMIN.toUpperCase() })).user).toBe(
      ADMIN,
    );
  });

  it('says what to do when PARTNER_CENTER_USERNAME names neither', async () => {
    const { sandbox, cache } = await twoAccounts('two-unnamed');
    const { error } = await signIn(sandbox, cache, { ...NO_BOOTSTRAP, PARTNER_CENTER_USERNAME: 'nobody@example.com' });
    expect(error).toBeInstanceOf(AuthRequiredError);
    expect((error as Error).message).toContain(`no account nobody@example.com for tenant`);
    expect((error as Error).message).toContain(`(it holds ${ADMIN}, ${SELLER})`);
    // The next step may reach an HTTP caller (problem+json): it names the setting, not the user.
    expect((error as AuthRequiredError).nextStep).toMatch(/sign in as the user PARTNER_CENTER_USERNAME names/);
    expect((error as AuthRequiredError).nextStep).not.toContain('nobody@example.com');
  });

  it('refuses a bootstrap token of another user than PARTNER_CENTER_USERNAME', async () => {
    const sandbox = await sandboxAt();
    const { error } = await signIn(sandbox, cacheFile('mismatch'), { PARTNER_CENTER_USERNAME: SELLER });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `PARTNER_CENTER_USERNAME: is ${SELLER}, but PARTNER_CENTER_REFRESH_TOKEN signed in ${ADMIN}; set one to match the other`,
    );
  });
});

describe('matching rules', () => {
  const account = (environment: string, tenantId: string, username = ADMIN): AccountInfo => ({
    homeAccountId: `oid.${tenantId}`,
    environment,
    tenantId,
    username,
    localAccountId: 'oid',
  });
  const TENANT = '4d2c7b1e-9a8f-4e3d-b6c5-a1b2c3d4e5f6';

  it('takes MSAL’s public-cloud alias for the configured host, and a port as part of the host', () => {
    expect(sameAuthority('login.windows.net', 'login.microsoftonline.com')).toBe(true);
    expect(sameAuthority('login.microsoftonline.us', 'login.usgovcloudapi.net')).toBe(true);
    expect(sameAuthority('login.microsoftonline.us', 'login.microsoftonline.com')).toBe(false);
    expect(sameAuthority('127.0.0.1:8443', '127.0.0.1:8443')).toBe(true);
    expect(sameAuthority('127.0.0.1:8443', '127.0.0.1:9443')).toBe(false);
  });

  it('matches the tenant id without case; any tenant when the setting is multi-tenant', () => {
    const accounts = [account('login.windows.net', TENANT.toUpperCase()), account('login.windows.net', OTHER_TENANT)];
    const scope = { authorityHost: 'login.microsoftonline.com', tenantId: TENANT };
    expect(chooseAccount(accounts, scope)).toEqual({ kind: 'found', account: accounts[0] });
    expect(chooseAccount(accounts, { ...scope, authorityHost: 'login.microsoftonline.us' })).toEqual({
      kind: 'none',
      elsewhere: 2,
    });
    expect(chooseAccount(accounts, { ...scope, tenantId: undefined })).toMatchObject({ kind: 'ambiguous' });
  });

  it('resolves a domain to its tenant id at the authority; a GUID or multi-tenant name needs no request', async () => {
    const sandbox = await sandboxAt();
    const client = createMsalNetworkClient({ caPem: sandbox.caPem });
    const asked: string[] = [];
    const network: INetworkModule = {
      sendGetRequestAsync: (url, options, timeout) => {
        asked.push(new URL(url).pathname);
        return client.sendGetRequestAsync(url, options, timeout);
      },
      sendPostRequestAsync: (url, options) => client.sendPostRequestAsync(url, options),
    };
    try {
      const tenant = sandbox.env.PARTNER_CENTER_TENANT_ID;
      expect(await tenantIdOf(sandbox.baseUrl, sandbox.tenantDomain.toUpperCase(), network)).toBe(tenant);
      expect(await tenantIdOf(sandbox.baseUrl, tenant.toUpperCase(), network)).toBe(tenant);
      expect(await tenantIdOf(sandbox.baseUrl, 'organizations', network)).toBeUndefined();
      const unknown = await tenantIdOf(sandbox.baseUrl, 'fabrikam.example', network).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(ConfigError);
      expect((unknown as ConfigError).setting).toBe('PARTNER_CENTER_TENANT_ID');
      expect(asked).toEqual([
        '/CONTOSO-PARTNER.EXAMPLE/v2.0/.well-known/openid-configuration',
        '/fabrikam.example/v2.0/.well-known/openid-configuration',
      ]);
    } finally {
      client.close();
    }
  });
});

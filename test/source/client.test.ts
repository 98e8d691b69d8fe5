import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/sandbox.js';
import { loadOrCreateTls } from '../../sandbox/tls.js';
import { AuthRequiredError, ConfigError, ThrottledError, UpstreamError } from '../../src/common/errors.js';
import { createLogger } from '../../src/common/log.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import type { ListQuery } from '../../src/odata/ast.js';
import { parseListQuery } from '../../src/odata/parse.js';
import type { PartnerCenterClient } from '../../src/source/client.js';
import { createPartnerCenterSource, type PartnerCenterSource } from '../../src/source/create.js';
import type { RetryPolicy } from '../../src/source/http/retry.js';
import type { Transport } from '../../src/source/http/transport.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'client-test-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const opened: Array<{ sandbox: Sandbox; source: PartnerCenterSource }> = [];
afterEach(async () => {
  for (const { sandbox, source } of opened.splice(0)) {
    source.close();
    await sandbox.close();
  }
});

interface Harness {
  sandbox: Sandbox;
  source: PartnerCenterSource;
  client: PartnerCenterClient;
  logs: string[];
  waits: number[];
}

/** A sandbox and a client wired exactly as production does, with a fast retry policy. */
async function harness(
  options: SandboxOptions,
  env: Record<string, string> = {},
  retry: Partial<RetryPolicy> = {},
  wrapTransport?: (t: Transport) => Transport,
): Promise<Harness> {
  const sandbox = await startSandbox({ seed: 11, ...options });
  const logs: string[] = [];
  const config = loadPartnerCenterConfig({
    ...sandbox.env,
    PARTNER_CENTER_TOKEN_CACHE: join(work, `cache-${opened.length}-${Date.now()}.json`),
    PARTNER_CENTER_MAX_ATTEMPTS: '10',
    ...env,
  });
  const waits: number[] = [];
  const source = createPartnerCenterSource(config, {
    logger: createLogger((_l, line) => logs.push(line)),
    // Fast retries for tests; waits are real but recorded.
    retry: { maxAttempts: 10, maxElapsedMs: 60_000, baseDelayMs: 5, maxDelayMs: 50, ...retry },
    sleep: async (ms: number) => {
      waits.push(ms);
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
    },
    wrapTransport,
  });
  opened.push({ sandbox, source });
  return { sandbox, source, client: source.client, logs, waits };
}

async function collectIds(client: PartnerCenterClient, query: ListQuery = {}): Promise<string[]> {
  const ids: string[] = [];
  for await (const referral of client.listReferrals(query)) ids.push((referral as { id: string }).id);
  return ids;
}

describe('PartnerCenterClient against the sandbox', () => {
  it.each([1, 7, 500])(
    'streams 10,000 referrals exactly once with pages of %i',
    async (size) => {
      const { sandbox, client } = await harness({ count: 10_000, maxPageSize: 500 });
      const ids = await collectIds(client, { top: size });
      expect(ids).toHaveLength(10_000);
      expect(new Set(ids).size).toBe(10_000);
      expect(ids).toEqual(sandbox.store.all().map((r) => r.id));
      expect(client.stats.pages).toBe(Math.ceil(10_000 / size));
    },
    120_000,
  );

  it('follows the docs-example nextLink (http, no /engagements) to the right place', async () => {
    const { sandbox, client } = await harness({ count: 30, nextLinkStyle: 'seed' });
    const pages = [];
    for await (const page of client.listReferrals({ top: 10 }).pages()) pages.push(page);
    expect(pages).toHaveLength(3);
    for (const page of pages.slice(0, -1)) {
      expect(page.nextLink).toMatch(new RegExp(`^${sandbox.baseUrl}/v1.0/engagements/referrals\\?`));
    }
  });

  it('waits at least the Retry-After asked under a 429 storm, then gets everything', async () => {
    const { client, waits } = await harness({ count: 50, faults: '429(rate=1,retryAfter=1,max=3)' });
    const began = performance.now();
    const ids = await collectIds(client, { top: 50 });
    const elapsed = performance.now() - began;
    expect(ids).toHaveLength(50);
    expect(client.stats.throttled).toBe(3);
    expect(waits).toHaveLength(3);
    for (const ms of waits) expect(ms).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeGreaterThanOrEqual(3000);
  }, 30_000);

  it('fails with a typed ThrottledError when throttling outlasts the attempts', async () => {
    const { client } = await harness({ count: 5, faults: '429(rate=1,retryAfter=0)' }, {}, { maxAttempts: 3 });
    const error = await collectIds(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).requestId).toBeTruthy();
  });

  it('fails at once, typed, when Retry-After asks for more than the time budget left', async () => {
    const { client, waits } = await harness(
      { count: 5, faults: '429(rate=1,retryAfter=30)' },
      {},
      { maxElapsedMs: 5000 },
    );
    const began = performance.now();
    const error = await collectIds(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterSeconds).toBe(30);
    expect(waits).toHaveLength(0);
    expect(performance.now() - began).toBeLessThan(3000);
  });

  it('recovers from 5xx bursts, resets mid-body and malformed pages with nothing lost or repeated', async () => {
    const { sandbox, client } = await harness({
      count: 3000,
      faults: '5xx(rate=0.1,burst=3),reset(rate=0.08),malformed(rate=0.08)',
    });
    const ids = await collectIds(client, { top: 50 });
    expect(ids).toEqual(sandbox.store.all().map((r) => r.id));
    const { faults } = sandbox.stats();
    expect(faults.serverError).toBeGreaterThan(0);
    expect(faults.reset).toBeGreaterThan(0);
    expect(faults.malformed).toBeGreaterThan(0);
    expect(client.stats.retries).toBe(faults.serverError + faults.reset + faults.malformed);
  }, 60_000);

  it('refreshes an expired token mid-run with no duplicate and no gap', async () => {
    const { sandbox, client, source } = await harness({ count: 1000, faults: 'token-expiry(every=4)' });
    const ids = await collectIds(client, { top: 20 });
    expect(ids).toEqual(sandbox.store.all().map((r) => r.id));
    expect(sandbox.stats().faults.tokenExpiry).toBeGreaterThan(5);
    expect(client.stats.tokenRefreshesAfter401).toBe(sandbox.stats().api.unauthorized);
    expect(source.tokens.acquisitions).toBe(1 + client.stats.tokenRefreshesAfter401);
  }, 60_000);

  it('stops with a clear error when the nextLink repeats', async () => {
    const { client } = await harness({ count: 100, faults: 'repeat-nextlink(page=3)' });
    const error = await collectIds(client, { top: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(/repeated an @odata.nextLink at page 3/);
  });

  it('passes a query through unchanged: the documented example 3', async () => {
    const { sandbox, client } = await harness({ count: 5000, seed: 1 });
    const query = parseListQuery({
      $filter:
        "status eq 'Active' and direction eq 'Outgoing' and type eq 'Shared' and team/any(t:t/email eq 'r2d2@contoso.com')",
      $orderby: 'createdDateTime desc',
    });
    const ids = await collectIds(client, query);
    const expected = sandbox.store
      .all()
      .filter(
        (r) =>
          r.status === 'Active' &&
          r.direction === 'Outgoing' &&
          r.type === 'Shared' &&
          (r.team ?? []).some((m) => m.email === 'r2d2@contoso.com'),
      )
      .map((r) => r.id)
      .reverse();
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(new Set(expected));
  });

  it('gets one referral by id, and undefined for an unknown id', async () => {
    const { sandbox, client } = await harness({ count: 10 });
    const first = sandbox.store.all()[0];
    expect(await client.getReferral(first?.id ?? '')).toEqual(first);
    expect(await client.getReferral('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('says to run login when the cache is empty and no bootstrap token is set', async () => {
    const { client } = await harness({ count: 5 }, { PARTNER_CENTER_REFRESH_TOKEN: '' });
    const error = await collectIds(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthRequiredError);
    expect((error as Error).message).toMatch(/referrals-lake login/);
  });

  it('says to run login when the refresh token is dead, and logs no secret on the way', async () => {
    const { sandbox, client, logs } = await harness({ count: 5 });
    // Spend the bootstrap token elsewhere: rotation kills it, as a second instance would.
    const spent = sandbox.env.PARTNER_CENTER_REFRESH_TOKEN;
    await (await import('../helpers/sandbox-http.js')).accessToken(sandbox, spent);
    const error = await collectIds(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthRequiredError);
    expect((error as Error).message).toMatch(/referrals-lake login/);
    const everything = [...logs, errorChainText(error)].join('\n');
    expect(everything).not.toContain(spent);
    expect(everything).not.toContain(sandbox.env.PARTNER_CENTER_CLIENT_SECRET);
  });

  it('never writes a token or secret into logs or errors during a failing run', async () => {
    const { sandbox, client, source, logs } = await harness(
      { count: 200, faults: '5xx(rate=1,burst=100)' },
      {},
      { maxAttempts: 4 },
    );
    const accessToken = await source.tokens.getAccessToken();
    const error = await collectIds(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const everything = [...logs, errorChainText(error)].join('\n');
    expect(everything).toContain('Request-ID');
    for (const secret of [
      accessToken,
      sandbox.env.PARTNER_CENTER_CLIENT_SECRET,
      sandbox.env.PARTNER_CENTER_REFRESH_TOKEN,
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describe('nextLink pinning', () => {
  let decoy: Server;
  let decoyHits: Array<{ authorization?: string }>;
  beforeAll(async () => {
    const tls = await loadOrCreateTls(join(tmpdir(), 'referrals-lake-sandbox-tls'));
    decoyHits = [];
    decoy = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      decoyHits.push({ authorization: req.headers.authorization });
      res.end('{"value":[]}');
    });
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => decoy.close(() => resolve())));

  it('refuses a nextLink to another local server and sends it no Authorization header', async () => {
    const decoyOrigin = `https://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
    // A hostile upstream page: the sandbox's answer with its nextLink pointed at the decoy.
    const hostile = (inner: Transport): Transport => ({
      close: () => inner.close(),
      async get(url, headers, opts) {
        const answer = await inner.get(url, headers, opts);
        const page = JSON.parse(answer.body.toString('utf8'));
        page['@odata.nextLink'] = `${decoyOrigin}/v1.0/engagements/referrals?$skiptoken=abc`;
        return { ...answer, body: Buffer.from(JSON.stringify(page)) };
      },
    });
    const { source } = await harness({ count: 30, seed: 2 }, {}, {}, hostile);
    const error = await collectIds(source.client, { top: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(/another origin/);
    expect(decoyHits.filter((h) => h.authorization !== undefined)).toHaveLength(0);
    expect(decoyHits).toHaveLength(0);
  });
});

/** Every message and cause in an error chain, as one text (what a log of it could show). */
function errorChainText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, JSON.stringify(current, Object.getOwnPropertyNames(current)));
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join('\n');
}

describe('certificate credentials', () => {
  it('signs in with the app certificate instead of a secret', async () => {
    const sandbox = await startSandbox({ count: 20, seed: 3 });
    const config = loadPartnerCenterConfig({
      ...sandbox.env,
      PARTNER_CENTER_CLIENT_SECRET: '',
      PARTNER_CENTER_CLIENT_CERTIFICATE_FILE: sandbox.clientCertificateFile,
      PARTNER_CENTER_TOKEN_CACHE: join(work, 'cert-cache.json'),
    });
    expect(config.clientCertificate?.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    const source = createPartnerCenterSource(config);
    opened.push({ sandbox, source });
    expect(await collectIds(source.client, { top: 10 })).toHaveLength(20);
    expect(sandbox.stats().identity.byGrant.refresh_token).toBeGreaterThanOrEqual(1);
  });

  it('refuses an assertion signed with a certificate the app does not have', async () => {
    const sandbox = await startSandbox({ count: 5, seed: 3, tlsDir: join(work, 'other-tls') });
    const other = await startSandbox({ count: 5, seed: 3, tlsDir: join(work, 'third-tls') });
    await other.close();
    const config = loadPartnerCenterConfig({
      ...sandbox.env,
      PARTNER_CENTER_CLIENT_SECRET: '',
      PARTNER_CENTER_CLIENT_CERTIFICATE_FILE: other.clientCertificateFile,
      PARTNER_CENTER_TOKEN_CACHE: join(work, 'wrong-cert-cache.json'),
    });
    const source = createPartnerCenterSource(config);
    opened.push({ sandbox, source });
    const error = await collectIds(source.client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('PARTNER_CENTER_CLIENT_CERTIFICATE_FILE');
  });

  it('will not take a secret and a certificate at once', () => {
    expect(() =>
      loadPartnerCenterConfig({
        PARTNER_CENTER_TENANT_ID: 't',
        PARTNER_CENTER_CLIENT_ID: 'c',
        PARTNER_CENTER_CLIENT_SECRET: 's3cret-value',
        PARTNER_CENTER_CLIENT_CERTIFICATE_FILE: '/nope.pem',
      }),
    ).toThrow(/not both/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjector, parseFaultSpec } from '../../sandbox/faults.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { accessToken, type ListPage, listAll, listUrl, repairNextLink, send } from '../helpers/sandbox-http.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxOptions): Promise<{ sandbox: Sandbox; token: string }> {
  sandbox = await startSandbox({ seed: 7, ...options });
  return { sandbox, token: (await accessToken(sandbox)).accessToken };
}

function authorized(token: string) {
  return { headers: { Authorization: `Bearer ${token}` } };
}

describe('fault spec', () => {
  it('parses the CLI form into a plan', () => {
    expect(parseFaultSpec('429(rate=0.2,retryAfter=2,max=5),5xx(rate=0.1,burst=3),latency(ms=200,jitter=50)')).toEqual({
      throttle: { rate: 0.2, retryAfter: 2, max: 5 },
      serverError: { rate: 0.1, burst: 3, status: 503 },
      latency: { ms: 200, jitter: 50 },
    });
    expect(parseFaultSpec('mutate(updates=5,creates=1),token-expiry(every=3),repeat-nextlink(page=2)')).toEqual({
      mutate: { updates: 5, creates: 1 },
      tokenExpiry: { every: 3 },
      repeatNextLink: { page: 2 },
    });
  });

  it.each(['teapot', '429(rate=2)', '429(rate=x)', 'latency(ms=-1)', '5xx(rate=0.1,status=418)'])(
    'rejects %s with a message naming it',
    (spec) => {
      expect(() => parseFaultSpec(spec)).toThrow(/fault|429|latency|5xx/);
    },
  );

  it('makes the same decisions for the same seed', () => {
    const plan = parseFaultSpec('429(rate=0.3),5xx(rate=0.1,burst=2),reset(rate=0.1),malformed(rate=0.1)');
    const run = (seed: number) => {
      const faults = new FaultInjector(plan, seed);
      return Array.from({ length: 200 }, (_, i) => faults.decide(i + 1).kind);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    expect(new Set(run(3))).toEqual(new Set(['none', 'throttle', 'serverError', 'reset', 'malformed']));
  });
});

describe('sandbox faults', () => {
  it('429 answers with Retry-After and the throttling body, up to max times', async () => {
    const { sandbox, token } = await start({ count: 20, faults: '429(rate=1,retryAfter=2,max=3)' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await send(sandbox, listUrl(sandbox), authorized(token));
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers['retry-after']).toBe('2');
        expect(res.json()).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 2 seconds.' });
      }
    }
    expect(statuses).toEqual([429, 429, 429, 200, 200]);
  });

  it('5xx comes in bursts of consecutive answers', async () => {
    const { sandbox, token } = await start({ count: 20, faults: '5xx(rate=1,burst=3,status=500,max=3)' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(sandbox, listUrl(sandbox), authorized(token))).status);
    expect(statuses).toEqual([500, 500, 500, 200]);
  });

  it('latency delays every answer by at least the fixed part', async () => {
    const { sandbox, token } = await start({ count: 20, faults: 'latency(ms=150,jitter=50)' });
    const began = performance.now();
    await send(sandbox, listUrl(sandbox), authorized(token));
    const took = performance.now() - began;
    expect(took).toBeGreaterThanOrEqual(150);
  });

  it('reset cuts the connection mid-body', async () => {
    const { sandbox, token } = await start({ count: 50, faults: 'reset(rate=1,max=1)' });
    await expect(send(sandbox, listUrl(sandbox), authorized(token))).rejects.toThrow(
      /aborted|reset|hang up|ECONNRESET/i,
    );
    expect((await send(sandbox, listUrl(sandbox), authorized(token))).status).toBe(200);
  });

  it('malformed sends a 200 whose JSON is cut short', async () => {
    const { sandbox, token } = await start({ count: 50, faults: 'malformed(rate=1,max=1)' });
    const res = await send(sandbox, listUrl(sandbox), authorized(token));
    expect(res.status).toBe(200);
    expect(() => res.json()).toThrow();
  });

  it('repeat-nextlink hands back the current link from the given page on', async () => {
    const { sandbox, token } = await start({ count: 50, faults: 'repeat-nextlink(page=2)' });
    const first = (await send(sandbox, listUrl(sandbox, { $top: '5' }), authorized(token))).json<ListPage>();
    const second = (
      await send(sandbox, repairNextLink(sandbox, first['@odata.nextLink'] ?? ''), authorized(token))
    ).json<ListPage>();
    expect(second['@odata.nextLink']).toBe(first['@odata.nextLink']);
  });

  it('token-expiry makes a valid token fail at every Nth request', async () => {
    const { sandbox, token } = await start({ count: 20, faults: 'token-expiry(every=3)' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(sandbox, listUrl(sandbox), authorized(token))).status);
    expect(statuses).toEqual([200, 200, 401, 401]);
  });

  it('mutation while paging by createdDateTime loses none and repeats none', async () => {
    const { sandbox, token } = await start({ count: 300, faults: 'mutate(updates=5,creates=1)' });
    const before = sandbox.store.all().map((r) => r.id);
    const pages = await listAll(sandbox, token, { $top: '20' });
    const seen = pages.flatMap((p) => p.value.map((r) => r.id));
    expect(sandbox.stats().faults.mutations).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
    // Referrals created during the pass sort after the cursor, so an ascending pass picks them up.
    expect(seen.length).toBeGreaterThan(before.length);
  });

  it('mutation while paging by updatedDateTime loses none; moved items can come twice', async () => {
    const { sandbox, token } = await start({ count: 300, faults: 'mutate(updates=10,creates=0)' });
    const before = sandbox.store.all().map((r) => r.id);
    const pages = await listAll(sandbox, token, { $top: '20', $orderby: 'updatedDateTime asc' });
    const seen = pages.flatMap((p) => p.value.map((r) => r.id));
    for (const id of before) expect(seen).toContain(id);
    const updated = pages.flatMap((p) => p.value.map((r) => canonicalTimestamp(String(r.updatedDateTime)) ?? ''));
    expect([...updated].sort()).toEqual(updated);
  });

  it('the mutate control route changes referrals the way Partner Center would', async () => {
    const { sandbox } = await start({ count: 100 });
    const before = new Map(sandbox.store.all().map((r) => [r.id, r]));
    const res = await send(sandbox, `${sandbox.baseUrl}/_sandbox/mutate`, {
      method: 'POST',
      body: JSON.stringify({ updates: 10, creates: 2 }),
    });
    const { updated, created } = res.json<{ updated: string[]; created: string[] }>();
    expect(created).toHaveLength(2);
    expect(updated.length).toBeGreaterThan(0);
    for (const id of updated) {
      const old = before.get(id);
      const now = sandbox.store.get(id);
      const later =
        (canonicalTimestamp(String(now?.updatedDateTime)) ?? '') >
        (canonicalTimestamp(String(old?.updatedDateTime)) ?? '~');
      expect(later, `updatedDateTime of ${id} moved forward`).toBe(true);
      expect(now?.createdDateTime).toBe(old?.createdDateTime);
    }
    expect(sandbox.store.size).toBe(102);
  });
});

describe('sandbox removals', () => {
  it('takes referrals out of the book: the answer lists them, no page, count or lookup shows them again', async () => {
    const { sandbox, token } = await start({ count: 120 });
    const res = await send(sandbox, `${sandbox.baseUrl}/_sandbox/mutate`, {
      method: 'POST',
      body: JSON.stringify({ updates: 0, removes: 7 }),
    });
    const { removed, updated } = res.json<{ removed: string[]; updated: string[] }>();
    expect(updated).toEqual([]);
    expect(new Set(removed).size).toBe(7);
    expect(sandbox.store.size).toBe(113);
    const pages = await listAll(sandbox, token, { $top: '25' });
    const listed = pages.flatMap((p) => p.value.map((r) => r.id));
    expect(listed).toHaveLength(113);
    for (const id of removed) {
      expect(listed).not.toContain(id);
      expect(sandbox.store.get(id)).toBeUndefined();
    }
  });
});

describe('sandbox visibility', () => {
  it('a Referrals user sees only the referrals whose team they are on', async () => {
    const { sandbox } = await start({ count: 500 });
    const seller = sandbox.identity.issueBootstrapRefreshToken(1);
    const { accessToken: sellerToken } = await accessToken(sandbox, seller);
    const pages = await listAll(sandbox, sellerToken, { $top: '100' });
    const seen = pages.flatMap((p) => p.value);
    const expected = sandbox.store
      .all()
      .filter((r) => (r.team ?? []).some((m) => m.email?.toLowerCase() === 'seller@contoso-partner.example'));
    expect(expected.length).toBeGreaterThan(0);
    expect(seen.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  });

  it('a user without a Referrals role gets 403', async () => {
    const { sandbox } = await start({ count: 10 });
    const { accessToken: noRole } = await accessToken(sandbox, sandbox.identity.issueBootstrapRefreshToken(2));
    expect((await send(sandbox, listUrl(sandbox), authorized(noRole))).status).toBe(403);
  });
});

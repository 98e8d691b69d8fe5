import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import type { FilterExpr, ListQuery } from '../../src/odata/ast.js';
import type { PartnerCenterClient, ReferralPage } from '../../src/source/client.js';
import { createPartnerCenterSource, type PartnerCenterSource } from '../../src/source/create.js';
import { AdaptiveLimit, extractPages } from '../../src/sync/extract.js';
import { planFull } from '../../src/sync/plan.js';

let sandbox: Sandbox;
let source: PartnerCenterSource;
let work: string;

beforeAll(async () => {
  sandbox = await startSandbox({ count: 3000, seed: 8, faults: 'latency(ms=5)' });
  work = await mkdtemp(join(tmpdir(), 'extract-'));
  source = createPartnerCenterSource(
    loadPartnerCenterConfig({ ...sandbox.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') }),
  );
});
afterAll(async () => {
  source.close();
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
});

function bounds() {
  const all = sandbox.store.all();
  return {
    min: canonicalTimestamp(all[0]?.createdDateTime ?? '') ?? '',
    max: canonicalTimestamp(all.at(-1)?.createdDateTime ?? '') ?? '',
  };
}

describe('extractPages', () => {
  it('splits long ranges for idle fetchers and still yields every referral exactly once', async () => {
    const plan = planFull({ pageSize: 50, rangeField: 'createdDateTime', ranges: 2, bounds: bounds() });
    const ids: string[] = [];
    const listings = new Set<number>();
    for await (const page of extractPages(source.client, plan, { concurrency: 6 })) {
      listings.add(page.range);
      for (const r of page.referrals) ids.push((r as { id: string }).id);
    }
    expect(listings.size).toBeGreaterThan(plan.queries.length);
    expect(ids).toHaveLength(3000);
    expect(new Set(ids)).toEqual(new Set(sandbox.store.all().map((r) => r.id)));
  });

  it('runs plain query lists without splitting', async () => {
    const ids: string[] = [];
    for await (const page of extractPages(source.client, [{ top: 100 }], { concurrency: 4 })) {
      for (const r of page.referrals) ids.push((r as { id: string }).id);
    }
    expect(ids).toEqual(sandbox.store.all().map((r) => r.id));
  });
});

/**
 * A Partner Center that answers every page after a fixed time on a virtual clock: time moves to the
 * next answer once everything else has settled, so only the schedule counts, not the machine's CPU.
 * Referrals are created more densely towards now, as the sandbox's are, so equal date ranges differ
 * in size.
 */
class SlowPartnerCenter {
  now = 0;
  requests = 0;
  private timers: Array<{ at: number; wake: () => void }> = [];
  private driving = false;
  readonly book: { id: string; createdDateTime: string }[];

  constructor(
    count: number,
    private readonly latencyMs: number,
  ) {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const end = Date.parse('2026-06-01T00:00:00Z');
    const span = 730 * 86_400_000;
    this.book = Array.from({ length: count }, (_, i) => ({
      id: `r${i}`,
      createdDateTime: canonicalTimestamp(new Date(end - span * next() ** 1.25).toISOString()) ?? '',
    })).sort((a, b) => (a.createdDateTime < b.createdDateTime ? -1 : a.createdDateTime > b.createdDateTime ? 1 : 0));
  }

  get client(): PartnerCenterClient {
    const listing = (query: ListQuery) => ({ pages: () => this.pages(query) });
    return { listReferrals: listing } as unknown as PartnerCenterClient;
  }

  /** Runs `work` with the clock advancing; resolves with what it returned. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.driving = true;
    const tick = () =>
      setImmediate(() => {
        if (!this.driving) return;
        const at = Math.min(...this.timers.map((t) => t.at));
        if (Number.isFinite(at)) {
          this.now = at;
          for (const t of this.timers.filter((t) => t.at === at)) t.wake();
          this.timers = this.timers.filter((t) => t.at !== at);
        }
        tick();
      });
    tick();
    try {
      return await work();
    } finally {
      this.driving = false;
    }
  }

  private async *pages(query: ListQuery): AsyncGenerator<ReferralPage> {
    const { ge, lt } = rangeOf(query.filter);
    let i = ge === undefined ? 0 : this.book.findIndex((r) => r.createdDateTime >= ge);
    if (i < 0) i = this.book.length;
    for (let pageNumber = 1; ; pageNumber++) {
      this.requests++;
      await new Promise<void>((wake) => this.timers.push({ at: this.now + this.latencyMs, wake }));
      const referrals: unknown[] = [];
      while (i < this.book.length && referrals.length < (query.top ?? 100)) {
        const referral = this.book[i] as { createdDateTime: string };
        if (lt !== undefined && referral.createdDateTime >= lt) break;
        referrals.push(referral);
        i++;
      }
      const more = i < this.book.length && (lt === undefined || (this.book[i]?.createdDateTime ?? '') < lt);
      yield {
        referrals,
        pageNumber,
        requestId: undefined,
        odataCount: referrals.length,
        nextLink: more ? 'next' : undefined,
        bytes: 0,
      };
      if (!more) return;
    }
  }
}

function rangeOf(filter: FilterExpr | undefined): { ge?: string; lt?: string } {
  if (!filter) return {};
  if (filter.kind === 'and') return { ...rangeOf(filter.left), ...rangeOf(filter.right) };
  if (filter.kind === 'compare' && filter.value.type === 'datetime') return { [filter.op]: filter.value.value };
  return {};
}

describe('extractPages against a slow Partner Center (virtual clock)', () => {
  it('keeps every fetcher busy to the end: within one round of the requests over the concurrency', async () => {
    const pc = new SlowPartnerCenter(20_000, 200);
    const plan = planFull({
      pageSize: 100,
      rangeField: 'createdDateTime',
      ranges: 16,
      bounds: { min: pc.book[0]?.createdDateTime ?? '', max: pc.book.at(-1)?.createdDateTime ?? '' },
    });
    const ids = await pc.run(async () => {
      const seen: string[] = [];
      for await (const page of extractPages(pc.client, plan, { concurrency: 8 })) {
        for (const r of page.referrals) seen.push((r as { id: string }).id);
      }
      return seen;
    });
    expect(ids).toHaveLength(20_000);
    expect(new Set(ids).size).toBe(20_000);
    const rounds = pc.now / 200;
    // Each listing ends in a partial page, so there are somewhat more requests than the 200 pages.
    expect(pc.requests).toBeLessThan(200 + 24);
    expect(rounds).toBeLessThanOrEqual(Math.ceil(pc.requests / 8) + 1);
  });
});

describe('AdaptiveLimit', () => {
  it('halves on throttling and climbs back one by one', () => {
    const limit = new AdaptiveLimit(8);
    limit.throttled();
    expect(limit.current).toBe(4);
    limit.throttled();
    limit.throttled();
    limit.throttled();
    expect(limit.current).toBe(1);
    for (let i = 0; i < 40; i++) limit.pageDone();
    expect(limit.current).toBe(3);
  });
});

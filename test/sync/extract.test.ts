import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
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

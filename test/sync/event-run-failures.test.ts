/**
 * An event run and the referrals Partner Center keeps failing for (issue 20: one bad referral must
 * not hold up the others' events): those are left out and reported, the rest are published; when
 * every referral fails, the run fails whole and publishes nothing. The client is the real one, on a
 * transport that answers by id.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { UpstreamError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/log.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { PartnerCenterClient } from '../../src/source/client.js';
import { LIST_PATH } from '../../src/source/next-link.js';
import { runSync } from '../../src/sync/run.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../helpers/duckdb.js';
import { STUB_API, STUB_SYNC_OPTIONS } from '../helpers/stub-source.js';

let sandbox: Sandbox;
let duck: DuckDb;
let work: string;

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: 10, seed: 61 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'event-failures-'));
});

afterAll(async () => {
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Answers each referral by id from the sandbox's book, and 500 for every id in `broken`. */
function clientFailingFor(broken: ReadonlySet<string>): PartnerCenterClient {
  const book = new Map(sandbox.store.all().map((r) => [r.id, r]));
  return new PartnerCenterClient({
    apiBaseUrl: STUB_API,
    retry: { maxAttempts: 2, maxElapsedMs: 1000, baseDelayMs: 1, maxDelayMs: 2 },
    transport: {
      async get(url) {
        const id = decodeURIComponent(url.pathname.slice(LIST_PATH.length + 1));
        if (broken.has(id)) return { status: 500, headers: {}, body: Buffer.from('{"error":"internal"}') };
        const referral = book.get(id);
        if (!referral) return { status: 404, headers: {}, body: Buffer.from('{}') };
        return { status: 200, headers: {}, body: Buffer.from(JSON.stringify(referral)) };
      },
      close() {},
    },
    tokens: { getAccessToken: async () => 'not-a-real-token' },
  });
}

describe('an event run with referrals Partner Center keeps failing for', () => {
  it('publishes the others, reports those and leaves them out; fails whole when all fail', async () => {
    const lake = join(work, 'lake');
    const target = new LocalDirectoryTarget({ root: lake });
    const ids = sandbox.store.all().map((r) => r.id);
    const broken = new Set(ids.slice(0, 2));
    const reported: string[] = [];
    const manifest = await runSync(
      {
        client: clientFailingFor(broken),
        target,
        apiBaseUrl: STUB_API,
        logger: silentLogger,
        onReferralFailed: (id, error) => {
          expect(error).toBeInstanceOf(UpstreamError);
          reported.push(id);
        },
      },
      { ...STUB_SYNC_OPTIONS, mode: 'event', referralIds: ids.slice(0, 6) },
    );
    expect(manifest.counts).toMatchObject({ referrals: 4, failed: 2 });
    expect(reported.sort()).toEqual([...broken].sort());
    const inLake = await duck.query(
      `SELECT referral_id FROM ${deltaParquetSource(join(lake, 'referrals_latest'))} ORDER BY referral_id`,
    );
    expect(inLake.map((r) => r.referral_id)).toEqual(ids.slice(2, 6).sort());

    // Every referral failing is Partner Center failing, not some referrals: the run fails, nothing lands.
    const before = await duck.query(
      `SELECT count(*)::INTEGER AS n FROM ${deltaParquetSource(join(lake, 'referrals'))}`,
    );
    await expect(
      runSync(
        { client: clientFailingFor(broken), target, apiBaseUrl: STUB_API, logger: silentLogger },
        { ...STUB_SYNC_OPTIONS, mode: 'event', referralIds: [...broken] },
      ),
    ).rejects.toBeInstanceOf(UpstreamError);
    const after = await duck.query(`SELECT count(*)::INTEGER AS n FROM ${deltaParquetSource(join(lake, 'referrals'))}`);
    expect(after).toEqual(before);
  });
});

/**
 * The write routes (issue 21): accept, decline and update a referral through `serve`'s host (the
 * declared functions, the way the Functions host calls them) against the sandbox's PATCH, with a
 * folder lake for the audit and the idempotency records. What changed is judged in the sandbox's
 * own book; the audit with DuckDB; the next sync's row with the tests' Delta replay and DuckDB.
 */
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHost, startHttpHost } from '../../dev/http-host.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { silentLogger } from '../../src/common/log.js';
import { resetLiveInstance } from '../../src/live/instance.js';
import { resetLiveLake } from '../../src/live/lake.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { runSyncJob } from '../../src/sync/job.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb, sqlString } from '../helpers/duckdb.js';

let sandbox: Sandbox;
let host: HttpHost;
let duck: DuckDb;
let work: string;
let lake: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [sandbox, duck] = await Promise.all([startSandbox({ count: 3000, seed: 83 }), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'writes-'));
  lake = join(work, 'lake');
  process.env = {
    ...savedEnv,
    ...sandbox.env,
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    LAKE_LOCAL_DIR: lake,
    LIVE_WRITES_ENABLED: 'true',
  };
  resetLiveInstance();
  resetLiveLake();
  host = await startHttpHost({ logHandler: () => {} });
});

afterAll(async () => {
  await host?.close();
  resetLiveInstance();
  resetLiveLake();
  process.env = savedEnv;
  duck?.close();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${host.baseUrl}/api/${path}`, {
    method,
    headers: {
      'x-functions-key': options.key ?? host.writeKey,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function book(id: string): Referral {
  const referral = sandbox.store.all().find((r) => r.id === id);
  if (!referral) throw new Error(`no referral ${id} in the sandbox`);
  return referral;
}

/** Incoming leads waiting for an answer (as the sandbox started), a different one at each call. */
let waiting: Referral[] | undefined;
let next = 0;
const lead = () => {
  waiting ??= sandbox.store.all().filter((r) => r.direction === 'Incoming' && r.status === 'New');
  const found = waiting[next++];
  if (!found) throw new Error('the sandbox has no more waiting leads');
  return found;
};

async function auditRecords(): Promise<Record<string, unknown>[]> {
  return duck.query(
    `SELECT * FROM read_json(${sqlString(join(lake, '_audit', 'date=*', '*.ndjson'))}, format = 'newline_delimited') ORDER BY time`,
  ) as Promise<Record<string, unknown>[]>;
}

describe('the write routes', () => {
  it('accept an incoming lead without If-Match (conditional on the eTag read) and decline one with it', async () => {
    const first = lead();
    const accepted = await call('POST', `referrals/${first.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toMatchObject({ referral_id: first.id, status: 'Active', substatus: 'Accepted' });
    expect(book(first.id)).toMatchObject({ status: 'Active', substatus: 'Accepted' });
    expect(accepted.headers.get('etag')).toBe(book(first.id).eTag);

    const second = lead();
    const declined = await call('POST', `referrals/${second.id}/decline`, {
      body: { reason: 'Outside our geography' },
      headers: { 'if-match': second.eTag as string },
    });
    expect(declined.status).toBe(200);
    expect(book(second.id)).toMatchObject({
      status: 'Closed',
      substatus: 'Declined',
      statusReason: 'Outside our geography',
    });
  });

  it('answers a stale If-Match with 412 and changes nothing', async () => {
    const target = lead();
    const before = book(target.id).eTag;
    const stale = await call('POST', `referrals/${target.id}/accept`, { headers: { 'if-match': '"not-the-etag"' } });
    expect(stale.status).toBe(412);
    expect(stale.json).toMatchObject({ target: 'If-Match' });
    expect(book(target.id).eTag).toBe(before);
  });

  it('reads If-Match as RFC 9110 does (a list, quotes optional) and refuses *, which would be blind', async () => {
    const requests = sandbox.stats().api.requests;
    for (const ifMatch of ['*', '"other", *', 'W/"weak"', '', ' , ']) {
      const target = lead();
      const refused = await call('POST', `referrals/${target.id}/accept`, { headers: { 'if-match': ifMatch } });
      expect(refused, JSON.stringify(ifMatch)).toMatchObject({ status: 400, json: { target: 'If-Match' } });
      expect(book(target.id).status).toBe('New');
    }
    expect(sandbox.stats().api.requests).toBe(requests);

    const listed = lead();
    const eTag = listed.eTag as string;
    const inList = await call('POST', `referrals/${listed.id}/accept`, {
      headers: { 'if-match': `"older", ${eTag}` },
    });
    expect(inList.status).toBe(200);
    expect(book(listed.id).status).toBe('Active');

    const unquoted = lead();
    const bare = await call('POST', `referrals/${unquoted.id}/accept`, {
      headers: { 'if-match': (unquoted.eTag as string).replace(/^"|"$/g, '') },
    });
    expect(bare.status).toBe(200);
    expect(book(unquoted.id).status).toBe('Active');
  });

  it('answers a failure of Partner Center as the problem it is (503 + Retry-After when throttled), audited with that status', async () => {
    const target = lead();
    const key = `throttled-${target.id}`;
    sandbox.faults.replace({ throttle: { rate: 1, retryAfter: 0 } });
    process.env.PARTNER_CENTER_MAX_ATTEMPTS = '2';
    resetLiveInstance();
    try {
      const throttled = await call('POST', `referrals/${target.id}/accept`, { headers: { 'idempotency-key': key } });
      expect(throttled).toMatchObject({ status: 503, json: { title: 'Partner Center is throttling' } });
      expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      sandbox.faults.replace({});
      delete process.env.PARTNER_CENTER_MAX_ATTEMPTS;
      resetLiveInstance();
    }
    // Throttled, nothing was changed: the key is free again, and the flow's retry with it goes through.
    expect(book(target.id).status).toBe('New');
    const retried = await call('POST', `referrals/${target.id}/accept`, { headers: { 'idempotency-key': key } });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(book(target.id).status).toBe('Active');
    const records = (await auditRecords()).filter((r) => r.referralId === target.id);
    expect(records.map((r) => [r.outcome, r.status])).toEqual([
      ['failed', 503],
      ['done', 200],
    ]);
  });

  it('refuses an illegal change with 400 naming the field; a bad input reaches Partner Center not at all', async () => {
    const closed = sandbox.store.all().find((r) => r.status === 'Closed') as Referral;
    const writes = sandbox.stats().api.writes;
    const again = await call('POST', `referrals/${closed.id}/accept`);
    expect(again.status).toBe(400);
    const illegal = await call('PATCH', `referrals/${closed.id}`, {
      body: { status: 'Active', substatus: 'Accepted' },
    });
    expect(illegal).toMatchObject({ status: 400, json: { target: 'status' } });
    expect(sandbox.stats().api.writes).toBe(writes);

    const target = lead();
    const requests = sandbox.stats().api.requests;
    for (const [body, field] of [
      [{ reason: 'because' }, 'reason'],
      [{}, 'reason'],
    ] as const) {
      const bad = await call('POST', `referrals/${target.id}/decline`, { body });
      expect(bad).toMatchObject({ status: 400, json: { target: field } });
    }
    for (const [body, field] of [
      [{ color: 'red' }, 'color'],
      [{ currency: 'dollars' }, 'currency'],
      [{ dealValue: -5 }, 'dealValue'],
      [{ closingDateTime: 'soon' }, 'closingDateTime'],
      [{ team: [{ name: 'no email' }] }, 'team'],
    ] as const) {
      const bad = await call('PATCH', `referrals/${target.id}`, { body });
      expect(bad, JSON.stringify(body)).toMatchObject({ status: 400, json: { target: field } });
    }
    expect(sandbox.stats().api.requests).toBe(requests);
  });

  it('updates whitelisted fields', async () => {
    const target = lead();
    const updated = await call('PATCH', `referrals/${target.id}`, {
      body: { dealValue: 125000, currency: 'EUR', notes: 'Sized with the customer' },
    });
    expect(updated.status).toBe(200);
    expect(book(target.id).details).toMatchObject({
      dealValue: 125000,
      currency: 'EUR',
      notes: 'Sized with the customer',
    });
  });

  it('writes once for a repeated Idempotency-Key, and refuses the key for another request', async () => {
    const target = lead();
    const writes = sandbox.stats().api.writes;
    const headers = { 'idempotency-key': `accept-${target.id}` };
    const first = await call('POST', `referrals/${target.id}/accept`, { headers });
    const second = await call('POST', `referrals/${target.id}/accept`, { headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(sandbox.stats().api.writes).toBe(writes + 1);
    const other = await call('POST', `referrals/${lead().id}/accept`, { headers });
    expect(other.status).toBe(422);
  });

  it('creates an outgoing co-sell referral (201), checks its fields first, and creates once per Idempotency-Key', async () => {
    const body = {
      name: 'Fabrikam data platform',
      customerName: 'Fabrikam Ltd',
      customerCountry: 'GB',
      customerContact: { firstName: 'Jo', lastName: 'Bloggs', email: 'jo@fabrikam.example' },
      consentToContact: true,
      consentToShareInfo: true,
      dealValue: 80000,
      currency: 'GBP',
    };
    const requests = sandbox.stats().api.requests;
    for (const [without, field] of [
      ['customerCountry', 'customerCountry'],
      ['consentToContact', 'consentToContact'],
      ['dealValue', 'dealValue'],
    ] as const) {
      const { [without]: _dropped, ...partial } = body;
      expect(await call('POST', 'referrals', { body: partial })).toMatchObject({
        status: 400,
        json: { target: field },
      });
    }
    expect(await call('POST', 'referrals', { body: { ...body, customerCountry: 'Britain' } })).toMatchObject({
      status: 400,
      json: { target: 'customerCountry' },
    });
    expect(await call('POST', 'referrals', { body: { ...body, consentToContact: false } })).toMatchObject({
      status: 400,
      json: { target: 'consentToContact' },
    });
    expect(sandbox.stats().api.requests).toBe(requests);

    const before = sandbox.store.all().length;
    const headers = { 'idempotency-key': 'create-fabrikam-1' };
    const created = await call('POST', 'referrals', { body, headers });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ direction: 'Outgoing', type: 'Shared', customer_name: 'Fabrikam Ltd' });
    const again = await call('POST', 'referrals', { body, headers });
    expect(again).toMatchObject({ status: 201, json: created.json });
    expect(sandbox.store.all().length).toBe(before + 1);
    expect(book(String(created.json.referral_id))).toMatchObject({
      name: 'Fabrikam data platform',
      direction: 'Outgoing',
    });
  });

  it('keeps the read key out of every write route, and the write key out of the read routes', async () => {
    const target = lead();
    for (const [method, path] of [
      ['POST', `referrals/${target.id}/accept`],
      ['POST', `referrals/${target.id}/decline`],
      ['PATCH', `referrals/${target.id}`],
      ['POST', 'referrals'],
    ] as const) {
      expect((await call(method, path, { key: host.functionKey, body: {} })).status).toBe(401);
    }
    expect((await call('GET', `referrals/${target.id}`, { key: host.writeKey })).status).toBe(401);
    expect(book(target.id).status).toBe('New');
  });

  it('answers 403 naming the setting when writes are off', async () => {
    const target = lead();
    process.env.LIVE_WRITES_ENABLED = 'false';
    try {
      const off = await call('POST', `referrals/${target.id}/accept`);
      expect(off).toMatchObject({ status: 403, json: { target: 'LIVE_WRITES_ENABLED' } });
      expect(String(off.json.detail)).toContain('LIVE_WRITES_ENABLED=true');
    } finally {
      process.env.LIVE_WRITES_ENABLED = 'true';
    }
    expect(book(target.id).status).toBe('New');
  });

  it('audits every attempt in _audit/, without a key, and the next sync shows the new status', async () => {
    const records = await auditRecords();
    const outcomes = records.map((r) => r.outcome);
    for (const outcome of ['done', 'stale', 'refused', 'replayed', 'disabled']) expect(outcomes).toContain(outcome);
    const text = JSON.stringify(records);
    expect(text).not.toContain(host.writeKey);
    expect(text).not.toContain(host.functionKey);
    for (const record of records) expect(String(record.caller)).toMatch(/^key:[0-9a-f]{12}$/);
    const done = records.find((r) => r.outcome === 'done' && r.action === 'accept') as Record<string, unknown>;
    expect(done).toMatchObject({ before: { status: 'New' }, after: { status: 'Active', substatus: 'Accepted' } });

    // A record of a key used two days ago, for the sync's housekeeping; the keys of this file stay.
    const keys = join(lake, '_state', 'idempotency');
    const live = await readdir(keys);
    const expired = join(keys, `${'x'.repeat(43)}.json`);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await writeFile(expired, JSON.stringify({ createdAt: twoDaysAgo.getTime(), request: 'x' }));
    await utimes(expired, twoDaysAgo, twoDaysAgo);
    await runSyncJob(process.env, { mode: 'full' }, { logger: silentLogger });
    expect((await readdir(keys)).sort()).toEqual(live.sort());
    const [row] = await duck.query(
      `SELECT status, substatus FROM ${deltaParquetSource(join(lake, 'referrals_latest'))} WHERE referral_id = ${sqlString(String(done.referralId))}`,
    );
    expect(row).toEqual({ status: 'Active', substatus: 'Accepted' });
  });
});

/**
 * The flow trigger `GET /api/triggers/referrals` (issue 20): the polling protocol of Power Automate
 * and Logic Apps (202 + Location + Retry-After, then 200 with the changes), each change once per
 * state, oldest first, the friendly filters, read from the lake the sync and the events keep. The
 * declared function is called with @azure/functions test-mode objects, as the host calls it; what
 * it answers is checked against the sandbox's own book.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { loadHttpFunctions } from '../../src/cli/function-modules.js';
import { silentLogger } from '../../src/common/log.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { Sealer } from '../../src/live/sealed.js';
import { type FeedPosition, readChanges } from '../../src/live/trigger/feed.js';
import { resetTriggerInstance } from '../../src/live/trigger/instance.js';
import { TriggerStateCodec } from '../../src/live/trigger/state.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { SyncMode } from '../../src/sync/plan.js';

const HTTP_FUNCTIONS = await loadHttpFunctions();
const URL_BASE = 'https://fn.example.test/api/triggers/referrals';

let sandbox: Sandbox;
let work: string;
let lake: string;
let env: Record<string, string>;
const savedEnv = { ...process.env };

interface Answer {
  status: number;
  location: string | null;
  retryAfter: string | null;
  body: string;
}

interface Change {
  referral_id: string;
  _source_updated_date_time: string;
  status: string;
  direction: string;
  customer_address_country: string | null;
}

async function poll(url: string): Promise<Answer> {
  const fn = HTTP_FUNCTIONS.find((f) => f.name === 'referralsTrigger');
  if (!fn) throw new Error('no referralsTrigger function');
  const request = new HttpRequest({ method: 'GET', url, headers: {} });
  const context = new InvocationContext({ functionName: fn.name, invocationId: `inv-${Math.random()}` });
  context.info = context.warn = context.error = context.debug = () => {};
  const response = new HttpResponse((await fn.handler(request, context)) as never);
  return {
    status: response.status,
    location: response.headers.get('location'),
    retryAfter: response.headers.get('retry-after'),
    body: await response.text(),
  };
}

function changesOf(answer: Answer): Change[] {
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body) as { value: Change[] }).value;
}

/** A started trigger's Location: the first call answers 202 and where to poll. */
async function start(query = ''): Promise<string> {
  const first = await poll(`${URL_BASE}${query}`);
  expect(first.status).toBe(202);
  expect(first.retryAfter).toBe('60');
  expect(first.location).toMatch(/^https:\/\/fn\.example\.test\/api\/triggers\/referrals\?state=[\w-]+$/);
  return first.location as string;
}

function sync(mode: SyncMode, referralIds?: string[]) {
  return runSyncJob(env, { mode, referralIds }, { logger: silentLogger });
}

function book(): Map<string, Referral> {
  return new Map(sandbox.store.all().map((r) => [r.id, r]));
}

beforeAll(async () => {
  sandbox = await startSandbox({ count: 60, seed: 52 });
  work = await mkdtemp(join(tmpdir(), 'trigger-'));
  lake = join(work, 'lake');
  env = { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') };
  process.env = { ...savedEnv, ...env };
  resetTriggerInstance();
  await sync('full');
});

afterAll(async () => {
  process.env = savedEnv;
  resetTriggerInstance();
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the flow trigger', () => {
  it('starts from now, answers each change once per state, oldest first, and 202 when nothing is new', async () => {
    const started = await start();
    const idle = await poll(started);
    expect(idle).toMatchObject({ status: 202, retryAfter: '60', body: '' });

    const changed = sandbox.mutate(4, 2);
    await sync('incremental');
    const first = await poll(idle.location as string);
    const changes = changesOf(first);
    const now = book();
    expect(changes.map((c) => c.referral_id).sort()).toEqual([...changed.updated, ...changed.created].sort());
    for (const change of changes) {
      expect(Date.parse(change._source_updated_date_time)).toBe(
        Date.parse(now.get(change.referral_id)?.updatedDateTime ?? ''),
      );
    }
    const times = changes.map((c) => Date.parse(c._source_updated_date_time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(first.retryAfter).toBe('60');

    // The next state has nothing new; the same state asked again answers the same changes.
    expect((await poll(first.location as string)).status).toBe(202);
    expect(changesOf(await poll(idle.location as string))).toEqual(changes);

    // An event run's versions come through the same feed.
    const [one] = sandbox.mutate(1).updated;
    await sync('event', [one as string]);
    const after = changesOf(await poll(first.location as string));
    expect(after.map((c) => c.referral_id)).toEqual([one]);
  });

  it('answers only the changes its filters match, as the sandbox book has them', async () => {
    const country = sandbox.store.all()[0]?.customerProfile?.address?.country as string;
    const all = await start();
    const incoming = await start('?direction=Incoming');
    const inCountry = await start(`?country=${encodeURIComponent(country)}&direction=Incoming`);
    const changed = sandbox.mutate(12, 4);
    await sync('incremental');
    const now = book();
    const everything = changesOf(await poll(all));
    const ids = [...changed.updated, ...changed.created];
    expect(everything.map((c) => c.referral_id).sort()).toEqual(ids.sort());
    const expectIncoming = ids.filter((id) => now.get(id)?.direction === 'Incoming').sort();
    const expectCountry = expectIncoming.filter((id) => now.get(id)?.customerProfile?.address?.country === country);
    const incomingAnswer = await poll(incoming);
    const countryAnswer = await poll(inCountry);
    expect(
      incomingAnswer.status === 202
        ? []
        : changesOf(incomingAnswer)
            .map((c) => c.referral_id)
            .sort(),
    ).toEqual(expectIncoming);
    expect(
      countryAnswer.status === 202
        ? []
        : changesOf(countryAnswer)
            .map((c) => c.referral_id)
            .sort(),
    ).toEqual(expectCountry.sort());
    expect(expectIncoming.length).toBeGreaterThan(0);
    expect(expectIncoming.length).toBeLessThan(ids.length);
  });

  it('reads a backlog in pieces that together hold every change exactly once', async () => {
    const target = new LocalDirectoryTarget({ root: lake });
    const from: FeedPosition = { version: 0, file: 0, group: 0, row: 0 };
    const whole = await readChanges(target, from, () => true, { changes: 1e6, scanned: 1e6, commits: 1000 });
    expect(whole.more).toBe(false);
    expect(whole.changes.length).toBeGreaterThan(60);
    const pieces: unknown[] = [];
    let at = from;
    for (let reads = 0; ; reads++) {
      expect(reads).toBeLessThan(200);
      const read = await readChanges(target, at, () => true, { changes: 7, scanned: 11, commits: 2 });
      pieces.push(...read.changes);
      at = read.next;
      if (!read.more) break;
    }
    expect(pieces).toEqual(whole.changes);
    expect(at).toEqual(whole.next);
  });

  it('refuses bad input with a 400 naming it, and a state whose commits are gone with 410', async () => {
    const started = await start('?status=New');
    const bad = async (url: string, target: string) => {
      const answer = await poll(url);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ target });
    };
    await bad(`${URL_BASE}?since=2026-01-01`, 'since');
    await bad(`${URL_BASE}?status=`, 'status');
    await bad(`${URL_BASE}?status=New&status=Active`, 'status');
    await bad(`${started}&status=Active`, 'status');
    const tampered = started.replace(/state=(.)/, (_, c: string) => `state=${c === 'A' ? 'B' : 'A'}`);
    await bad(tampered, 'state');
    // The same state with its own filter repeated is fine.
    expect((await poll(`${started}&status=New`)).status).toBe(202);
  });

  it('answers 410 when the log was cleaned past the state or the table was made anew, naming what to do', async () => {
    const started = await start();
    sandbox.mutate(2);
    await sync('incremental');
    const log = join(lake, 'referral_versions', '_delta_log');
    const position = new TriggerStateCodec(Sealer.secretOf(loadPartnerCenterConfig(env))).open(
      new URL(started).searchParams.get('state') ?? '',
    ).position;
    const before = join(log, `${String(position.version - 1).padStart(20, '0')}.json`);
    const saved = await readFile(before);
    try {
      // Made anew: the commit before the state holds other bytes now.
      await writeFile(before, Buffer.concat([saved, Buffer.from('\n')]));
      const anew = await poll(started);
      expect(anew.status).toBe(410);
      expect(JSON.parse(anew.body).detail).toMatch(/made anew.*save the flow as a new copy/);
      // Cleaned: the commit before the state is gone.
      await rm(before);
      expect((await poll(started)).status).toBe(410);
    } finally {
      await writeFile(before, saved);
    }
    expect((await poll(started)).status).toBe(200);
  });

  it("started before the lake had a table, answers only what changed since, not the first run's history", async () => {
    const emptyLake = join(work, 'later-lake');
    process.env.LAKE_LOCAL_DIR = emptyLake;
    resetTriggerInstance();
    try {
      const started = await start();
      await runSyncJob({ ...env, LAKE_LOCAL_DIR: emptyLake }, { mode: 'full' }, { logger: silentLogger });
      const first = await poll(started);
      expect(first.status).toBe(202);
      const changed = sandbox.mutate(3);
      await runSyncJob({ ...env, LAKE_LOCAL_DIR: emptyLake }, { mode: 'incremental' }, { logger: silentLogger });
      const changes = changesOf(await poll(first.location as string));
      expect(changes.map((c) => c.referral_id).sort()).toEqual([...changed.updated].sort());
    } finally {
      process.env.LAKE_LOCAL_DIR = lake;
      resetTriggerInstance();
    }
  });
});

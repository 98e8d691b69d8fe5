/**
 * One event through the whole pipeline (issue 20), with the host's objects in test mode: a change in
 * the sandbox, its signed delivery into the receiver function (POST /api/partner-center/events), the
 * message on Azurite's queue, the worker's event run, the row in referrals_latest. An altered event is
 * refused with 401 and queues nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { silentLogger } from '../../src/common/log.js';
import { loadEventsConfig } from '../../src/config.js';
import { partnerCenterEventsHandler } from '../../src/events/http.js';
import { createEventQueue, type EventQueue } from '../../src/events/queue.js';
import { EventWorker } from '../../src/events/worker.js';
import { runSyncJob } from '../../src/sync/job.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../helpers/duckdb.js';
import { SandboxEvents } from '../helpers/sandbox-events.js';
import type { Received } from '../helpers/webhook-receiver.js';

let sandbox: Sandbox;
let azurite: Azurite;
let duck: DuckDb;
let events: SandboxEvents;
let work: string;
let env: Record<string, string>;
let queue: EventQueue<unknown>;
const saved = { ...process.env };

beforeAll(async () => {
  [sandbox, azurite, duck] = await Promise.all([
    startSandbox({ count: 60, seed: 44, webhooks: { retryDelaysMs: [5], attemptTimeoutMs: 2000 } }),
    startAzurite(),
    openDuckDb(),
  ]);
  events = await SandboxEvents.start(sandbox);
  work = await mkdtemp(join(tmpdir(), 'event-pipeline-'));
  env = {
    ...sandbox.env,
    // The registration above redeemed the printed bootstrap token (the sandbox rotates them).
    PARTNER_CENTER_REFRESH_TOKEN: sandbox.identity.issueBootstrapRefreshToken(0),
    LAKE_LOCAL_DIR: join(work, 'lake'),
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    EVENTS_QUEUE: azurite.connectionString,
    EVENTS_QUEUE_NAME: 'pipeline-test',
    EVENTS_FLUSH_SECONDS: '1',
  };
  // The function reads the app settings from the process, as under the host.
  Object.assign(process.env, env);
  queue = await createEventQueue(loadEventsConfig(env));
});

afterAll(async () => {
  process.env = saved;
  duck?.close();
  await events?.close();
  await Promise.all([sandbox?.close(), azurite?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

function post(delivery: Received, body = delivery.body, declareLength = true) {
  const headers = Object.fromEntries(
    Object.entries(delivery.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  const request = new HttpRequest({
    url: 'http://localhost/api/partner-center/events',
    method: 'POST',
    headers: declareLength ? { ...headers, 'content-length': String(body.length) } : headers,
    body: { bytes: body },
  });
  return partnerCenterEventsHandler(request, new InvocationContext({ functionName: 'partnerCenterEvents' }));
}

describe('an event through the pipeline', () => {
  it('lands a change in the sandbox in referrals_latest; an altered event queues nothing', async () => {
    await runSyncJob(env, { mode: 'full' }, { logger: silentLogger });
    const [delivery] = await events.updates(1);
    if (!delivery) throw new Error('no delivery');
    const altered = Buffer.from(delivery.body.toString('utf8').replace('referral-updated', 'referral-created'));
    expect((await post(delivery, altered)).status).toBe(401);
    // A body past 64 KiB is refused whether it declares its length or not (chunked).
    expect((await post(delivery, Buffer.alloc(70 * 1024, 0x20))).status).toBe(400);
    expect((await post(delivery, Buffer.alloc(70 * 1024, 0x20), false)).status).toBe(400);
    expect((await queue.counts()).queued).toBe(0);

    expect((await post(delivery)).status).toBe(200);
    const [message] = await queue.receive({ visibilityTimeoutSeconds: 30 });
    if (!message?.ok) throw new Error('no queued event');
    const worker = new EventWorker({
      env,
      queue,
      runEvents: (referralIds, logger) => runSyncJob(env, { mode: 'event', referralIds }, { logger }),
    });
    await worker.handle(message.body, silentLogger);
    await queue.delete(message);

    const id = (message.body as { referralId: string }).referralId;
    const referral = sandbox.store.all().find((r) => r.id === id);
    const [row] = await duck.query(
      `SELECT epoch_ms(_source_updated_date_time) AS at FROM ${deltaParquetSource(join(work, 'lake', 'referrals_latest'))} WHERE referral_id = '${id}'`,
    );
    expect(Number(row?.at)).toBe(Date.parse(referral?.updatedDateTime ?? ''));
  });
});

describe('a lost event', () => {
  it('is healed by the next scheduled run: events make the lake fresh, the sync makes it complete', async () => {
    sandbox.faults.replace(parseFaultSpec('webhook-drop(rate=1)'));
    const dropped = sandbox.stats().faults.webhookDropped;
    const [changed] = sandbox.mutate(1).updated;
    await sleep(200);
    expect(sandbox.stats().faults.webhookDropped).toBe(dropped + 1);
    expect((await queue.counts()).queued).toBe(0);
    sandbox.faults.replace({});
    await runSyncJob(env, { mode: 'incremental' }, { logger: silentLogger });
    const referral = sandbox.store.all().find((r) => r.id === changed);
    const [row] = await duck.query(
      `SELECT epoch_ms(_source_updated_date_time) AS at FROM ${deltaParquetSource(join(work, 'lake', 'referrals_latest'))} WHERE referral_id = '${changed}'`,
    );
    expect(Number(row?.at)).toBe(Date.parse(referral?.updatedDateTime ?? ''));
  });
});

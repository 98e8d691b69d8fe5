/**
 * The queue worker (issue 20) against the sandbox, a folder lake and Azurite's queue: events the
 * receiver queued become a few event runs that land the changes in referrals_latest; a message that
 * is not an event goes to the poison queue at once, with its reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { silentLogger } from '../../src/common/log.js';
import { loadEventsConfig } from '../../src/config.js';
import { createEventQueue, type EventQueue } from '../../src/events/queue.js';
import { EventWorker } from '../../src/events/worker.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../helpers/duckdb.js';

let sandbox: Sandbox;
let azurite: Azurite;
let duck: DuckDb;
let work: string;
let env: Record<string, string>;
let queue: EventQueue<unknown>;

beforeAll(async () => {
  [sandbox, azurite, duck] = await Promise.all([startSandbox({ count: 150, seed: 43 }), startAzurite(), openDuckDb()]);
  work = await mkdtemp(join(tmpdir(), 'event-worker-'));
  env = {
    ...sandbox.env,
    LAKE_LOCAL_DIR: join(work, 'lake'),
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    EVENTS_QUEUE: azurite.connectionString,
    EVENTS_QUEUE_NAME: 'worker-test',
    EVENTS_FLUSH_SECONDS: '1',
  };
  queue = await createEventQueue(loadEventsConfig(env));
});

afterAll(async () => {
  duck?.close();
  await Promise.all([sandbox?.close(), azurite?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('EventWorker', () => {
  it('turns a burst of events into a few event runs that land every change in latest', async () => {
    await runSyncJob(env, { mode: 'full' }, { logger: silentLogger });
    const runs: RunManifest[] = [];
    const worker = new EventWorker({
      env,
      queue,
      runEvents: async (referralIds, logger) => {
        const manifest = await runSyncJob(env, { mode: 'event', referralIds }, { logger });
        runs.push(manifest);
        return manifest;
      },
    });
    const changed = sandbox.mutate(30, 10, 0);
    const named = [...changed.updated, ...changed.created];
    const events = [...named, ...named.slice(0, 10)].map((referralId) => ({
      eventName: 'referral-updated',
      referralId,
    }));
    await Promise.all(events.map((event) => worker.handle(event, silentLogger)));
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(3);
    expect(runs.every((run) => run.mode === 'event')).toBe(true);
    const rows = await duck.query(
      `SELECT referral_id, epoch_ms(_source_updated_date_time) AS at FROM ${deltaParquetSource(join(work, 'lake', 'referrals_latest'))}`,
    );
    const inLake = new Map(rows.map((r) => [String(r.referral_id), Number(r.at)]));
    for (const referral of sandbox.store.all())
      expect(inLake.get(referral.id), referral.id).toBe(Date.parse(referral.updatedDateTime));
  });

  it("fails only the messages of the referrals a run left out, with their run's reason", async () => {
    const worker = new EventWorker({
      env,
      queue,
      runEvents: async (referralIds, _logger, onFailed) => {
        for (const id of referralIds)
          if (id.startsWith('bad')) onFailed(id, new Error(`Partner Center failed for ${id}`));
        return { runId: 'stand-in' } as RunManifest;
      },
    });
    const settled = await Promise.allSettled(
      ['good-1', 'bad-1', 'good-2'].map((referralId) =>
        worker.handle({ eventName: 'referral-updated', referralId }, silentLogger),
      ),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('Partner Center failed for bad-1'));
  });

  it('parks a message that is not an event in the poison queue at once, with why', async () => {
    const worker = new EventWorker({ env, queue, runEvents: () => Promise.reject(new Error('never called')) });
    await worker.handle({ something: 'else' }, silentLogger);
    const [parked] = await (
      await createEventQueue(loadEventsConfig({ ...env, EVENTS_QUEUE_NAME: 'worker-test-poison' }))
    ).receive({ visibilityTimeoutSeconds: 5 });
    expect(parked).toMatchObject({ ok: true, body: { reason: 'not a referral event this app queued: no eventName' } });
  });
});

/**
 * Issue 20's checks on the hosted path, as `referrals-lake serve` runs it (test/helpers/hosted-events.ts):
 * sandbox changes, signed deliveries to the receiver function, Azurite's queue, the worker polled by
 * dev/queue-host.ts with host.json's settings, referrals_latest and referral_versions read back with
 * the tests' Delta replay and DuckDB.
 * - 50 changes land in referrals_latest within 60 s;
 * - duplicated and reordered deliveries (sandbox faults) never regress a row nor record a version twice;
 * - an event delivered again later is harmless; one older than the age window is acknowledged, not queued.
 *
 * EVENTS_FLUSH_SECONDS is 1 here: each check waits for a few event runs, and at the default (30) each
 * wait would be 30 s of an idle timer. The 60 s bound is checked at the default too: the flush wait is
 * the only part of the latency that depends on the setting, and at the default the batcher would
 * start the second run at most (30 − 1) s later than it did here: that sum must stay under 60 s too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../sandbox/faults.js';
import type { DeliveryRecord } from '../../sandbox/webhook-delivery.js';
import { SETTINGS } from '../../src/config.js';
import { type HostedEvents, notAnswered200, startHostedEvents, until } from '../helpers/hosted-events.js';
import { type Received, Receiver } from '../helpers/webhook-receiver.js';

const FLUSH_SECONDS = 1;
/**
 * How long after its original a duplicated event is sent again. The original reaches an event run
 * within about 0.5 s here, but a loaded machine can add a queue poll (2 s), a flush interval and a
 * run in progress before it: 5 s keeps the copy out of its original's run even then.
 */
const LATE_MS = 5_000;
const DEFAULT_FLUSH_SECONDS = Number(SETTINGS.EVENTS_FLUSH_SECONDS.default);

let app: HostedEvents;
/** The book in createdDateTime order: each test changes referrals of its own. */
let ids: string[];

beforeAll(async () => {
  app = await startHostedEvents({ seed: 2020, count: 300, flushSeconds: FLUSH_SECONDS });
  ids = app.sandbox.store.all().map((r) => r.id);
}, 60_000);

afterAll(async () => {
  await app?.close();
});

/** The changed-at instant an event names, epoch ms. */
const changedAt = (d: DeliveryRecord) =>
  Date.parse((JSON.parse(d.body) as { ResourceChangeUtcDate: string }).ResourceChangeUtcDate);

describe('the hosted pipeline', () => {
  it('lands 50 changes in referrals_latest within 60 s of the first', async () => {
    const changed = ids.slice(0, 50);
    const queuedBefore = app.eventsQueued();
    const firstEvent = app.sandbox.webhookDeliveries.events().length;
    const settledBefore = app.sandbox.webhookDeliveries.settledCount;

    const started = Date.now();
    const landed = await app.landed(app.update(changed), 60_000);
    const elapsedMs = landed - started;

    // They came the whole way: 50 signed deliveries, each answered 200 once queued, and the queue emptied.
    await app.settled(settledBefore, 50);
    expect(notAnswered200(app.deliveriesSince(firstEvent))).toEqual([]);
    expect(app.eventsQueued() - queuedBefore).toBe(50);
    await app.drained();
    console.log(`50 changes: all in referrals_latest ${(elapsedMs / 1000).toFixed(1)} s after the first`);
    expect(elapsedMs).toBeLessThan(60_000);
    expect(elapsedMs + (DEFAULT_FLUSH_SECONDS - FLUSH_SECONDS) * 1000).toBeLessThan(60_000);
  }, 70_000);

  it('never regresses a row under duplicated and reordered deliveries, and records no version twice', async () => {
    const changed = ids.slice(60, 63);
    const firstEvent = app.sandbox.webhookDeliveries.events().length;
    const settledBefore = app.sandbox.webhookDeliveries.settledCount;
    const firstLine = app.lines.length;
    // Every event delivered twice, the copy 5 s after its original (as Partner Center retries a
    // delivery whose answer it lost); events held until 12 wait (or 0.5 s), then sent newest first.
    app.sandbox.faults.replace(
      parseFaultSpec(`webhook-duplicate(every=1,late=${LATE_MS}),webhook-reorder(hold=12,ms=500)`),
    );
    let newest = new Map<string, number>();
    try {
      // Each referral updated twice at once (the pair sent newest first), and again once those
      // changes are in the lake. The originals of a pair land in one event run (the batcher gathers
      // them); their copies come 5 s later, and the last pair's then reach a lake that has the
      // referrals' current version already.
      app.update(changed);
      await app.landed(app.update(changed), 15_000);
      app.update(changed);
      newest = app.update(changed);
      await app.settled(settledBefore, 2 * 2 * 2 * changed.length);
    } finally {
      app.sandbox.faults.replace({});
    }

    // The premise: each event arrived twice, an older event of a referral after a newer one, and
    // event runs met versions the lake had recorded already.
    const sent = app.deliveriesSince(firstEvent);
    expect(sent).toHaveLength(24);
    expect(notAnswered200(sent)).toEqual([]);
    expect(sent.filter((d) => d.duplicateOf !== undefined)).toHaveLength(12);
    const overtaken = sent.some((late) =>
      sent.some(
        (early) =>
          early.resourceUri === late.resourceUri &&
          (early.sentOrder ?? 0) < (late.sentOrder ?? 0) &&
          changedAt(early) > changedAt(late),
      ),
    );
    expect(overtaken, 'an older event sent after a newer one of the same referral').toBe(true);
    await app.drained();
    const logged = app.lines.slice(firstLine);
    const reread = logged.filter(
      (l) =>
        l.message === 'the events named nothing new' ||
        (l.message === 'sync finished' && Number(l.referrals) > Number(l.changed)),
    );
    expect(reread.length, 'event runs that met a version the lake had').toBeGreaterThan(0);

    const latest = await app.latest();
    expect(new Map(changed.map((id) => [id, latest.get(id)]))).toEqual(newest);
    const keys = await app.versionKeys();
    expect(keys.length - new Set(keys).size, 'versions recorded twice').toBe(0);
    for (const [id, at] of newest) expect(keys).toContain(`${id}@${at}`);
  }, 45_000);

  describe('an event delivered again', () => {
    let captured: Received;
    let id: string;

    /** Posts a captured delivery to the hosted receiver: the same bytes, the same signature headers. */
    async function redeliver(delivery: Received): Promise<{ status: number; outcome: unknown }> {
      const hopByHop = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);
      const headers = Object.entries(delivery.headers).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && !hopByHop.has(entry[0]),
      );
      const response = await fetch(app.receiverUrl, { method: 'POST', headers, body: delivery.body });
      return { status: response.status, outcome: ((await response.json()) as { outcome?: unknown }).outcome };
    }

    beforeAll(async () => {
      // One genuine delivery captured raw, then the registration back on the hosted receiver.
      id = ids[70] as string;
      const receiver = await Receiver.start();
      try {
        app.register(receiver.url);
        const settledBefore = app.sandbox.webhookDeliveries.settledCount;
        app.update([id]);
        await app.settled(settledBefore, 1);
        [captured] = receiver.received as [Received];
      } finally {
        app.register();
        await receiver.close();
      }
    });

    it('later is harmless: queued again, but the lake neither regresses nor records the version twice', async () => {
      const version = Date.parse(app.sandbox.store.get(id)?.updatedDateTime ?? '');
      expect(await redeliver(captured)).toEqual({ status: 200, outcome: 'queued' });
      await app.landed(new Map([[id, version]]), 15_000);
      await app.drained();
      const commits = app.latestCommits();
      const keys = (await app.versionKeys()).sort();
      const runs = app.eventRunsStarted();
      const nothingNew = app.lines.filter((l) => l.message === 'the events named nothing new').length;

      // The same signed request again, once its change is in the lake: an event run takes it, finds nothing new.
      expect(await redeliver(captured)).toEqual({ status: 200, outcome: 'queued' });
      await until('an event run for the replay', () => (app.eventRunsStarted() > runs ? true : undefined), 15_000);
      await app.drained();
      expect(app.lines.filter((l) => l.message === 'the events named nothing new').length).toBe(nothingNew + 1);
      expect(app.latestCommits()).toBe(commits);
      expect((await app.versionKeys()).sort()).toEqual(keys);
      expect((await app.latest()).get(id)).toBe(version);

      // After a newer change, the old event again: the row stays at the newer version, recorded once.
      const settledBefore = app.sandbox.webhookDeliveries.settledCount;
      const newer = app.update([id]);
      expect(await redeliver(captured)).toEqual({ status: 200, outcome: 'queued' });
      await app.settled(settledBefore, 1);
      await app.landed(newer, 15_000);
      await app.drained();
      expect((await app.latest()).get(id)).toBe(newer.get(id));
      expect((await app.versionKeys()).sort()).toEqual([...keys, `${id}@${newer.get(id)}`].sort());
    }, 60_000);

    it('past PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES is acknowledged with 200 and not queued', async () => {
      const referral = app.sandbox.store.get(ids[80] as string);
      if (!referral) throw new Error('no referral');
      const windowMs = Number(SETTINGS.PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES.default) * 60_000;
      const firstEvent = app.sandbox.webhookDeliveries.events().length;
      const settledBefore = app.sandbox.webhookDeliveries.settledCount;
      const queuedBefore = app.eventsQueued();
      const stale = app.lines.filter((l) => l.reason === 'stale').length;
      // A genuine, signed event whose change is older than the window: a delivery retried too late.
      app.sandbox.webhooks.referralUpdated({
        ...referral,
        updatedDateTime: new Date(Date.now() - windowMs - 3_600_000).toISOString(),
      });
      await app.settled(settledBefore, 1);
      expect(notAnswered200(app.deliveriesSince(firstEvent))).toEqual([]);
      expect(app.lines.filter((l) => l.reason === 'stale' && l.outcome === 'acknowledged').length).toBe(stale + 1);
      expect(app.eventsQueued()).toBe(queuedBefore);
      expect((await app.queue.counts()).queued).toBe(0);
    });
  });
});

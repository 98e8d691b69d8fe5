/**
 * Issue 20's check "1,000 events in 10 s make at most 10 runs", through the hosted path: the sandbox
 * (its Mutator, as /_sandbox/mutate) makes 100 changes every 0.9 s, ten times, and signs and delivers
 * each to the receiver function (dev/http-host.ts), which queues it on Azurite; the worker, polled by
 * dev/queue-host.ts with host.json's batch settings, applies them in event runs. Every change must
 * end in referrals_latest.
 *
 * EVENTS_FLUSH_SECONDS is 4, not the default 30. At 30 the bound holds trivially and slowly: the
 * host runs at most batchSize + newBatchThreshold (256) invocations at once, so a run takes at most
 * 256 events and 1,000 need a run every 30 s for two minutes. At 4 the batcher itself must keep the
 * count down while events keep coming: one run per event would make hundreds, and runs back to back
 * (EVENTS_FLUSH_SECONDS 1, each run longer than a second) make 9 or 10 on a 2-core machine. At 4 it
 * makes 5 to 7, and the interval alone would allow 10 only if the last run started 36 s after the
 * first (the slowest seen, on a 2-core machine loaded by other work, was 7 runs over 37 s).
 *
 * A run is counted when the worker's event run logs `sync started`, whatever its end; the lake's own
 * record (run manifests, commits of referrals_latest) must agree with that count. The runs' start
 * times must also be an interval apart: on a slow machine runs that ignored the interval could still
 * stay under 10 (each takes the events that came during the one before), which the count alone
 * would not show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunManifest } from '../../src/sync/manifest.js';
import { type HostedEvents, notAnswered200, startHostedEvents } from '../helpers/hosted-events.js';

const FLUSH_SECONDS = 4;
const WAVES = 10;
const PER_WAVE = 100;
const WAVE_MS = 900;

let app: HostedEvents;

beforeAll(async () => {
  app = await startHostedEvents({ seed: 2010, count: 300, flushSeconds: FLUSH_SECONDS });
}, 60_000);

afterAll(async () => {
  await app?.close();
});

describe('a burst of events through the hosted receiver, queue and worker', () => {
  it('makes at most 10 event runs of 1,000 events arriving over 10 s, and every change lands', async () => {
    const { sandbox } = app;
    const runsBefore = app.eventRunsStarted();
    const firstLine = app.lines.length;
    const queuedBefore = app.eventsQueued();
    const commitsBefore = app.latestCommits();
    const manifestsBefore = new Set((await app.manifests()).map((m) => m.runId));
    const settledBefore = sandbox.webhookDeliveries.settledCount;
    const firstEvent = sandbox.webhookDeliveries.events().length;

    const changed = new Set<string>();
    const started = Date.now();
    for (let wave = 0; wave < WAVES; wave++) {
      const due = started + wave * WAVE_MS - Date.now();
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      for (const id of sandbox.mutate(PER_WAVE).updated) changed.add(id);
    }
    await app.settled(settledBefore, WAVES * PER_WAVE, 30_000);

    // The premise: 1,000 events, each answered 200 by the receiver on its first attempt within 10 s.
    const deliveries = app.deliveriesSince(firstEvent);
    expect(deliveries).toHaveLength(WAVES * PER_WAVE);
    expect(notAnswered200(deliveries)).toEqual([]);
    const attempted = deliveries.map((d) => Date.parse(d.attempts[0]?.at ?? ''));
    expect(Math.max(...attempted) - Math.min(...attempted)).toBeLessThanOrEqual(10_000);
    expect(app.eventsQueued() - queuedBefore).toBe(WAVES * PER_WAVE);

    const expected = new Map([...changed].map((id) => [id, Date.parse(sandbox.store.get(id)?.updatedDateTime ?? '')]));
    const landed = await app.landed(expected, 45_000);
    await app.drained();
    const latest = await app.latest();
    for (const [id, at] of expected) expect(latest.get(id), id).toBe(at);

    const runs = app.eventRunsStarted() - runsBefore;
    const published = (await app.manifests()).filter((m) => !manifestsBefore.has(m.runId));
    // Every run that started has ended with its summary, which says when it started.
    const starts = app.lines
      .slice(firstLine)
      .filter((l) => l.message === 'event run summary')
      .map((l) => Date.parse((l.summary as RunManifest).startedAt))
      .sort((a, b) => a - b);
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] ?? 0));
    console.log(
      `1,000 events, ${changed.size} referrals: ${runs} event runs (${published.length} published), ` +
        `starts ${gaps.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s apart; ` +
        `all landed ${((landed - started) / 1000).toFixed(1)} s after the first change`,
    );
    expect(runs).toBeLessThanOrEqual(10);
    expect(published.every((m) => m.mode === 'event')).toBe(true);
    expect(app.latestCommits() - commitsBefore).toBe(published.length);
    expect(published.length).toBeGreaterThan(0);
    expect(published.length).toBeLessThanOrEqual(runs);
    expect(starts).toHaveLength(runs);
    // At most one run per EVENTS_FLUSH_SECONDS: each started an interval after the one before, less
    // the moment a run takes to stamp its start (tens of ms, 0.2 s on a loaded machine; 1 s allowed).
    // Runs that ignored the interval start as soon as the one before ends, about a second apart.
    expect(Math.min(...gaps)).toBeGreaterThan(FLUSH_SECONDS * 1000 - 1000);

    // No version recorded twice, though many referrals were named by several events.
    const keys = await app.versionKeys();
    expect(new Set(keys).size).toBe(keys.length);
  }, 75_000);
});

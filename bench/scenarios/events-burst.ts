/**
 * A burst of changes (a thousand referrals at once) into the lake at the default flush, timed from
 * outside as events-to-lake times one change: the changes made through `/_sandbox/mutate`, the lake
 * read by another reader (bench/latest-watch.ts) polling referrals_latest in serve's Azurite. It
 * documents how the worker's batcher cuts a burst into event runs (before its short gather, a
 * backlog alternated runs of 1 and of hundreds).
 */

import {
  changeDates,
  EVENTS_BOOK,
  type EventsStage,
  eventRuns,
  startEventsStage,
  watchLatest,
  withTimeout,
} from '../events-stage.js';
import type { Scenario } from '../run.js';
import { quantile, round2 } from '../run-workers.js';

/** Distinct referrals the burst changes. */
const CHANGES = { quick: 200, full: 1000 } as const;
/** Updates asked of one `/_sandbox/mutate` call; the calls follow each other without a pause. */
const BATCH = 50;
const WATCH_INTERVAL_MS = 250;
/** How long after the last change every row must have landed. */
const LAND_TIMEOUT_MS = 300_000;

export const eventsBurstScenario: Scenario = {
  name: 'events-burst',
  title: 'Events: a burst of changes into the lake',
  description:
    'The stage of the events-to-lake scenario (serve as a child process starting its own Azurite, the sandbox as ' +
    `another, a full sync of the book into the lake first: ${EVENTS_BOOK.full} referrals, a quick run ` +
    `${EVENTS_BOOK.quick}; the webhook registered straight to serve's receiver), at the default ` +
    '`EVENTS_FLUSH_SECONDS` (30 s). The bench changes ' +
    `${CHANGES.full} distinct referrals (a quick run: ${CHANGES.quick}) as fast as the sandbox takes them: ` +
    `\`POST /_sandbox/mutate\` calls of up to ${BATCH} updates each, back to back, until that many distinct ` +
    'referrals have changed (a referral the sandbox picks twice counts once and is awaited at its newer ' +
    'version). The same outside reader as events-to-lake (the table’s `_delta_log/` listed in Azurite every ' +
    `${WATCH_INTERVAL_MS} ms, new commits read with the tests’ Delta replay and DuckDB, none of the writer’s lake ` +
    'code) says when each referral’s row first shows its `ResourceChangeUtcDate` or later. ' +
    '`events_burst_all_seconds` runs from the answer of the first mutate call to the listing that showed the last ' +
    'of them; `events_burst_p50_seconds` and `events_burst_p95_seconds` are per referral, each from the answer of ' +
    'the call that made the version awaited. `events_burst_mutate_seconds` is how long the burst itself took ' +
    '(first answer to last). `events_burst_runs` counts the versions of referrals_latest the pass made (one per ' +
    'event run); `events_burst_largest_run` and `events_burst_smallest_run` are the event runs’ sizes (referrals ' +
    "fetched, from their manifests in serve's log, the runs finished when the last row landed), " +
    '`events_burst_run_p50_seconds` the median run’s own duration. No issue sets a target: this documents the ' +
    'burst behaviour of the batcher, one run at most every 30 s, a lone event after a gather of at most 1 s. ' +
    'Before that gather a backlog alternated runs of 1 and of hundreds: the first event the queue host handed ' +
    'over started a run alone and the rest waited a whole flush interval behind it.',
  async run(size) {
    const stage = await startEventsStage({ referrals: EVENTS_BOOK[size] });
    try {
      return await burst(stage, CHANGES[size]);
    } finally {
      await stage.close();
    }
  },
};

async function burst(stage: EventsStage, changes: number): Promise<Record<string, number>> {
  const watch = await watchLatest(stage, WATCH_INTERVAL_MS);
  try {
    const seeded = watch.currentVersion;
    /** Referral → when the mutate call that made its newest version answered (performance.now()). */
    const answered = new Map<string, number>();
    let first: number | undefined;
    let last = 0;
    while (answered.size < changes) {
      const result = await stage.sandbox.control<{ updated: string[] }>('/_sandbox/mutate', 'POST', {
        updates: Math.min(BATCH, changes - answered.size),
      });
      last = performance.now();
      first ??= last;
      if (result.updated.length === 0) throw new Error('the sandbox changed nothing');
      for (const id of result.updated) answered.set(id, last);
    }
    const begun = first ?? last;
    const dates = await changeDates(stage.sandbox, [...answered.keys()]);
    const ids = [...dates.keys()];
    const seenAt = await withTimeout(
      Promise.all(ids.map((id) => watch.landed(id, dates.get(id) as number))),
      LAND_TIMEOUT_MS,
      () => stage.serve.tail(),
    );
    const seconds = ids.map((id, i) => ((seenAt[i] as number) - (answered.get(id) as number)) / 1000);
    const versions = watch.currentVersion - seeded;
    const runs = await eventRuns(stage.serve, versions);
    const sizes = runs.map((run) => run.counts.referrals);
    const durations = runs.map((run) => run.durationSeconds);
    process.stderr.write(
      `bench: events-burst: ${runs.length} event runs, sizes ${sizes.join(', ')}; seconds ${durations.join(', ')}\n`,
    );
    return {
      events_burst_changes: seconds.length,
      events_burst_mutate_seconds: round2((last - begun) / 1000),
      events_burst_all_seconds: round2((Math.max(...seenAt) - begun) / 1000),
      events_burst_p50_seconds: round2(quantile(seconds, 0.5)),
      events_burst_p95_seconds: round2(quantile(seconds, 0.95)),
      events_burst_runs: versions,
      events_burst_largest_run: Math.max(...sizes),
      events_burst_smallest_run: Math.min(...sizes),
      events_burst_run_p50_seconds: round2(quantile(durations, 0.5)),
    };
  } finally {
    await watch.stop();
  }
}

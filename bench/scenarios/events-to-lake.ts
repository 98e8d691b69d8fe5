/**
 * From a change in the sandbox to its row in the lake (issue 20), timed from outside: the change
 * made through `/_sandbox/mutate`, the lake read by another reader (bench/latest-watch.ts) polling
 * referrals_latest in the Azurite that `referrals-lake serve` started.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createRandom } from '../../sandbox/random.js';
import {
  changeDates,
  EVENTS_BOOK,
  type EventsStage,
  eventRuns,
  startEventsStage,
  watchLatest,
  withTimeout,
} from '../events-stage.js';
import type { LatestWatch } from '../latest-watch.js';
import type { Scenario } from '../run.js';
import { quantile, round2 } from '../run-workers.js';

const CHANGES = { quick: 10, full: 50 } as const;
/** Mean gap between changes (exponential gaps: a Poisson stream), seconds. */
const MEAN_GAP_SECONDS = { quick: 3, full: 6 } as const;
const WATCH_INTERVAL_MS = 250;
/** How long after the last change every row must have landed. */
const LAND_TIMEOUT_MS = 180_000;
/** A second pass with a short flush interval, labelled `_flush5`: what the pipeline costs apart from the wait. */
const SHORT_FLUSH_SECONDS = 5;

interface Pass {
  readonly latencies: number[];
  readonly gaps: number[];
  readonly runs: number;
  /** The event runs' own durations (their manifests' durationSeconds, from serve's log). */
  readonly runSeconds: number[];
}

export const eventsToLakeScenario: Scenario = {
  name: 'events-to-lake',
  title: 'Events: from a change in the sandbox to its row in the lake',
  description:
    'The stage of the receiver scenario (serve as a child process starting its own Azurite, the sandbox as another, ' +
    `a full sync of the sandbox's book into the lake first: ${EVENTS_BOOK.full} referrals, a quick run ` +
    `${EVENTS_BOOK.quick}), with the webhook registered straight to serve's receiver. The bench makes ` +
    `${CHANGES.full} changes (a quick run: ${CHANGES.quick}), one update each through \`POST /_sandbox/mutate\`, ` +
    `spaced by exponential gaps from a fixed seed (a Poisson stream, mean ${MEAN_GAP_SECONDS.full} s: a busy tenant, ` +
    `some 600 changes an hour; a quick run: mean ${MEAN_GAP_SECONDS.quick} s). For each, the clock starts when the ` +
    "mutate call answers, and stops when a reader outside serve first sees the referral's new version in " +
    `referrals_latest: the bench lists the table's \`_delta_log/\` in Azurite every ${WATCH_INTERVAL_MS} ms with the ` +
    'Blob SDK, brings each new commit and the files it names to a local folder, and reads them with the tests’ Delta ' +
    'replay and DuckDB (none of the writer’s lake code); the row counts when its `_source_updated_date_time` is the ' +
    'change’s `ResourceChangeUtcDate` or later. So the figure holds the whole way: delivery, receiver, queue, the ' +
    'queue host’s poll (at most 2 s), the flush wait, the event run (fetch by id, run tables, versions, latest tables ' +
    'of the whole book, the publish) and up to one listing interval. `EVENTS_FLUSH_SECONDS` is the default, 30 s: ' +
    'a lone event runs at once, later ones wait for 30 s after the previous run began, so the flush bounds these ' +
    `figures. Target: \`events_lake_p95_seconds\` ≤ 60 (a change in the lake within a minute). The \`_flush${SHORT_FLUSH_SECONDS}\` ` +
    `figures (full run only) repeat the pass on a fresh stage with \`EVENTS_FLUSH_SECONDS=${SHORT_FLUSH_SECONDS}\`. ` +
    '`events_lake_runs` counts the versions of referrals_latest the pass made (one per event run), ' +
    "`events_lake_run_p50_seconds` is the median event run's own duration (its manifest's, from serve's log).",
  async run(size) {
    const figures = passFigures('', await runPass(size));
    if (size === 'quick') return figures;
    return { ...figures, ...passFigures(`_flush${SHORT_FLUSH_SECONDS}`, await runPass(size, SHORT_FLUSH_SECONDS)) };
  },
};

function passFigures(suffix: string, pass: Pass): Record<string, number> {
  const seconds = pass.latencies.map((ms) => ms / 1000);
  return {
    [`events_lake_p50_seconds${suffix}`]: round2(quantile(seconds, 0.5)),
    [`events_lake_p95_seconds${suffix}`]: round2(quantile(seconds, 0.95)),
    [`events_lake_max_seconds${suffix}`]: round2(Math.max(...seconds)),
    [`events_lake_min_seconds${suffix}`]: round2(Math.min(...seconds)),
    [`events_lake_changes${suffix}`]: seconds.length,
    [`events_lake_mean_gap_seconds${suffix}`]: round2(pass.gaps.reduce((a, b) => a + b, 0) / pass.gaps.length / 1000),
    [`events_lake_runs${suffix}`]: pass.runs,
    [`events_lake_run_p50_seconds${suffix}`]: round2(quantile(pass.runSeconds, 0.5)),
  };
}

async function runPass(size: 'quick' | 'full', flushSeconds?: number): Promise<Pass> {
  const stage = await startEventsStage({ referrals: EVENTS_BOOK[size], flushSeconds });
  let watch: LatestWatch | undefined;
  try {
    watch = await watchLatest(stage, WATCH_INTERVAL_MS);
    const seeded = watch.currentVersion;
    const random = createRandom(20);
    const gaps: number[] = [];
    const landings: Promise<number>[] = [];
    for (let i = 0; i < CHANGES[size]; i++) {
      const gap = -Math.log(1 - random.next()) * MEAN_GAP_SECONDS[size] * 1000;
      gaps.push(gap);
      await delay(gap);
      const { id, updatedMs, answeredAt } = await change(stage);
      landings.push(watch.landed(id, updatedMs).then((seenAt) => seenAt - answeredAt));
    }
    const latencies = await withTimeout(Promise.all(landings), LAND_TIMEOUT_MS, () => stage.serve.tail());
    const runs = watch.currentVersion - seeded;
    const runSeconds = (await eventRuns(stage.serve, runs)).map((run) => run.durationSeconds);
    return { latencies, gaps, runs, runSeconds };
  } finally {
    await watch?.stop();
    await stage.close();
  }
}

/** One update in the sandbox: the referral, its new updatedDateTime (from the event the sandbox sent), when it answered. */
async function change(stage: EventsStage): Promise<{ id: string; updatedMs: number; answeredAt: number }> {
  const result = await stage.sandbox.control<{ updated: string[] }>('/_sandbox/mutate', 'POST', { updates: 1 });
  const answeredAt = performance.now();
  const [id] = result.updated;
  if (!id) throw new Error('the sandbox changed nothing');
  const updatedMs = (await changeDates(stage.sandbox, [id])).get(id) as number;
  return { id, updatedMs, answeredAt };
}

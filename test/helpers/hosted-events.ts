/**
 * Issue 20's pipeline hosted as `referrals-lake serve` hosts it (dev/local-app.ts), for the tests
 * that check it end to end: an in-process sandbox whose webhook registration points at the receiver
 * function served by dev/http-host.ts, Azurite's queue, the worker run by dev/queue-host.ts with
 * host.json's queue settings unchanged, and a folder lake read back with the tests' Delta replay and
 * DuckDB (never the writer's reader).
 *
 * The two hosts are started here rather than through startLocalApp so that the functions' log lines
 * come to the test (serve sends them to stderr): they say when each event run started. The functions
 * read their app settings from process.env and keep one receiver and one worker per process, as under
 * the host: one hosted app per test file, its settings fixed when it starts.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogHandler } from '@azure/functions';
import { type HttpHost, startHttpHost } from '../../dev/http-host.js';
import { type QueueHost, startQueueHost } from '../../dev/queue-host.js';
import { updateReferral } from '../../sandbox/mutations.js';
import { createRandom } from '../../sandbox/random.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import type { DeliveryRecord } from '../../sandbox/webhook-delivery.js';
import { loadHttpFunctions } from '../../src/cli/function-modules.js';
import { createLogger, silentLogger } from '../../src/common/log.js';
import { loadEventsConfig } from '../../src/config.js';
import { createEventQueue, type EventQueue } from '../../src/events/queue.js';
import { partnerCenterEvents } from '../../src/functions/partner-center-events.js';
import { runSyncJob } from '../../src/sync/job.js';
import type { RunManifest } from '../../src/sync/manifest.js';
import { startAzurite } from './azurite.js';
import { deltaParquetSource, logVersions } from './delta-replay.js';
import { openDuckDb } from './duckdb.js';

export interface HostedOptions {
  /** The sandbox's seed and book size. */
  readonly seed: number;
  readonly count: number;
  /** EVENTS_FLUSH_SECONDS; unset (the app's default, 30) when absent. */
  readonly flushSeconds?: number;
}

/** One log line a function wrote (JSON, as contextLogger writes them). */
export interface FunctionLine {
  readonly functionName?: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface HostedEvents {
  readonly sandbox: Sandbox;
  readonly receiverUrl: string;
  /** The events queue, as the app reaches it (for its counts). */
  readonly queue: EventQueue<unknown>;
  /** Every line the functions logged so far, in order. */
  readonly lines: readonly FunctionLine[];
  /** The event runs the worker has started so far (each logs `sync started` once, whatever its end). */
  eventRunsStarted(): number;
  /** The events the receiver put on the queue so far. */
  eventsQueued(): number;
  /** referrals_latest: referral id → `_source_updated_date_time` in epoch ms. */
  latest(): Promise<Map<string, number>>;
  /** referral_versions: `referralId@epochMs` for each row, repeats kept. */
  versionKeys(): Promise<string[]>;
  /** How many commits referrals_latest's Delta log holds. */
  latestCommits(): number;
  /** The run manifests in the lake's `_runs/`. */
  manifests(): Promise<RunManifest[]>;
  /**
   * Updates these referrals in the sandbox's book one after another, each as Partner Center would
   * (a later updatedDateTime, a new ETag), and emits its referral-updated event. Returns the new
   * updatedDateTime of each, in epoch ms, by id.
   */
  update(ids: readonly string[]): Map<string, number>;
  /**
   * Waits until referrals_latest holds each referral at its version (epoch ms, by id); resolves with
   * the moment it saw them all (polled every 250 ms).
   */
  landed(versions: ReadonlyMap<string, number>, timeoutMs: number): Promise<number>;
  /** The events the sandbox emitted since its log was `from` long, with their attempts. */
  deliveriesSince(from: number): DeliveryRecord[];
  /** Points the sandbox's webhook registration at `url` (the hosted receiver by default). */
  register(url?: string): void;
  /** Waits until the sandbox has settled `count` more events than `from` (deliveries or drops). */
  settled(from: number, count: number, timeoutMs?: number): Promise<void>;
  /** Waits until the worker has taken every queued message off the queue. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The ids of the events not delivered by a single attempt that the receiver answered 200. */
export function notAnswered200(deliveries: readonly DeliveryRecord[]): number[] {
  return deliveries
    .filter((d) => d.state !== 'delivered' || d.attempts.length !== 1 || d.attempts[0]?.status !== 200)
    .map((d) => d.id);
}

/**
 * Polls `check` every `everyMs` until it gives a value; throws naming `what` after `timeoutMs`. Checks
 * that read the lake poll every 250 ms or so: DuckDB's reads take CPU from the pipeline under test.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

type Stop = () => Promise<unknown> | unknown;
/** Something being started: once it is, `close` is added to what close() stops. */
type Track = <T>(starting: Promise<T>, close: (value: T) => unknown) => Promise<T>;

export async function startHostedEvents(options: HostedOptions): Promise<HostedEvents> {
  const saved = { ...process.env };
  const stops: Stop[] = [
    () => {
      process.env = saved;
    },
  ];
  const starting: Promise<unknown>[] = [];
  const track: Track = (value, close) => {
    const tracked = value.then((v) => {
      stops.push(() => close(v));
      return v;
    });
    starting.push(tracked.catch(() => undefined));
    return tracked;
  };
  // In reverse order of starting; after a failed start, what was still starting is stopped too.
  const stop = async () => {
    await Promise.all(starting);
    for (const step of stops.splice(0).reverse()) await step();
  };
  try {
    return await start(options, track, stops, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function start(
  options: HostedOptions,
  track: Track,
  stops: Stop[],
  stop: () => Promise<void>,
): Promise<HostedEvents> {
  // Azurite takes longest to start: the sandbox, the lake's first full sync and the function
  // modules are made ready meanwhile.
  const azuriteStarted = track(startAzurite(), (azurite) => azurite.stop());
  const functionsLoaded = track(loadHttpFunctions(), () => undefined);
  const work = await track(mkdtemp(join(tmpdir(), 'hosted-events-')), (dir) =>
    rm(dir, { recursive: true, force: true }),
  );
  const [sandbox, duck] = await Promise.all([
    track(
      startSandbox({
        count: options.count,
        seed: options.seed,
        webhooks: { retryDelaysMs: [50], attemptTimeoutMs: 5000 },
      }),
      (sandbox) => sandbox.close(),
    ),
    track(openDuckDb(), (duck) => duck.close()),
  ]);
  const lake = join(work, 'lake');
  const partnerCenter = { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') };
  // The lake as the scheduled sync leaves it: the events bring changes to a full book.
  const synced = track(runSyncJob(partnerCenter, { mode: 'full' }, { logger: silentLogger }), () => undefined);
  const [azurite] = await Promise.all([azuriteStarted, synced]);
  const env: Record<string, string> = {
    ...partnerCenter,
    EVENTS_QUEUE: azurite.connectionString,
    EVENTS_QUEUE_NAME: 'hosted-events',
    ...(options.flushSeconds === undefined ? {} : { EVENTS_FLUSH_SECONDS: String(options.flushSeconds) }),
  };
  // The functions read the app settings from the process, as under the host.
  delete process.env.EVENTS_FLUSH_SECONDS;
  Object.assign(process.env, env);

  const lines: FunctionLine[] = [];
  const logHandler: LogHandler = (_level, ...args) => {
    try {
      lines.push(JSON.parse(String(args[0])) as FunctionLine);
    } catch {
      lines.push({ message: args.map(String).join(' ') });
    }
  };
  const http: HttpHost = await startHttpHost({ functions: await functionsLoaded, logHandler });
  stops.push(() => http.close());
  const queueHost: QueueHost = await startQueueHost({
    env: process.env,
    logger: createLogger(() => {}),
    logHandler,
  });
  stops.push(() => queueHost.close());
  const queue = await createEventQueue(loadEventsConfig(env));
  const receiverUrl = `${http.baseUrl}/api/${partnerCenterEvents.route}`;
  const register = (url = receiverUrl) => {
    sandbox.webhooks.register({
      webhookUrl: url,
      webhookEvents: ['referral-created', 'referral-updated'],
      signatureInMsHeader: false,
    });
  };
  register();
  const random = createRandom(options.seed ^ 0xe7e7);
  const table = (name: string) => deltaParquetSource(join(lake, name));
  const latest = async () => {
    const rows = await duck.query(
      `SELECT referral_id, epoch_ms(_source_updated_date_time) AS at FROM ${table('referrals_latest')}`,
    );
    return new Map(rows.map((r) => [String(r.referral_id), Number(r.at)]));
  };

  return {
    sandbox,
    receiverUrl,
    queue,
    lines,
    eventRunsStarted: () => lines.filter((l) => l.message === 'sync started' && l.mode === 'event').length,
    eventsQueued: () => lines.filter((l) => l.message === 'Partner Center event' && l.outcome === 'queued').length,
    latest,
    async versionKeys() {
      const rows = await duck.query(
        `SELECT referral_id || '@' || epoch_ms(_source_updated_date_time) AS k FROM ${table('referral_versions')}`,
      );
      return rows.map((r) => String(r.k));
    },
    latestCommits: () => logVersions(join(lake, 'referrals_latest')).length,
    async manifests() {
      const folder = join(lake, '_runs');
      const names = (await readdir(folder)).filter((name) => name.endsWith('.json'));
      return Promise.all(
        names.map(async (name) => JSON.parse(await readFile(join(folder, name), 'utf8')) as RunManifest),
      );
    },
    register,
    deliveriesSince: (from) => sandbox.webhookDeliveries.events().slice(from),
    update(ids) {
      const versions = new Map<string, number>();
      for (const id of ids) {
        const current = sandbox.store.get(id);
        if (!current) throw new Error(`no referral ${id} in the sandbox`);
        const next = updateReferral(current, random, new Date());
        sandbox.store.put(next);
        sandbox.webhooks.referralUpdated(next);
        versions.set(id, Date.parse(next.updatedDateTime));
      }
      return versions;
    },
    landed(versions, timeoutMs) {
      return until(
        `${versions.size} referral(s) at their versions in referrals_latest`,
        async () => {
          const inLake = await latest();
          return [...versions].every(([id, at]) => inLake.get(id) === at) ? Date.now() : undefined;
        },
        timeoutMs,
        250,
      );
    },
    async settled(from, count, timeoutMs = 20_000) {
      if (!(await sandbox.webhookDeliveries.waitForSettled(from + count, timeoutMs))) {
        throw new Error(`${count} webhook events did not settle within ${timeoutMs} ms`);
      }
    },
    async drained(timeoutMs = 20_000) {
      await until(
        'the events queue to be empty',
        async () => ((await queue.counts()).queued === 0 ? true : undefined),
        timeoutMs,
      );
    },
    close: stop,
  };
}

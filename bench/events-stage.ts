/**
 * The stage the events benchmarks play on, set up as a user sets it up on one machine
 * (docs/operations.md, "Events on one machine"): the sandbox as a child process; `referrals-lake
 * serve` as a child process with the sandbox's settings and no storage setting, so that it starts
 * Azurite (blob and queue) itself in a fresh data folder; a full sync into that lake by the CLI, as a
 * lake starts out before events keep it fresh; and the webhook registered by `referrals-lake webhooks
 * register --url …`. Every command signs in once with a fresh bootstrap refresh token and a token
 * cache file of its own, so that none redeems a token another rotated away.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../dev/azurite.js';
import { type ServeChild, startServeChild } from '../dev/cli/serve-child.js';
import type { RunManifest } from '../src/sync/manifest.js';
import { runCli, runCliSync } from './cli-process.js';
import { LatestWatch } from './latest-watch.js';
import { type SandboxProcess, spawnSandbox } from './sandbox-process.js';

/** serve's lake container when LAKE_CONTAINER is not set (src/config.ts). */
export const LAKE_CONTAINER = 'referrals-lake';

/** The book the events-into-the-lake scenarios sync first and then change, by run size. */
export const EVENTS_BOOK = { quick: 2000, full: 20_000 } as const;

export interface EventsStageOptions {
  /** Referrals in the sandbox's book, all synced into the lake before anything is measured. */
  readonly referrals: number;
  /** EVENTS_FLUSH_SECONDS for serve; absent: serve's default (30). */
  readonly flushSeconds?: number;
  /** The URL to register for the events; serve's own receiver when absent. */
  readonly webhookUrl?: (serve: ServeChild) => Promise<string> | string;
}

export interface EventsStage {
  readonly sandbox: SandboxProcess;
  readonly serve: ServeChild;
  /** The connection string of the Azurite serve started (its well-known development key). */
  readonly lakeConnectionString: string;
  readonly work: string;
  /** Stops serve (and its Azurite), then the sandbox; removes the working folder. */
  close(): Promise<void>;
}

export async function startEventsStage(options: EventsStageOptions): Promise<EventsStage> {
  const work = await mkdtemp(join(tmpdir(), 'bench-events-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(work, { recursive: true, force: true })];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const sandbox = await spawnSandbox(['--count', String(options.referrals), '--seed', '1']);
    stops.push(() => sandbox.stop());
    const signIn = async (name: string) => ({
      ...sandbox.env,
      PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
      PARTNER_CENTER_TOKEN_CACHE: join(work, `${name}-token-cache.json`),
    });
    const serve = await startServeChild(
      {
        ...(await signIn('serve')),
        ...(options.flushSeconds === undefined ? {} : { EVENTS_FLUSH_SECONDS: String(options.flushSeconds) }),
      },
      { dataDir: join(work, 'serve-data') },
    );
    stops.push(() => serve.stop());
    if (!serve.azurite) throw new Error('serve did not start Azurite (a storage setting reached it?)');
    const lakeConnectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${serve.azurite.blobEndpoint};`;
    const seeded = await runCliSync(['--mode', 'full'], {
      ...(await signIn('sync')),
      LAKE_CONNECTION_STRING: lakeConnectionString,
    });
    if (seeded.manifest.counts.referrals !== options.referrals) {
      throw new Error(`the seeding sync wrote ${seeded.manifest.counts.referrals} of ${options.referrals} referrals`);
    }
    const url = options.webhookUrl ? await options.webhookUrl(serve) : serve.receiverUrl;
    await runCli(['webhooks', 'register', '--url', url, '--replace'], await signIn('webhooks'));
    return { sandbox, serve, lakeConnectionString, work, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The signed event the sandbox sent for a change, as its delivery log shows it (docs/sandbox.md). */
export interface DeliveredEvent {
  readonly id: number;
  readonly eventName: string;
  readonly resourceUri: string;
  readonly body: string;
  readonly state: 'pending' | 'delivered' | 'parked' | 'dropped';
  readonly duplicateOf?: number;
  readonly attempts: readonly { readonly status?: number; readonly durationMs: number }[];
}

/** The sandbox's delivery log, once `settled` events have settled (or `timeoutMs` passed). */
export async function deliveryLog(
  sandbox: SandboxProcess,
  settled = 0,
  timeoutMs = 0,
): Promise<{ reached: boolean; events: DeliveredEvent[] }> {
  return sandbox.control(`/_sandbox/webhooks/events?settled=${settled}&timeoutMs=${timeoutMs}`, 'GET');
}

/**
 * The `ResourceChangeUtcDate` (epoch ms) of the newest event the sandbox sent for each referral: the
 * version of it a reader of the lake waits for. Throws when one of them has no such event.
 */
export async function changeDates(sandbox: SandboxProcess, ids: readonly string[]): Promise<Map<string, number>> {
  const { events } = await deliveryLog(sandbox);
  const newest = new Map<string, DeliveredEvent>();
  for (const event of events) newest.set(event.resourceUri.slice(event.resourceUri.lastIndexOf('/') + 1), event);
  const dates = new Map<string, number>();
  for (const id of ids) {
    const body = newest.get(id)?.body;
    const changed = body && (JSON.parse(body) as { ResourceChangeUtcDate?: string }).ResourceChangeUtcDate;
    const updatedMs = changed ? Date.parse(changed) : Number.NaN;
    if (Number.isNaN(updatedMs)) throw new Error(`no event with a change date for referral ${id}`);
    dates.set(id, updatedMs);
  }
  return dates;
}

/** `work`, or an error naming what did not land (with `context()`, e.g. serve's last lines) after `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, context: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not every change landed within ${ms} ms; serve:\n${context()}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An outside reader of the stage's referrals_latest (bench/latest-watch.ts), polling every
 * `intervalMs`; its first version is the seeding sync's, so versions past it are event runs.
 */
export async function watchLatest(stage: EventsStage, intervalMs: number): Promise<LatestWatch> {
  const watch = await LatestWatch.start({
    connectionString: stage.lakeConnectionString,
    container: LAKE_CONTAINER,
    dir: join(stage.work, 'reader'),
    intervalMs,
  });
  if (watch.currentVersion < 0) {
    await watch.stop();
    throw new Error('referrals_latest has no version after the seeding sync');
  }
  return watch;
}

/**
 * The manifests of the event runs serve has logged ("event run summary" lines), oldest first, once
 * there are `atLeast` of them: a run's commit can be read in the lake a moment before its summary is
 * logged. Throws when they are not there within `timeoutMs`.
 */
export async function eventRuns(serve: ServeChild, atLeast: number, timeoutMs = 30_000): Promise<RunManifest[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const runs = serve
      .logged((line) => line.message === 'event run summary')
      .map((line) => line.summary as RunManifest);
    if (runs.length >= atLeast) return runs;
    if (performance.now() > deadline) {
      throw new Error(`serve logged ${runs.length} event run summaries, ${atLeast} expected; serve:\n${serve.tail()}`);
    }
    await delay(100);
  }
}

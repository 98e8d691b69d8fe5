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
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../dev/azurite.js';
import { type ServeChild, startServeChild } from '../dev/cli/serve-child.js';
import { runCli, runCliSync } from './cli-process.js';
import { type SandboxProcess, spawnSandbox } from './sandbox-process.js';

/** serve's lake container when LAKE_CONTAINER is not set (src/config.ts). */
export const LAKE_CONTAINER = 'referrals-lake';

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

/**
 * The function app on this machine, as `referrals-lake serve` runs it: the HTTP functions
 * (dev/http-host.ts: the live list, the receiver, the flows' trigger) and the
 * queue-triggered worker (dev/queue-host.ts), against the lake and events queue the settings name,
 * or Azurite where they name none (dev/serve-storage.ts).
 *
 * The functions read their app settings from the process environment, as under the Functions host,
 * so Azurite's connection strings are added to it here.
 */

import { loadHttpFunctions } from '../src/cli/function-modules.js';
import type { HttpFunction } from '../src/common/azure-functions.js';
import { loadEventsConfig, loadLakeConfig } from '../src/config.js';
import { createEventQueue } from '../src/events/queue.js';
import { partnerCenterEvents } from '../src/functions/partner-center-events.js';
import { createStorageTarget } from '../src/lake/storage/create-target.js';
import { type HttpHost, startHttpHost } from './http-host.js';
import { type QueueHost, startQueueHost } from './queue-host.js';
import { prepareServeStorage, type ServeStorage } from './serve-storage.js';

export interface LocalAppOptions {
  readonly port?: number;
  readonly functionKey?: string;
  /** Where Azurite keeps its data when serve starts it. */
  readonly azuriteDir: string;
  /** The app settings; the process's own (which the functions read) by default. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalApp {
  readonly http: HttpHost;
  readonly httpFunctions: readonly HttpFunction[];
  readonly queueHost: QueueHost;
  readonly storage: ServeStorage;
  /** Where the lake and the queue are, safe to print (endpoints, never a key). */
  readonly lake: string;
  readonly queue: string;
  /** The URL to register for Partner Center's events. */
  readonly receiverUrl: string;
  /** Stops taking messages, then serving, then Azurite if it started it. */
  close(): Promise<void>;
}

export async function startLocalApp(options: LocalAppOptions): Promise<LocalApp> {
  const env = options.env ?? process.env;
  const stops: (() => Promise<void>)[] = [];
  try {
    // Azurite starts in processes of its own while this one loads the function modules.
    const functionsLoaded = loadHttpFunctions();
    functionsLoaded.catch(() => undefined); // thrown where it is awaited, below
    const storage = await prepareServeStorage(env, options.azuriteDir);
    stops.push(() => storage.stop());
    Object.assign(env, storage.added);
    // Read and checked before anything is served: a bad setting stops serve at once, naming it.
    const lake = (await createStorageTarget(loadLakeConfig(env))).describe();
    const queue = (await createEventQueue(loadEventsConfig(env))).describe();
    const httpFunctions = await functionsLoaded;
    const http = await startHttpHost({
      port: options.port,
      functionKey: options.functionKey,
      functions: httpFunctions,
    });
    stops.push(() => http.close());
    const queueHost = await startQueueHost({ env });
    stops.push(() => queueHost.close());
    return {
      http,
      httpFunctions,
      queueHost,
      storage,
      lake,
      queue,
      receiverUrl: `${http.baseUrl}/api/${partnerCenterEvents.route}`,
      close: () => stopInReverse(stops),
    };
  } catch (error) {
    await stopInReverse(stops);
    throw error;
  }
}

async function stopInReverse(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

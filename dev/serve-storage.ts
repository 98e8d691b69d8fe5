/**
 * The lake and the events queue `referrals-lake serve` runs the functions against: the settings it
 * is given, and for whichever of the two has none, Azurite (blob and queue) started here, its data
 * kept in a folder between runs. Azurite's connection string names its well-known development key:
 * it goes into the app settings of this process only, never into what serve prints.
 */
import type { Azurite } from './azurite.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ServeStorage {
  /** Settings to add to the app's: Azurite's connection string for the lake, the queue, or both. */
  readonly added: Readonly<Record<string, string>>;
  /** Azurite, when serve started it, and the folder that keeps its data. */
  readonly azurite?: { readonly instance: Azurite; readonly location: string };
  stop(): Promise<void>;
}

const LAKE_SETTINGS = ['LAKE_LOCAL_DIR', 'LAKE_CONNECTION_STRING', 'LAKE_ACCOUNT_URL'] as const;
/** Every name the Functions host reads for the EVENTS_QUEUE connection (src/config.ts refuses the ones the app does not). */
const QUEUE_SETTING = /^(AzureWebJobs|ConnectionStrings__)?EVENTS_QUEUE(__|$)/i;

/** True when the settings name a lake (a folder, or a Blob account). */
export function lakeIsSet(env: Env): boolean {
  return LAKE_SETTINGS.some((name) => Boolean(env[name]?.trim()));
}

/** True when the settings say anything of the events queue's connection. */
export function queueIsSet(env: Env): boolean {
  return Object.entries(env).some(([name, value]) => QUEUE_SETTING.test(name) && Boolean(value?.trim()));
}

/** The storage for these settings: nothing started when both are set, else Azurite in `azuriteDir`. */
export async function prepareServeStorage(env: Env, azuriteDir: string): Promise<ServeStorage> {
  const needLake = !lakeIsSet(env);
  const needQueue = !queueIsSet(env);
  if (!needLake && !needQueue) return { added: {}, stop: async () => {} };
  // Loaded only here: Azurite is a devDependency, and serve with settings needs none of it.
  const { startAzurite } = await import('./azurite.js');
  const instance = await startAzurite({ location: azuriteDir });
  return {
    added: {
      ...(needLake ? { LAKE_CONNECTION_STRING: instance.connectionString } : {}),
      ...(needQueue ? { EVENTS_QUEUE: instance.connectionString } : {}),
    },
    azurite: { instance, location: azuriteDir },
    stop: () => instance.stop(),
  };
}

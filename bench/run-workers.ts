/**
 * The two measured jobs, each in a worker process of its own (so peak RSS is the job's alone) against
 * a sandbox process: fetch only, and one full sync as the timer function runs it, into Azurite (each
 * call a container of its own) or a local folder. Every call signs in once with a fresh bootstrap
 * refresh token, as a new deployment would.
 */
import { join } from 'node:path';
import type { Azurite } from '../dev/azurite.js';
import type { SandboxProcess } from './sandbox-process.js';
import { runWorker } from './worker-process.js';

export interface SyncFigures {
  readonly referrals: number;
  readonly durationSeconds: number;
  readonly pages: number;
  readonly timings: Record<string, number>;
  readonly peakRssBytes: number;
}

export interface FetchFigures {
  readonly referrals: number;
  readonly seconds: number;
  readonly pages: number;
  readonly peakRssBytes: number;
}

export async function runFetchWorker(sandbox: SandboxProcess, expected: number): Promise<FetchFigures> {
  const result = await runWorker<FetchFigures>('fetch-only', {
    ...sandbox.env,
    PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
    BENCH_PAGE_SIZE: '100',
  });
  if (result.referrals !== expected) throw new Error(`fetched ${result.referrals} of ${expected}`);
  return result;
}

export type SyncLake = { readonly azurite: Azurite; readonly container: string } | { readonly localDir: string };

export async function runSyncWorker(
  sandbox: SandboxProcess,
  expected: number,
  lake: SyncLake,
  work: string,
  settings: Record<string, string> = {},
): Promise<SyncFigures> {
  const name = 'azurite' in lake ? lake.container : lake.localDir.replaceAll(/\W/g, '-');
  const lakeSettings: Record<string, string> =
    'azurite' in lake
      ? { LAKE_CONNECTION_STRING: lake.azurite.connectionString, LAKE_CONTAINER: lake.container }
      : { LAKE_LOCAL_DIR: lake.localDir };
  const result = await runWorker<SyncFigures>('sync', {
    ...sandbox.env,
    PARTNER_CENTER_REFRESH_TOKEN: await sandbox.freshRefreshToken(),
    PARTNER_CENTER_TOKEN_CACHE: join(work, `cache-${name}.json`),
    SYNC_PAGE_SIZE: '100',
    ...lakeSettings,
    ...settings,
  });
  if (result.referrals !== expected) throw new Error(`synced ${result.referrals} of ${expected}`);
  return result;
}

export const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
export const round2 = (value: number): number => Number(value.toFixed(2));

/** The value at quantile q of the sorted values (q = 0.5: the median of an odd count). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * A sync as configured by app settings: the one code path behind the timer function and
 * `referrals-lake sync`. Settings are read and checked here, once, before anything runs.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlreadyRunningError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { loadLakeConfig, loadPartnerCenterConfig, loadSyncConfig } from '../config.js';
import { configuredTokenCacheStore } from '../lake/layout/token-cache-store.js';
import { createStorageTarget } from '../lake/storage/create-target.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import { createPartnerCenterSource } from '../source/create.js';
import type { RunManifest } from './manifest.js';
import type { SyncMode } from './plan.js';
import { runSync, type SyncDependencies } from './run.js';

export interface SyncJobOverrides {
  readonly mode?: SyncMode;
  /** Event runs: the referrals the events named. */
  readonly referralIds?: readonly string[];
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  /** Publish a full run however much of the latest table it vanishes (the CLI's --allow-shrink). */
  readonly allowShrink?: boolean;
  /** A target built by the caller (the CLI's --target) instead of the LAKE_* settings. */
  readonly target?: StorageTarget;
}

export interface SyncJobHooks {
  readonly logger: Logger;
  readonly onProgress?: SyncDependencies['onProgress'];
  readonly onReferralFailed?: SyncDependencies['onReferralFailed'];
  readonly signal?: AbortSignal;
}

export async function runSyncJob(
  env: Readonly<Record<string, string | undefined>>,
  overrides: SyncJobOverrides,
  hooks: SyncJobHooks,
): Promise<RunManifest> {
  const partnerCenter = loadPartnerCenterConfig(env);
  const settings = loadSyncConfig(env);
  const target = overrides.target ?? (await createStorageTarget(loadLakeConfig(env)));
  const correlationId = randomUUID();
  const source = createPartnerCenterSource(partnerCenter, {
    logger: hooks.logger,
    correlationId,
    tokenCacheStore: configuredTokenCacheStore(partnerCenter, target),
  });
  try {
    return await runSync(
      {
        client: source.client,
        target,
        apiBaseUrl: partnerCenter.apiBaseUrl,
        logger: hooks.logger,
        onProgress: hooks.onProgress,
        onReferralFailed: hooks.onReferralFailed,
      },
      {
        mode: overrides.mode ?? settings.mode,
        referralIds: overrides.referralIds,
        pageSize: settings.pageSize,
        concurrency: overrides.concurrency ?? settings.concurrency,
        rangeField: settings.rangeField,
        overlapMs: settings.overlapMs,
        leaseMs: settings.leaseMs,
        retentionMs: settings.retentionMs,
        maxVanishFraction: settings.maxVanishFraction,
        allowShrink: overrides.allowShrink,
        dryRun: overrides.dryRun,
        signal: hooks.signal,
      },
    );
  } finally {
    source.close();
  }
}

/**
 * runSyncJob, waiting while another run holds the lease (an event run, usually seconds): tried again
 * every `pollMs` until `waitMs` has passed, then the AlreadyRunningError stands.
 */
export async function runSyncJobWhenFree(
  env: Readonly<Record<string, string | undefined>>,
  overrides: SyncJobOverrides,
  hooks: SyncJobHooks,
  wait: { readonly waitMs: number; readonly pollMs?: number },
): Promise<RunManifest> {
  const started = Date.now();
  for (;;) {
    try {
      return await runSyncJob(env, overrides, hooks);
    } catch (error) {
      const pollMs = wait.pollMs ?? 15_000;
      if (!(error instanceof AlreadyRunningError) || Date.now() - started + pollMs > wait.waitMs) throw error;
      hooks.logger.info('another run holds the lake; waiting for it', {
        waitedSeconds: Math.round((Date.now() - started) / 1000),
      });
      await sleep(pollMs, undefined, { signal: hooks.signal });
    }
  }
}

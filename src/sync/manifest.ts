/**
 * The run manifest, `_runs/<run_id>.json`, written last: a reader that starts from manifests never
 * sees a partial run, because a run's files are all committed before its manifest exists. It is also
 * the run summary the CLI prints and the log carries.
 */
import { runManifestPath } from '../lake/layout/paths.js';
import { type StorageTarget, writeWhole } from '../lake/storage/storage.js';
import type { ClientStats } from '../source/client.js';
import type { SyncMode } from './plan.js';
import type { FileRecord } from './run-files.js';

export interface RunCounts {
  referrals: number;
  /** The same referral at the same or an older version, met again during the pull and skipped. */
  duplicatesDropped: number;
  /** A referral met again at a newer version (updated mid-pull); both versions are in the snapshot. */
  supersededVersions: number;
  quarantined: number;
  /** Incremental runs: referrals new or updated since the previous latest (the overlap re-reads the rest). */
  changed?: number;
  /** Full runs: referrals of the previous latest table this run did not find (now in referrals_vanished). */
  vanished?: number;
  /** Versions of referrals no earlier run had recorded (appended to referral_versions). */
  newVersions?: number;
  /** Event runs: referrals an event named that Partner Center answered 404 for. */
  notFound?: number;
  /** Event runs: referrals Partner Center kept failing for, left out; their events are retried (the run's log names them). */
  failed?: number;
  rows: Record<string, number>;
}

export interface RunManifest {
  readonly runId: string;
  readonly status: 'succeeded' | 'nothing_to_do';
  readonly mode: SyncMode;
  readonly schemaVersion: number;
  readonly schemaFingerprint: string;
  readonly snapshotDate: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly referralsPerSecond: number;
  readonly source: {
    readonly apiBaseUrl: string;
    readonly query: string;
    readonly ranges: number;
    readonly concurrency: number;
    readonly correlationId: string;
  };
  readonly counts: RunCounts;
  readonly client: {
    readonly pages: number;
    readonly requests: number;
    readonly retries: number;
    readonly throttled: number;
    readonly throttledSeconds: number;
    readonly bytes: number;
  };
  readonly files: readonly FileRecord[];
  /** Files of the latest tables this run published. */
  readonly latest: readonly FileRecord[];
  /** The Delta version this run committed to each table it published, by table folder. */
  readonly tables?: Readonly<Record<string, number>>;
  readonly watermark: string | undefined;
  /**
   * Seconds per phase: plan, extract (fetch + normalize + write), commitFiles, vanished, versions,
   * latest (staging), publish (the table commits and copies).
   */
  readonly timings?: Readonly<Record<string, number>>;
}

/** The manifest as of `finished`: its end, duration and rate, and any phases timed since it was made. */
export function finishedAt(
  manifest: RunManifest,
  finished: Date,
  phases: Readonly<Record<string, number>> = {},
): RunManifest {
  const durationSeconds = (finished.getTime() - Date.parse(manifest.startedAt)) / 1000;
  const referrals = manifest.counts.referrals;
  return {
    ...manifest,
    finishedAt: finished.toISOString(),
    durationSeconds,
    referralsPerSecond: durationSeconds > 0 ? Math.round(referrals / durationSeconds) : referrals,
    timings: { ...manifest.timings, ...phases },
  };
}

export function clientSummary(stats: ClientStats): RunManifest['client'] {
  return {
    pages: stats.pages,
    requests: stats.requests,
    retries: stats.retries,
    throttled: stats.throttled,
    throttledSeconds: Math.round(stats.throttledWaitMs / 100) / 10,
    bytes: stats.bytes,
  };
}

/** Writes the manifest: the run's commit point. */
export async function writeManifest(target: StorageTarget, manifest: RunManifest): Promise<string> {
  const path = runManifestPath(manifest.runId);
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  await writeWhole(target, path, body, { contentType: 'application/json' });
  return path;
}

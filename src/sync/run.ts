/**
 * One sync run, the product's main job, shared by the timer function and the CLI:
 * lease → complete a killed run's publish → plan → extract (pages, concurrently) → normalize + write
 * (streaming) → stage the history and latest tables → publish (every table commit, then the
 * pointer, the manifest and the watermark: publish.ts) → release. A run that fails or is killed
 * before its publish starts leaves files no table's log names and no manifest, so no reader sees
 * them; one killed during its publish is completed by the next run.
 */

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { IdempotencyStore } from '../actions/idempotency.js';
import { ShrinkRefusedError, type UpstreamError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';
import { processTuningInEffect } from '../common/process-tuning.js';
import { canonicalTimestamp } from '../common/time.js';
import { readSnapshot } from '../lake/delta/log.js';
import { newDataFile } from '../lake/delta/table.js';
import { DELTA_TABLES } from '../lake/layout/lake-tables.js';
import { RunLease } from '../lake/layout/lease.js';
import { newRunId, partitionFolder, snapshotDateOf, tableRelativePath } from '../lake/layout/paths.js';
import type { StorageTarget } from '../lake/storage/storage.js';
import { referralIdOf } from '../normalize/normalize.js';
import { runTableSchema, SCHEMA_VERSION, SNAPSHOT_DATE_COLUMN, schemaFingerprint, TABLES } from '../schema/tables.js';
import type { PartnerCenterClient } from '../source/client.js';
import { extractPages } from './extract.js';
import { extractByIds } from './extract-by-id.js';
import { compareWithLatest, previousLatestNdjson, stageLatest } from './latest.js';
import { clientSummary, finishedAt, type RunCounts, type RunManifest } from './manifest.js';
import { type ExtractPlan, planEvent, planFull, planIncremental, type SyncMode } from './plan.js';
import { type PublishCopy, type PublishOptions, publish, rollForward, type TableCommit } from './publish.js';
import { type FileRecord, RunFiles } from './run-files.js';
import { SeenIds } from './seen-ids.js';
import { checkShrink, countVanished, stageVanished, type VanishedStaged } from './vanished.js';
import { referralVersion, type Version } from './version.js';
import { VersionsRecorder } from './versions.js';
import { readWatermark, writeWatermark } from './watermark.js';

const DEFAULT_RANGES_PER_WORKER = 2;

const DEFAULT_RETENTION_MS = 7 * 86_400_000;
const DEFAULT_MAX_VANISH_FRACTION = 0.2;

export interface SyncOptions {
  readonly mode: SyncMode;
  /** Event runs: the referrals Partner Center's events named. */
  readonly referralIds?: readonly string[];
  readonly pageSize: number;
  readonly concurrency: number;
  /**
   * Ranges per concurrent listing in a full run; default 2. More ranges even out their sizes: a
   * fetcher that finishes early takes a planned range at once instead of splitting a running one
   * (which costs a partial page and waits for progress to split at). 50k referrals at 200 ms a page
   * and concurrency 8 took 14.7 s with one range per listing and 14.2 s with two (three runs each,
   * no writing: bench latency-bound); four added partial pages and gained nothing.
   */
  readonly rangesPerWorker?: number;
  readonly rangeField: 'createdDateTime' | 'updatedDateTime';
  /** Incremental runs re-read this much before the watermark. */
  readonly overlapMs: number;
  /** How long the lease lasts without renewal (a crashed run blocks the next this long at most). */
  readonly leaseMs?: number;
  /** How long the Delta tables' earlier versions stay readable; default 7 days (LAKE_RETENTION_DAYS). */
  readonly retentionMs?: number;
  /** Share of referrals_latest a full run may vanish before it is refused; default 0.2. */
  readonly maxVanishFraction?: number;
  /** Publish a full run whatever share of the latest table it vanishes (`--allow-shrink`). */
  readonly allowShrink?: boolean;
  /** Fetch and normalize, write nothing. */
  readonly dryRun?: boolean;
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
}

export interface SyncDependencies {
  readonly client: PartnerCenterClient;
  readonly target: StorageTarget;
  readonly apiBaseUrl: string;
  readonly logger?: Logger;
  /** Called after every page: referrals so far, and the total when Partner Center says it. */
  readonly onProgress?: (progress: { pages: number; referrals: number; total?: number }) => void;
  /**
   * Event runs: told of each referral Partner Center kept failing for, left out of the run (its
   * event is to be retried). When every referral fails, the run fails instead.
   */
  readonly onReferralFailed?: (id: string, error: UpstreamError) => void;
}

export async function runSync(deps: SyncDependencies, options: SyncOptions): Promise<RunManifest> {
  const now = options.now ?? (() => new Date());
  const started = now();
  // Always a new id: a run's partition and manifest are never written again. A caller-chosen id let
  // a rerun rewrite a committed run's files in place, and a rerun that failed before its manifest
  // left that run's manifest naming files of other sizes.
  const runId = newRunId(started);
  const logger = (deps.logger ?? silentLogger).child({ runId, correlationId: deps.client.correlationId });
  const lease = options.dryRun
    ? undefined
    : await RunLease.acquire(deps.target, runId, { durationMs: options.leaseMs });
  try {
    return await runUnderLease(deps, options, { runId, started, now, logger, lease });
  } finally {
    await lease?.release().catch((error: unknown) => logger.warn('could not release the sync lease', { error }));
  }
}

interface RunContext {
  readonly runId: string;
  readonly started: Date;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly lease: RunLease | undefined;
}

/** The ids the run took, alive until its end: the vanish check after a full run asks them too. */
async function runUnderLease(deps: SyncDependencies, options: SyncOptions, ctx: RunContext): Promise<RunManifest> {
  const seen = new SeenIds();
  try {
    return await runWithIds(deps, options, ctx, seen);
  } finally {
    seen.close();
  }
}

async function runWithIds(
  deps: SyncDependencies,
  options: SyncOptions,
  ctx: RunContext,
  seen: SeenIds,
): Promise<RunManifest> {
  const { target, client } = deps;
  const timings = new Timings();
  if (ctx.lease) await keepHouse(target, ctx.lease, options.mode, ctx);
  // Tables whose log does not exist yet (their first commit takes over what was there before).
  let newTables = new Set<string>();
  if (!options.dryRun) {
    newTables = await checkTableLogs(target);
    await rollForward(target, { ...publishOptions(options, ctx), signal: ctx.lease?.signal });
  }
  const previous = await readWatermark(target);
  const plan = await makePlan(deps, options, previous?.watermark.updatedDateTime, ctx.logger);
  timings.lap('plan');
  ctx.logger.info('sync started', {
    mode: plan.mode,
    query: plan.description,
    ranges: plan.queries.length,
    ...processTuningInEffect(),
  });
  const snapshotDate = snapshotDateOf(ctx.started);
  const lineage = { runId: ctx.runId, extractedAtMicros: ctx.started.getTime() * 1000 };
  let files: RunFiles | undefined;
  const counts: RunCounts = { referrals: 0, duplicatesDropped: 0, supersededVersions: 0, quarantined: 0, rows: {} };
  const superseded = new Map<string, Version>();
  // Only incremental and event runs need the ids they took, with their versions (to tell real
  // changes from re-reads, and to replace those rows in latest); they are few.
  const runVersions = plan.mode === 'full' ? undefined : new Map<string, Version>();
  const notFound = new IdSample();
  const failed = new Map<string, UpstreamError>();
  const unknownDropped = new IdSample();
  // The newest known version and its text: the watermark's candidate, made canonical once at the end.
  let newestVersion = Number.NEGATIVE_INFINITY;
  let newestText: string | undefined;
  const signal = anySignal([options.signal, ctx.lease?.signal]);
  try {
    if (!options.dryRun) {
      const versions = await VersionsRecorder.open({
        target,
        runId: ctx.runId,
        firstSeenAtMicros: lineage.extractedAtMicros,
      });
      timings.lap('versionKeys');
      files = await RunFiles.open({ target, snapshotDate, lineage, versions });
    }
    let pages = 0;
    const extracted = plan.referralIds
      ? extractByIds(client, plan.referralIds, {
          concurrency: options.concurrency,
          signal,
          onNotFound: (id) => notFound.add(id),
          // Only a caller that retries the referrals left out may have a run publish without them.
          onFailed: deps.onReferralFailed ? (id, error) => failed.set(id, error) : undefined,
        })
      : extractPages(client, plan, { concurrency: options.concurrency, signal });
    for await (const page of extracted) {
      for (const referral of page.referrals) {
        const { id, version, updatedText } = identify(referral);
        if (id !== undefined) {
          const seenAs = seen.observe(id, version);
          if (seenAs === 'same' || seenAs === 'older') {
            counts.duplicatesDropped++;
            if (version === null && seenAs === 'older') unknownDropped.add(id);
            continue;
          }
          if (seenAs === 'newer') {
            counts.supersededVersions++;
            superseded.set(id, version);
          }
        }
        if (version !== null && version > newestVersion) {
          newestVersion = version;
          newestText = updatedText;
        }
        if (id !== undefined) runVersions?.set(id, version);
        counts.referrals++;
        await files?.write(referral);
        // Writing is CPU work whose awaits resolve at once; a turn of the event loop every few
        // referrals lets the fetchers' responses in, so fetching overlaps writing instead of waiting.
        if (counts.referrals % 20 === 0) await yieldToEventLoop();
      }
      pages++;
      deps.onProgress?.({
        pages,
        referrals: counts.referrals,
        total: plan.queries.length === 1 ? page.odataCount : undefined,
      });
    }
    signal?.throwIfAborted();
  } catch (error) {
    await files?.abort();
    throw error;
  }
  timings.lap('extract');
  if (failed.size > 0) {
    const [first] = failed.values();
    // Every referral failed: a failure of Partner Center, not of some referrals; the whole run is retried.
    if (failed.size === new Set(plan.referralIds).size) {
      await files?.abort();
      throw first;
    }
    counts.failed = failed.size;
    ctx.logger.warn('referrals Partner Center kept failing for were left out; their events are retried', {
      referrals: failed.size,
      referralIds: [...failed.keys()].slice(0, 20),
      error: first,
    });
    for (const [id, error] of failed) deps.onReferralFailed?.(id, error);
  }
  if (unknownDropped.count > 0) {
    ctx.logger.warn('copies met again with an updatedDateTime the lake cannot hold were dropped for a readable one', {
      copies: unknownDropped.count,
      referralIds: unknownDropped.ids,
    });
  }
  if (notFound.count > 0) {
    counts.notFound = notFound.count;
    ctx.logger.warn('referrals named by events that Partner Center no longer has (deleted, or out of sight)', {
      referrals: notFound.count,
      referralIds: notFound.ids,
    });
  }
  if (!files) return summarize(deps, options, ctx, plan, counts, [], [], undefined, 'succeeded');
  let stale = new Set<string>();
  if (runVersions) ({ changed: counts.changed, stale } = await compareWithLatest(target, runVersions));
  if (stale.size > 0) {
    ctx.logger.info('referrals met older than the lake holds keep their newer row', {
      referrals: stale.size,
      referralIds: [...stale].slice(0, 20),
    });
  }
  const newestUpdated = newestText === undefined ? '' : (canonicalTimestamp(newestText) ?? '');
  const watermark = nextWatermark(plan.mode, newestUpdated, ctx.started, previous?.watermark.updatedDateTime);
  if (plan.mode !== 'full' && (counts.referrals === 0 || counts.changed === 0)) {
    // Only re-reads of what the lake already holds (or nothing): publish nothing. An incremental run
    // still moves the watermark past them: event runs landed those changes first, and without it
    // every later pull would re-read a growing window.
    await files.abort();
    ctx.logger.info(plan.mode === 'event' ? 'the events named nothing new' : 'nothing changed since the watermark');
    if (watermark && watermark !== previous?.watermark.updatedDateTime) {
      const value = { updatedDateTime: watermark, runId: ctx.runId, writtenAt: ctx.now().toISOString() };
      if (!(await writeWatermark(target, value, previous?.etag)))
        ctx.logger.warn('the watermark changed during this run; left as the other run set it');
    }
    return summarize(deps, options, ctx, plan, counts, [], [], watermark, 'nothing_to_do');
  }
  let written: FileRecord[];
  let staged: Staged;
  try {
    // A run that lost its lease publishes nothing: not its files, not the latest tables.
    signal?.throwIfAborted();
    written = await files.close();
    timings.lap('commitFiles');
    counts.rows = { ...files.rowCounts };
    counts.quarantined = files.quarantined;
    signal?.throwIfAborted();
    staged = await stageEverything({
      deps,
      options,
      ctx,
      plan,
      seen,
      files,
      written,
      superseded,
      runVersions,
      timings,
      newTables,
      stale,
    });
    counts.vanished = staged.vanished;
    counts.newVersions = staged.newVersions;
  } catch (error) {
    // A refused shrink keeps the run's files for inspection; it publishes nothing else.
    if (error instanceof ShrinkRefusedError) {
      ctx.logger.error('full run refused: it would empty too much of the lake', { error });
      await files.abortVersions();
    } else await files.abort();
    throw error;
  }
  signal?.throwIfAborted();
  const manifest = await publish(
    target,
    {
      runId: ctx.runId,
      transaction: ctx.started.getTime(),
      commits: staged.commits,
      copies: staged.copies,
      deletes: staged.deletes,
      manifest: {
        ...summarize(deps, options, ctx, plan, counts, written, staged.latestFiles, watermark, 'succeeded'),
        timings: timings.seconds,
      },
      watermark:
        watermark && plan.mode !== 'event'
          ? {
              value: { updatedDateTime: watermark, runId: ctx.runId, writtenAt: ctx.now().toISOString() },
              etag: previous?.etag,
            }
          : undefined,
    },
    { ...publishOptions(options, ctx), signal },
  );
  ctx.logger.info('sync finished', { ...manifest.counts, durationSeconds: manifest.durationSeconds });
  return manifest;
}

function publishOptions(options: SyncOptions, ctx: RunContext): PublishOptions {
  return { logger: ctx.logger, now: ctx.now, retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS };
}

/** Everything the run publishes, written under names no reader looks at yet. */
interface Staged {
  readonly commits: TableCommit[];
  readonly copies: PublishCopy[];
  readonly deletes: string[];
  readonly latestFiles: FileRecord[];
  readonly vanished?: number;
  readonly newVersions: number;
}

interface StageInput {
  readonly deps: SyncDependencies;
  readonly options: SyncOptions;
  readonly ctx: RunContext;
  readonly plan: ExtractPlan;
  readonly seen: SeenIds;
  readonly files: RunFiles;
  readonly written: readonly FileRecord[];
  readonly superseded: ReadonlyMap<string, Version>;
  readonly runVersions: ReadonlyMap<string, Version> | undefined;
  readonly timings: Timings;
  readonly newTables: ReadonlySet<string>;
  readonly stale: ReadonlySet<string>;
}

/**
 * The run tables' appends (the files just closed), then the history tables' data (what vanished,
 * the versions not yet recorded) and the latest tables' (which replace what vanished reads): one
 * publish commits them all.
 */
async function stageEverything(input: StageInput): Promise<Staged> {
  const { deps, options, ctx, plan, seen, files, written, superseded, timings } = input;
  const { target } = deps;
  const snapshotDate = snapshotDateOf(ctx.started);
  const runCommits = TABLES.map((spec): TableCommit => {
    const file = written.find((f) => f.table === spec.name && f.format === 'parquet');
    if (!file) throw new Error(`the run wrote no Parquet file for ${spec.name}`);
    const ref = { table: spec.name, snapshotDate, runId: ctx.runId };
    const data = newDataFile(
      runTableSchema(spec),
      { path: tableRelativePath(ref, file.path), size: file.bytes, statistics: files.parquetStatistics(spec.name) },
      { [SNAPSHOT_DATE_COLUMN.name]: snapshotDate },
    );
    return { table: spec.name, mode: 'append', files: [data] };
  });
  let vanished: VanishedStaged | undefined;
  if (plan.mode === 'full') {
    const runFolder = partitionFolder({ table: 'referrals', snapshotDate, runId: ctx.runId });
    vanished = await stageVanishedChecked(target, seen, options, ctx, runFolder);
    timings.lap('vanished');
  }
  const versions = await files.stageVersions();
  timings.lap('versions');
  const latest = await stageLatest({
    target,
    runId: ctx.runId,
    mode: plan.mode,
    runFiles: written,
    runStatistics: (table) => files.parquetStatistics(table),
    superseded,
    changedIds: input.runVersions
      ? new Set([...input.runVersions.keys()].filter((id) => !input.stale.has(id)))
      : undefined,
    stale: input.stale,
    newTables: input.newTables,
  });
  timings.lap('latest');
  const history = [versions.commit, vanished?.commit].filter((c): c is TableCommit => c !== undefined);
  return {
    commits: [...runCommits, ...history, ...latest.commits],
    copies: [...(versions.copy ? [versions.copy] : []), ...latest.copies],
    deletes: latest.deletes,
    latestFiles: latest.records,
    vanished: vanished?.rows,
    newVersions: versions.rows,
  };
}

/**
 * Every Delta table the run will commit to must have a log this writer can follow: a corrupt or
 * foreign log (bad JSON, a missing version, a newer protocol) stops the run before it writes
 * anything (even a stopped run's publish), with the error naming the file. Returns the tables that
 * have no log yet.
 */
async function checkTableLogs(target: StorageTarget): Promise<Set<string>> {
  const snapshots = await Promise.all(DELTA_TABLES.map((table) => readSnapshot(target, table.root)));
  return new Set(snapshots.filter((s) => s.version < 0).map((s) => s.tableRoot));
}

/**
 * After a full run: refuses it when it would vanish too much of the latest table (ShrinkRefusedError,
 * nothing published), else stages what vanished for referrals_vanished, before the latest tables
 * (whose previous rows it reads) are replaced.
 */
async function stageVanishedChecked(
  target: StorageTarget,
  seen: SeenIds,
  options: SyncOptions,
  ctx: RunContext,
  runFolder: string,
): Promise<VanishedStaged> {
  const input = {
    target,
    previousLatest: await previousLatestNdjson(target, 'referrals'),
    found: (id: string) => seen.has(id),
  };
  const count = await countVanished(input);
  checkShrink(count, options.maxVanishFraction ?? DEFAULT_MAX_VANISH_FRACTION, options.allowShrink ?? false, runFolder);
  if (count.vanished === 0) return { rows: 0 };
  const staged = await stageVanished({ ...input, runId: ctx.runId, vanishedAtMicros: ctx.started.getTime() * 1000 });
  ctx.logger.info('referrals no longer in the book go to referrals_vanished', {
    vanished: staged.rows,
    of: count.previous,
  });
  return staged;
}

/** What the lake gathers that no table's retention covers, cleared under the lease before the run. */
async function keepHouse(target: StorageTarget, lease: RunLease, mode: SyncMode, ctx: RunContext): Promise<void> {
  await sweepTemporaryFiles(target, lease, ctx.logger);
  // Not on the events' path, which a listing would only slow: the scheduled runs keep up with a day's lifetime.
  if (mode !== 'event') await removeExpiredIdempotencyRecords(target, lease.signal, ctx);
}

/** The write routes' Idempotency-Key records live a day; past it they only take space. */
async function removeExpiredIdempotencyRecords(
  target: StorageTarget,
  signal: AbortSignal,
  ctx: RunContext,
): Promise<void> {
  try {
    const removed = await new IdempotencyStore(target, () => ctx.now().getTime()).removeExpired(signal);
    if (removed > 0) ctx.logger.info('deleted expired Idempotency-Key records', { records: removed });
  } catch (error) {
    ctx.logger.warn('could not delete expired Idempotency-Key records', { error });
  }
}

/**
 * A run killed mid-write leaves its files as temp files in a folder lake (gigabytes, for a large
 * pull). They are swept under the lease, so no other sync is writing, and only once unchanged for a
 * lease duration, so a writer still at work (a token cache update, a lease contender) keeps its own.
 * A failed sweep costs disk space, not the run.
 */
async function sweepTemporaryFiles(target: StorageTarget, lease: RunLease, logger: Logger): Promise<void> {
  if (!target.sweepTemporaryFiles) return;
  try {
    const swept = await target.sweepTemporaryFiles(lease.durationMs, { signal: lease.signal });
    if (swept.length === 0) return;
    logger.info('swept temporary files that interrupted writes left', {
      files: swept.length,
      bytes: swept.reduce((sum, file) => sum + file.size, 0),
      paths: swept.slice(0, 20).map((file) => file.path),
    });
  } catch (error) {
    logger.warn('could not sweep temporary files', { error });
  }
}

async function makePlan(
  deps: SyncDependencies,
  options: SyncOptions,
  watermark: string | undefined,
  logger: Logger,
): Promise<ExtractPlan> {
  if (options.mode === 'event') return planEvent(options.referralIds ?? []);
  if (options.mode === 'incremental') {
    if (watermark) {
      const since = new Date(Date.parse(watermark) - options.overlapMs).toISOString();
      return planIncremental(canonicalTimestamp(since) ?? since, { pageSize: options.pageSize });
    }
    logger.info('no watermark yet: this incremental run pulls everything');
  }
  const ranges =
    options.concurrency > 1 ? options.concurrency * (options.rangesPerWorker ?? DEFAULT_RANGES_PER_WORKER) : 1;
  const bounds = ranges > 1 ? await probeBounds(deps.client, options.rangeField) : undefined;
  return planFull({ pageSize: options.pageSize, rangeField: options.rangeField, ranges, bounds });
}

/** The oldest and newest value of the range field: two one-item pages. */
async function probeBounds(
  client: PartnerCenterClient,
  field: 'createdDateTime' | 'updatedDateTime',
): Promise<{ min: string; max: string } | undefined> {
  const edge = async (direction: 'asc' | 'desc') => {
    const pages = client.listReferrals({ top: 1, orderBy: { field, direction } }).pages()[Symbol.asyncIterator]();
    const first = await pages.next();
    await pages.return?.(undefined);
    const value = (first.value?.referrals[0] as Record<string, unknown> | undefined)?.[field];
    return typeof value === 'string' ? canonicalTimestamp(value) : undefined;
  };
  const [min, max] = await Promise.all([edge('asc'), edge('desc')]);
  return min && max ? { min, max } : undefined;
}

/**
 * After a full run, referrals updated while it paged may have been missed (an update can move one
 * behind the cursor), so the watermark is the run's start unless everything seen is older; after an
 * incremental run, the newest updatedDateTime seen.
 */
function nextWatermark(
  mode: SyncMode,
  newestSeen: string,
  started: Date,
  previous: string | undefined,
): string | undefined {
  // An event run sees a few referrals: their newest updatedDateTime says nothing of the others.
  if (mode === 'event') return previous;
  const startedAt = canonicalTimestamp(started.toISOString()) ?? '';
  const candidate = mode === 'full' ? (newestSeen && newestSeen < startedAt ? newestSeen : startedAt) : newestSeen;
  if (!candidate) return previous;
  return previous && previous > candidate ? previous : candidate;
}

/**
 * A referral's id and version as its rows will hold them (so latest.ts finds the copies the dedupe
 * judged), and the text of its updatedDateTime. The watermark follows the newest known version
 * only: text the lake cannot hold (9999-12-31…) would set it where no later update can reach.
 */
function identify(referral: unknown): { id?: string; version: Version; updatedText?: string } {
  const raw = typeof referral === 'object' && referral !== null ? (referral as { updatedDateTime?: unknown }) : {};
  return {
    id: referralIdOf(referral),
    version: referralVersion(referral),
    updatedText: typeof raw.updatedDateTime === 'string' ? raw.updatedDateTime : undefined,
  };
}

/** How many ids were met, and the first few of them: enough for a log line whatever the count. */
class IdSample {
  count = 0;
  readonly ids: string[] = [];

  add(id: string): void {
    if (this.count++ < 20) this.ids.push(id);
  }
}

/** Seconds spent in each phase of the run, for the manifest. */
class Timings {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();

  lap(phase: string): void {
    const now = performance.now();
    this.seconds[phase] = Math.round(now - this.last) / 1000;
    this.last = now;
  }
}

function anySignal(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 0 ? undefined : AbortSignal.any(present);
}

function summarize(
  deps: SyncDependencies,
  options: SyncOptions,
  ctx: RunContext,
  plan: ExtractPlan,
  counts: RunCounts,
  files: RunManifest['files'],
  latest: RunManifest['latest'],
  watermark: string | undefined,
  status: RunManifest['status'],
): RunManifest {
  const manifest: RunManifest = {
    runId: ctx.runId,
    status,
    mode: plan.mode,
    schemaVersion: SCHEMA_VERSION,
    schemaFingerprint: schemaFingerprint(),
    snapshotDate: snapshotDateOf(ctx.started),
    startedAt: ctx.started.toISOString(),
    finishedAt: ctx.started.toISOString(),
    durationSeconds: 0,
    referralsPerSecond: 0,
    source: {
      apiBaseUrl: deps.apiBaseUrl,
      query: plan.description,
      ranges: plan.queries.length,
      concurrency: options.concurrency,
      correlationId: deps.client.correlationId,
    },
    counts,
    client: clientSummary(deps.client.stats),
    files,
    latest,
    watermark,
  };
  return finishedAt(manifest, ctx.now());
}

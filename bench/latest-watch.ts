/**
 * Watches referrals_latest in an Azurite lake from outside, as another reader of the lake would:
 * the Blob SDK lists the table's `_delta_log/` every `intervalMs`; a new commit is brought to a local
 * folder with the data files it names, and the tests' Delta replay (test/helpers/delta-replay.ts,
 * written from the Delta protocol, not from the writer's code) with DuckDB reads the rows. Nothing of
 * the app's lake code reads here.
 *
 * `landed(id, updatedMs)` resolves with the moment (performance.now()) of the first listing that
 * showed a version of the table whose row for the referral has that updatedDateTime or a later one:
 * when a reader polling this often would first see it, so never early, at most one interval plus a
 * listing late.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ContainerClient } from '@azure/storage-blob';
import { replayDeltaTable } from '../test/helpers/delta-replay.js';
import { type DuckDb, openDuckDb } from '../test/helpers/duckdb.js';

const TABLE = 'referrals_latest';
const LOG_FILE = /^\d{20}\.(json|checkpoint\.parquet)$/;

interface Waiter {
  readonly id: string;
  readonly updatedMs: number;
  readonly resolve: (seenAt: number) => void;
  readonly reject: (error: unknown) => void;
}

export class LatestWatch {
  /** Versions of the table as first seen: version and the moment its listing answered. */
  readonly versions: { version: number; seenAt: number }[] = [];
  private readonly have = new Set<string>();
  private readonly waiting = new Set<Waiter>();
  /** Listings and reads, one at a time (one DuckDB connection, one local copy). */
  private serial: Promise<void> = Promise.resolve();
  private stopped = false;
  /** A re-check of the newest version seen is queued and has not started: waiters added now join it. */
  private recheckQueued = false;
  private loop: Promise<void> | undefined;
  private failure: unknown;

  private constructor(
    private readonly container: ContainerClient,
    private readonly dir: string,
    private readonly duck: DuckDb,
    private readonly intervalMs: number,
  ) {}

  /** Starts watching; the first listing has been read (and the table's current version taken) when this resolves. */
  static async start(options: {
    connectionString: string;
    container: string;
    dir: string;
    intervalMs: number;
  }): Promise<LatestWatch> {
    const container = new ContainerClient(options.connectionString, options.container);
    const watch = new LatestWatch(container, options.dir, await openDuckDb(), options.intervalMs);
    await watch.poll();
    watch.loop = watch.run();
    return watch;
  }

  /** The table's newest version seen so far (-1: none yet). */
  get currentVersion(): number {
    return this.versions.at(-1)?.version ?? -1;
  }

  /**
   * When the referral's row first showed `updatedMs` (epoch ms) or later, as performance.now(). A
   * version seen before the call counts too (the change may have landed while its time was looked up).
   */
  landed(id: string, updatedMs: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const landed = new Promise<number>((resolve, reject) => this.waiting.add({ id, updatedMs, resolve, reject }));
    const seen = this.versions.at(-1);
    // One re-check serves every waiter added before it starts (a burst adds a thousand at once).
    if (seen && !this.recheckQueued) {
      this.recheckQueued = true;
      void this.exclusive(() => {
        this.recheckQueued = false;
        return this.check(seen.version, seen.seenAt);
      });
    }
    return landed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.serial;
    this.duck.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.failure) {
      const began = performance.now();
      await this.exclusive(() => this.poll());
      await delay(Math.max(0, this.intervalMs - (performance.now() - began)));
    }
  }

  /** Runs `work` after whatever runs now; a failure stops the watch and fails every waiter. */
  private exclusive(work: () => Promise<void>): Promise<void> {
    this.serial = this.serial.then(async () => {
      if (this.failure) return;
      try {
        await work();
      } catch (error) {
        this.failure = error;
        for (const waiter of this.waiting) waiter.reject(error);
        this.waiting.clear();
      }
    });
    return this.serial;
  }

  /** One listing: new log files brought over; a new version read for the referrals awaited. */
  private async poll(): Promise<void> {
    const names: string[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix: `${TABLE}/_delta_log/` })) {
      const name = blob.name.slice(`${TABLE}/`.length);
      if (LOG_FILE.test(name.slice('_delta_log/'.length))) names.push(name);
    }
    const seenAt = performance.now();
    await Promise.all(names.map((name) => this.download(name)));
    const newest = Math.max(
      -1,
      ...names.filter((n) => n.endsWith('.json')).map((n) => Number.parseInt(n.slice('_delta_log/'.length), 10)),
    );
    if (newest <= this.currentVersion) return;
    this.versions.push({ version: newest, seenAt });
    if (this.waiting.size > 0) await this.check(newest, seenAt);
  }

  private async check(version: number, seenAt: number): Promise<void> {
    if (this.waiting.size === 0) return;
    const tableDir = join(this.dir, TABLE);
    const { active } = await replayDeltaTable(tableDir, this.duck, version);
    await Promise.all([...active.keys()].map((path) => this.download(path)));
    const files = [...active.keys()].map((path) => `'${join(tableDir, path).replaceAll("'", "''")}'`);
    const ids = [...new Set([...this.waiting].map((w) => `'${w.id.replaceAll("'", "''")}'`))];
    const rows = await this.duck.query(
      `SELECT referral_id, epoch_ms(_source_updated_date_time) AS at FROM read_parquet([${files.join(', ')}]) ` +
        `WHERE referral_id IN (${ids.join(', ')})`,
    );
    const at = new Map(rows.map((row) => [String(row.referral_id), Number(row.at)]));
    for (const waiter of [...this.waiting]) {
      if ((at.get(waiter.id) ?? Number.NEGATIVE_INFINITY) >= waiter.updatedMs) {
        this.waiting.delete(waiter);
        waiter.resolve(seenAt);
      }
    }
  }

  /** A file of the table (path relative to its folder) into the local copy, once: Delta never rewrites one. */
  private async download(path: string): Promise<void> {
    if (this.have.has(path)) return;
    const local = join(this.dir, TABLE, ...path.split('/'));
    await mkdir(dirname(local), { recursive: true });
    await writeFile(local, await this.container.getBlobClient(`${TABLE}/${path}`).downloadToBuffer());
    this.have.add(path);
  }
}

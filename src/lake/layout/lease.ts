/**
 * One sync at a time: a lease kept as a small state file (`_state/sync.lease.json`) and taken,
 * renewed and released only by conditional writes (create-if-absent, replace-if-ETag-matches). The
 * same code then guards a Blob container and a local folder, and two instances — or the timer and a
 * CLI run — cannot both believe they hold it. A crashed holder stops renewing, so its lease expires
 * and the next run takes over.
 *
 * Why not a native blob lease: it exists only on Blob Storage (not on the local target), lasts at
 * most 60 s unless infinite (and an infinite one outlives a crash), and needs the same renew loop.
 */
import { hostname } from 'node:os';
import { AlreadyRunningError } from '../../common/errors.js';
import type { StorageTarget } from '../storage/storage.js';
import { statePath } from './paths.js';

export const SYNC_LEASE_PATH = statePath('sync.lease.json');

interface LeaseBody {
  readonly runId: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  /** Epoch ms after which anyone may take the lease over. */
  readonly expiresAt: number;
  readonly released?: boolean;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal. */
  readonly durationMs?: number;
  readonly now?: () => number;
}

export class RunLease {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** The renewal under way, if any: one at a time, and release() waits for it. */
  private renewing: Promise<void> | undefined;

  private constructor(
    private readonly target: StorageTarget,
    private readonly path: string,
    private body: LeaseBody,
    private etag: string,
    /** How long the lease lasts without renewal. */
    readonly durationMs: number,
    private readonly now: () => number,
  ) {}

  /** Aborted when the lease was lost (renewal failed): the run must stop publishing. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  static async acquire(
    target: StorageTarget,
    runId: string,
    options: LeaseOptions & { path?: string } = {},
  ): Promise<RunLease> {
    const path = options.path ?? SYNC_LEASE_PATH;
    const now = options.now ?? Date.now;
    const durationMs = options.durationMs ?? 60_000;
    const body: LeaseBody = {
      runId,
      host: hostname(),
      pid: process.pid,
      acquiredAt: new Date(now()).toISOString(),
      expiresAt: now() + durationMs,
    };
    const encoded = encode(body);
    const created = await target.createIfAbsent(path, encoded);
    if (created.created) return new RunLease(target, path, body, created.etag, durationMs, now).startRenewing();
    const current = await target.read(path);
    if (current) {
      const holder = decode(current.body);
      if (holder && !holder.released && holder.expiresAt > now()) {
        throw new AlreadyRunningError(
          `Another sync is already running (run ${holder.runId} on ${holder.host}, lease until ${new Date(holder.expiresAt).toISOString()})`,
        );
      }
      const taken = await target.replaceIfMatch(path, encoded, current.etag);
      if (taken.replaced) return new RunLease(target, path, body, taken.etag, durationMs, now).startRenewing();
    }
    // The file changed between our read and our write (or vanished): someone else just took it.
    throw new AlreadyRunningError('Another sync is already running: it took the lease at the same moment');
  }

  /** Gives the lease up, so the next run need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.renewing;
    if (this.controller.signal.aborted) return;
    await this.target.replaceIfMatch(this.path, encode({ ...this.body, released: true, expiresAt: 0 }), this.etag);
  }

  private startRenewing(): this {
    this.timer = setInterval(() => {
      if (this.renewing) return;
      this.renewing = this.renew()
        .catch((error: unknown) => this.onRenewFailed(error))
        .finally(() => {
          this.renewing = undefined;
        });
    }, this.durationMs / 3);
    this.timer.unref();
    return this;
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * A lease taken over is lost for good; a storage error is not, while the lease has time left: the
   * next tick tries again. Only when it has expired does the run stop.
   */
  private onRenewFailed(error: unknown): void {
    if (error instanceof AlreadyRunningError || this.now() >= this.body.expiresAt) {
      this.stopRenewing();
      this.controller.abort(error);
    }
  }

  private async renew(): Promise<void> {
    const next = { ...this.body, expiresAt: this.now() + this.durationMs };
    const result = await this.target.replaceIfMatch(this.path, encode(next), this.etag);
    if (!result.replaced) {
      this.stopRenewing();
      throw new AlreadyRunningError('The sync lease was taken over by another run');
    }
    this.body = next;
    this.etag = result.etag;
  }
}

function encode(body: LeaseBody): Buffer {
  return Buffer.from(`${JSON.stringify(body)}\n`, 'utf8');
}

function decode(bytes: Buffer): LeaseBody | undefined {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as Partial<LeaseBody>;
    return typeof parsed.expiresAt === 'number' && typeof parsed.runId === 'string' ? (parsed as LeaseBody) : undefined;
  } catch {
    // An unreadable lease file is treated as expired: better than blocking every run forever.
    return undefined;
  }
}

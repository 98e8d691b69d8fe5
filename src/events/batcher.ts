/**
 * Events into event runs, at most one run per flush interval. The Node queue trigger hands the
 * worker one message per invocation (there is no batch mode); each invocation submits its referral
 * and waits. The batcher runs one event run for every referral waiting:
 * - at once when the previous run started at least an interval ago (a lone event lands fast), after
 *   a short gather (`gatherMs`, default a tenth of the interval, at most 1 s),
 * - else when the interval since that start is over (a burst of 1,000 events makes a few runs);
 * events that arrive while a run works wait for the next one.
 * The gather is for backlogs: when a run took longer than the interval, the host fetches the next
 * messages together but hands them over one invocation at a time, milliseconds apart. Without it the
 * first would start a run alone and the rest wait a whole interval behind it (runs of 1, ~230, 1,
 * ~230…: half the throughput); with it they join the first one's run.
 * Each submission settles with the run that took it: resolved once that run has published, rejected
 * with its error (the host then retries the message, and after maxDequeueCount parks it in the poison
 * queue). A run that published all but a few referrals (Partner Center kept failing for those)
 * rejects only their submissions. A run the lake's lease refuses (a scheduled sync is writing) is tried again after an
 * interval, up to `maxWaitMs`, rather than failing every waiting event at once.
 */
import { AlreadyRunningError } from '../common/errors.js';
import type { Logger } from '../common/log.js';

export interface BatcherOptions {
  /**
   * One event run for these referral ids (distinct), logging to a waiting invocation's logger;
   * returns the referrals it had to leave out, with why (their events are then retried).
   */
  readonly run: (referralIds: string[], logger: Logger | undefined) => Promise<ReadonlyMap<string, Error> | undefined>;
  /** EVENTS_FLUSH_SECONDS, in ms. */
  readonly intervalMs: number;
  /**
   * How long a run that could start at once waits for more events first, so that those the host
   * hands over just after the first join its run; default `min(1000, intervalMs / 10)`.
   */
  readonly gatherMs?: number;
  /** How long a run may wait for a busy lake before its events fail (then the host retries them). */
  readonly maxWaitMs: number;
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface Waiting {
  readonly referralId: string;
  /** The waiting invocation's logger: open until this settles, so the run can log through it. */
  readonly logger?: Logger;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class EventBatcher {
  private waiting: Waiting[] = [];
  private lastStart = Number.NEGATIVE_INFINITY;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: BatcherOptions) {}

  /** Settles when the run that takes this referral has published (or failed). */
  submit(referralId: string, logger?: Logger): Promise<void> {
    const settled = new Promise<void>((resolve, reject) => this.waiting.push({ referralId, logger, resolve, reject }));
    this.kick();
    return settled;
  }

  /** Starts draining unless a drain runs; one that ends just as an event comes in starts another. */
  private kick(): void {
    if (this.loop) return;
    this.loop = this.drain().finally(() => {
      this.loop = undefined;
      if (this.waiting.length > 0) this.kick();
    });
  }

  /**
   * Runs until nothing waits: each turn waits out the interval (or, when it is over already, the
   * gather), then takes everything waiting.
   */
  private async drain(): Promise<void> {
    const now = this.options.now ?? Date.now;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const gatherMs = this.options.gatherMs ?? Math.min(1000, this.options.intervalMs / 10);
    while (this.waiting.length > 0) {
      const due = this.lastStart + this.options.intervalMs - now();
      await sleep(due > 0 ? due : gatherMs);
      const batch = this.waiting;
      this.waiting = [];
      this.lastStart = now();
      await this.runBatch(batch, now, sleep);
    }
  }

  private async runBatch(batch: Waiting[], now: () => number, sleep: (ms: number) => Promise<void>): Promise<void> {
    const ids = [...new Set(batch.map((w) => w.referralId))];
    const started = now();
    for (;;) {
      try {
        const left = await this.options.run(ids, batch[0]?.logger);
        for (const waiting of batch) {
          const error = left?.get(waiting.referralId);
          if (error) waiting.reject(error);
          else waiting.resolve();
        }
        return;
      } catch (error) {
        const busy =
          error instanceof AlreadyRunningError && now() - started + this.options.intervalMs <= this.options.maxWaitMs;
        if (!busy) {
          for (const waiting of batch) waiting.reject(error);
          return;
        }
        this.options.logger?.info('the lake is busy with another run; the events wait for it', {
          referrals: ids.length,
          waitedSeconds: Math.round((now() - started) / 1000),
        });
        await sleep(this.options.intervalMs);
      }
    }
  }
}

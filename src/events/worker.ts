/**
 * The queue worker's logic, host-free: a queued event names a referral; the batcher gathers the
 * events of this process into event runs (runSyncJob, mode `event`: fetched by id, written through
 * the same normalizer and writers, under the same lease as the scheduled sync). A message that can
 * never be processed (not an event this receiver queued) goes to the poison queue at once with its
 * reason; one whose run fails is given back to the host, which retries it and, after
 * maxDequeueCount tries (host.json), moves it to the poison queue itself.
 */
import type { Logger } from '../common/log.js';
import { loadEventsConfig } from '../config.js';
import type { RunManifest } from '../sync/manifest.js';
import { EventBatcher } from './batcher.js';
import { createEventQueue, type EventQueue } from './queue.js';

/** What the receiver queues for each referral event. */
export interface QueuedEvent {
  readonly eventName: string;
  readonly referralId: string;
  /** ResourceChangeUtcDate, canonical; absent when the event had none. */
  readonly changedAt?: string;
  readonly receivedAt?: string;
}

const REFERRAL_ID = /^[0-9A-Za-z][0-9A-Za-z-]{0,63}$/;

/** The queued event, or a TypeError saying what is wrong with the message (never echoing it). */
export function parseQueuedEvent(body: unknown): QueuedEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('not a JSON object');
  const { eventName, referralId, changedAt, receivedAt } = body as Record<string, unknown>;
  if (typeof eventName !== 'string' || eventName === '') throw new TypeError('no eventName');
  if (typeof referralId !== 'string' || !REFERRAL_ID.test(referralId)) throw new TypeError('no usable referralId');
  return {
    eventName,
    referralId,
    ...(typeof changedAt === 'string' ? { changedAt } : {}),
    ...(typeof receivedAt === 'string' ? { receivedAt } : {}),
  };
}

export interface WorkerDependencies {
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * One event run for these referrals (runSyncJob in the app; a stand-in in tests), telling
   * `onFailed` of each referral Partner Center kept failing for (left out of the run).
   */
  readonly runEvents: (
    referralIds: string[],
    logger: Logger,
    onFailed: (id: string, error: Error) => void,
  ) => Promise<RunManifest>;
  /** The events queue, for parking; made from the settings when absent. */
  readonly queue?: EventQueue<unknown>;
  /** How long a run may wait for a busy lake; default 10 minutes. */
  readonly maxWaitMs?: number;
}

export class EventWorker {
  private readonly batcher: EventBatcher;
  private queue: Promise<EventQueue<unknown>> | undefined;

  constructor(private readonly deps: WorkerDependencies) {
    const config = loadEventsConfig(deps.env);
    if (deps.queue) this.queue = Promise.resolve(deps.queue);
    this.batcher = new EventBatcher({
      intervalMs: config.flushMs,
      maxWaitMs: deps.maxWaitMs ?? 10 * 60_000,
      run: (ids, logger) => this.run(ids, logger),
    });
  }

  /** One queued message; resolves once the run that took its referral has published. */
  async handle(message: unknown, logger: Logger, dequeueCount = 1): Promise<void> {
    let event: QueuedEvent;
    try {
      event = parseQueuedEvent(message);
    } catch (error) {
      const reason = `not a referral event this app queued: ${(error as Error).message}`;
      logger.error('parked a queue message that can never be processed', { reason });
      await (await this.eventQueue()).park(message, reason);
      return;
    }
    try {
      await this.batcher.submit(event.referralId, logger);
    } catch (error) {
      logger.warn('the event run failed; the message goes back to the queue', {
        referralId: event.referralId,
        dequeueCount,
        error,
      });
      throw error;
    }
  }

  private async run(ids: string[], logger: Logger | undefined): Promise<ReadonlyMap<string, Error>> {
    if (!logger) throw new Error('no invocation to log for');
    const failed = new Map<string, Error>();
    const manifest = await this.deps.runEvents(ids, logger, (id, error) => failed.set(id, error));
    logger.info('event run summary', { summary: manifest });
    return failed;
  }

  private eventQueue(): Promise<EventQueue<unknown>> {
    this.queue ??= createEventQueue(loadEventsConfig(this.deps.env));
    return this.queue;
  }
}

/**
 * The extract stage: runs the plan's listings side by side (at most `concurrency` at a time, fewer
 * while Partner Center throttles) and hands their pages to one consumer as they arrive. A bounded
 * buffer between them is the backpressure: fetchers wait when the writer is behind, so memory holds
 * a few pages, never the result.
 */
import { canonicalTimestamp } from '../common/time.js';
import type { ListQuery, OrderByField } from '../odata/ast.js';
import type { PartnerCenterClient, ReferralPage } from '../source/client.js';
import { type ExtractPlan, type Range, rangeQuery } from './plan.js';

export interface ExtractOptions {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Pages waiting for the consumer before fetchers pause. */
  readonly bufferPages?: number;
}

export interface ExtractedPage extends ReferralPage {
  /** Which listing the page answers: a plan query's index, or a later number for a split-off half. */
  readonly range: number;
}

/**
 * Additive increase, multiplicative decrease: a 429 halves how many listings may fetch at once;
 * every 20 pages without one let another back in.
 */
export class AdaptiveLimit {
  private active = 0;
  private waiters: Array<() => void> = [];
  private quietPages = 0;

  constructor(
    private readonly max: number,
    private allowed = max,
  ) {}

  get current(): number {
    return this.allowed;
  }

  async acquire(): Promise<void> {
    while (this.active >= this.allowed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
  }

  release(): void {
    this.active--;
    this.waiters.shift()?.();
  }

  throttled(): void {
    this.allowed = Math.max(1, Math.floor(this.allowed / 2));
    this.quietPages = 0;
  }

  pageDone(): void {
    if (++this.quietPages < 20 || this.allowed >= this.max) return;
    this.allowed++;
    this.quietPages = 0;
    this.waiters.shift()?.();
  }
}

export interface ExtractInput {
  readonly queries: readonly ListQuery[];
  /** Range plans only: the bounds of each query, which lets an idle fetcher split a long range. */
  readonly ranges?: ExtractPlan['ranges'];
}

/** One listing being fetched: a plan query, or the back half of a range split off another. */
interface Task {
  readonly id: number;
  readonly query: ListQuery;
  readonly range?: { readonly from?: string; to?: string };
  /** Set when the back half was split off: this listing stops before it. */
  stopAt?: string;
  /** The range field's value of the last referral taken, and how many were taken. */
  lastSeen?: string;
  taken: number;
  done: boolean;
}

export async function* extractPages(
  client: PartnerCenterClient,
  input: ExtractInput | readonly ListQuery[],
  options: ExtractOptions,
): AsyncGenerator<ExtractedPage> {
  const plan: ExtractInput = 'queries' in input ? input : { queries: input };
  const width = Math.max(1, Math.min(options.concurrency, plan.queries.length));
  const limit = new AdaptiveLimit(width);
  const buffer = new PageChannel<ExtractedPage>(options.bufferPages ?? Math.max(2, options.concurrency * 2));
  const scheduler = new Scheduler(plan);
  // Stops every fetcher (and its in-flight request) once the consumer is gone or a fetcher failed.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const worker = async () => {
    while (!buffer.isEnded) {
      const task = scheduler.next();
      if (task === 'wait') await scheduler.progress();
      else if (task) await fetchRange(client, task, plan.ranges?.field, limit, buffer, signal, scheduler);
      else return;
    }
  };
  const workers = Promise.allSettled(Array.from({ length: width }, worker)).then((results) => {
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !stop.signal.aborted) buffer.fail(failed.reason);
    else buffer.end();
  });
  try {
    yield* buffer;
  } finally {
    stop.abort(new Error('extraction stopped'));
    buffer.end();
    scheduler.noteProgress();
    await workers;
  }
}

/**
 * Hands out listings: the plan's ranges first (newest first: books grow, so recent ranges are the
 * long ones), then, to a fetcher that would sit idle, the untouched back half of the longest range
 * still running. Range sizes are unknown up front; splitting while running keeps every fetcher busy
 * to the end instead of waiting on the one long range.
 */
class Scheduler {
  private readonly pending: Task[];
  private readonly running = new Set<Task>();
  private nextId: number;

  constructor(private readonly plan: ExtractInput) {
    this.pending = plan.queries.map((query, id) => newTask(id, query, plan.ranges?.bounds[id])).reverse();
    this.nextId = plan.queries.length;
  }

  private waiters: Array<() => void> = [];

  /** A listing to fetch; 'wait' while others run that may yet be split; undefined when all is done. */
  next(): Task | 'wait' | undefined {
    for (const task of this.running) if (task.done) this.running.delete(task);
    const task = this.pending.shift() ?? this.split();
    if (task) {
      this.running.add(task);
      return task;
    }
    return this.plan.ranges && this.running.size > 0 ? 'wait' : undefined;
  }

  /** Resolves at the next page or end of any listing (when a split may have become worth it). */
  progress(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  noteProgress(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private split(): Task | undefined {
    const ranges = this.plan.ranges;
    if (!ranges) return undefined;
    let best: { task: Task; from: number; to: number } | undefined;
    for (const task of this.running) {
      if (task.done || !task.range || !task.lastSeen) continue;
      const from = Date.parse(task.lastSeen);
      const to = Date.parse(task.stopAt ?? task.range.to ?? ranges.max);
      const pageSize = task.query.top ?? 100;
      // Only worth it when the rest, at the density seen so far, is more than two pages.
      const seenSpan = from - Date.parse(task.range.from ?? ranges.min);
      const expected = seenSpan > 0 ? (task.taken / seenSpan) * (to - from) : 0;
      if (to - from > 1 && expected > 2 * pageSize && (!best || to - from > best.to - best.from))
        best = { task, from, to };
    }
    if (!best) return undefined;
    const middle = `${new Date(Math.floor((best.from + best.to) / 2)).toISOString().slice(0, 23)}0000Z`;
    const back = { from: middle, to: best.task.stopAt ?? best.task.range?.to };
    best.task.stopAt = middle;
    return newTask(this.nextId++, rangeQuery(ranges.field, back, best.task.query.top ?? 100), back);
  }
}

function newTask(id: number, query: ListQuery, range: Range | undefined): Task {
  return { id, query, range: range ? { ...range } : undefined, taken: 0, done: false };
}

async function fetchRange(
  client: PartnerCenterClient,
  task: Task,
  field: OrderByField | undefined,
  limit: AdaptiveLimit,
  buffer: PageChannel<ExtractedPage>,
  signal: AbortSignal | undefined,
  scheduler: Scheduler,
): Promise<void> {
  const pages = client
    .listReferrals(task.query, { signal, onThrottled: () => limit.throttled() })
    .pages()
    [Symbol.asyncIterator]();
  try {
    while (!buffer.isEnded) {
      await limit.acquire();
      let step: IteratorResult<ReferralPage>;
      try {
        step = await pages.next();
      } finally {
        limit.release();
      }
      if (step.done) return;
      limit.pageDone();
      const { kept, reachedStop } = cutAtStop(step.value.referrals, field, task);
      scheduler.noteProgress();
      if (!(await buffer.push({ ...step.value, referrals: kept, range: task.id }))) return;
      if (reachedStop) return;
    }
  } finally {
    task.done = true;
    scheduler.noteProgress();
    await pages.return?.(undefined);
  }
}

/** Keeps the referrals before the task's stop (the split-off half fetches the rest), and notes progress. */
function cutAtStop(
  referrals: readonly unknown[],
  field: OrderByField | undefined,
  task: Task,
): { kept: readonly unknown[]; reachedStop: boolean } {
  if (!field) return { kept: referrals, reachedStop: false };
  let kept = referrals;
  let reachedStop = false;
  for (const [i, referral] of referrals.entries()) {
    const raw = (referral as Record<string, unknown> | null)?.[field];
    const value = typeof raw === 'string' ? canonicalTimestamp(raw) : undefined;
    if (value === undefined) continue;
    if (task.stopAt !== undefined && value >= task.stopAt) {
      kept = referrals.slice(0, i);
      reachedStop = true;
      break;
    }
    task.lastSeen = value;
  }
  task.taken += kept.length;
  return { kept, reachedStop };
}

/** A bounded async queue: push waits while full; iteration ends at end() or throws at fail(). */
class PageChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private error: unknown;
  private failed = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducers: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** False when the consumer has gone away and the producer should stop. */
  async push(item: T): Promise<boolean> {
    while (this.items.length >= this.capacity && !this.ended) {
      await new Promise<void>((resolve) => this.wakeProducers.push(resolve));
    }
    if (this.ended) return false;
    this.items.push(item);
    this.wake();
    return true;
  }

  end(): void {
    this.ended = true;
    this.wake();
    for (const resolve of this.wakeProducers.splice(0)) resolve();
  }

  fail(error: unknown): void {
    this.failed = true;
    this.error = error;
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.wakeProducers.shift()?.();
        yield item;
        continue;
      }
      if (this.failed) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
  }

  private wake(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }
}

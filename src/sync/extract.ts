/**
 * The extract stage: runs the plan's listings side by side (at most `concurrency` at a time, fewer
 * while Partner Center throttles) and hands their pages to one consumer as they arrive. A bounded
 * buffer between them is the backpressure: fetchers wait when the writer is behind, so memory holds
 * a few pages, never the result.
 */
import type { ListQuery } from '../odata/ast.js';
import type { PartnerCenterClient, ReferralPage } from '../source/client.js';

export interface ExtractOptions {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Pages waiting for the consumer before fetchers pause. */
  readonly bufferPages?: number;
}

export interface ExtractedPage extends ReferralPage {
  /** Which of the plan's queries the page answers. */
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

export async function* extractPages(
  client: PartnerCenterClient,
  queries: readonly ListQuery[],
  options: ExtractOptions,
): AsyncGenerator<ExtractedPage> {
  const limit = new AdaptiveLimit(Math.max(1, Math.min(options.concurrency, queries.length)));
  const buffer = new PageChannel<ExtractedPage>(options.bufferPages ?? Math.max(2, options.concurrency * 2));
  // Newest ranges first: books grow, so recent ranges are the long ones, and a long range started
  // last would leave the other workers idle at the end.
  const pending = queries.map((query, range) => ({ query, range })).reverse();
  const worker = async () => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      await fetchRange(client, next.query, next.range, limit, buffer, options.signal);
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(options.concurrency, queries.length) }, worker)).then(
    () => buffer.end(),
    (error: unknown) => buffer.fail(error),
  );
  try {
    yield* buffer;
  } finally {
    buffer.end();
    await workers.catch(() => {});
  }
}

async function fetchRange(
  client: PartnerCenterClient,
  query: ListQuery,
  range: number,
  limit: AdaptiveLimit,
  buffer: PageChannel<ExtractedPage>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const pages = client
    .listReferrals(query, { signal, onThrottled: () => limit.throttled() })
    .pages()
    [Symbol.asyncIterator]();
  for (;;) {
    await limit.acquire();
    let step: IteratorResult<ReferralPage>;
    try {
      step = await pages.next();
    } finally {
      limit.release();
    }
    if (step.done) return;
    limit.pageDone();
    if (!(await buffer.push({ ...step.value, range }))) {
      await pages.return?.(undefined);
      return;
    }
  }
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

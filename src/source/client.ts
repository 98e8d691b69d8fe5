/**
 * The Partner Center Referrals client shared by the timer sync, the HTTP live list and the CLI.
 * `listReferrals(query)` streams: pages are fetched one at a time as the consumer asks, following
 * `@odata.nextLink` (repaired and origin-pinned) until it is absent, so memory does not grow with
 * the result. Each page request is retried on throttling, 5xx, resets, timeouts and malformed
 * bodies; a 401 gets one fresh token per request.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { BadQueryError, ThrottledError, UpstreamError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';
import { safeUrl } from '../common/redact.js';
import type { ListQuery } from '../odata/ast.js';
import { formatListQuery } from '../odata/format.js';
import type { AccessTokenProvider } from './auth/token-provider.js';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RETRYABLE_STATUSES,
  type RetryPolicy,
  retryDelayMs,
} from './http/retry.js';
import { type Transport, TransportError, type TransportResponse } from './http/transport.js';
import { LIST_PATH, resolveNextLink } from './next-link.js';

export interface ReferralPage {
  /** The referral objects as the API sent them (untrusted JSON: the normalizer checks every value). */
  readonly referrals: readonly unknown[];
  /** 1-based within this listing. */
  readonly pageNumber: number;
  /** The server's Request-ID for the answer that was used. */
  readonly requestId: string | undefined;
  /** `@odata.count` as sent: the page's or the total, depending on the query; never used to stop paging. */
  readonly odataCount: number | undefined;
  /** The repaired, pinned link to the next page; absent on the last page. */
  readonly nextLink: string | undefined;
  readonly bytes: number;
}

export interface ClientStats {
  requests: number;
  retries: number;
  throttled: number;
  throttledWaitMs: number;
  tokenRefreshesAfter401: number;
  pages: number;
  referrals: number;
  bytes: number;
}

export interface PartnerCenterClientOptions {
  readonly apiBaseUrl: string;
  readonly transport: Transport;
  readonly tokens: AccessTokenProvider;
  readonly retry?: RetryPolicy;
  /** Safety cap on pages per listing (a runaway nextLink chain stops here). */
  readonly maxPages?: number;
  readonly logger?: Logger;
  /** Sent as MS-CorrelationId on every request of this client (one per run). */
  readonly correlationId?: string;
  readonly userAgent?: string;
  /** Test seam: how waits happen. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ListOptions {
  readonly signal?: AbortSignal;
  /** Resume from a nextLink an earlier listing returned (the HTTP function's continuation). */
  readonly startAt?: string;
  /** Told of every 429 before its wait (the sync lowers its concurrency). */
  readonly onThrottled?: (waitMs: number) => void;
}

/** A listing: iterate it for referrals, or call pages() for whole pages. */
export interface ReferralListing extends AsyncIterable<unknown> {
  pages(): AsyncIterable<ReferralPage>;
}

const DEFAULT_MAX_PAGES = 100_000;

export class PartnerCenterClient {
  readonly stats: ClientStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    throttledWaitMs: 0,
    tokenRefreshesAfter401: 0,
    pages: 0,
    referrals: 0,
    bytes: 0,
  };
  private readonly apiBase: URL;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  readonly correlationId: string;

  constructor(private readonly options: PartnerCenterClientOptions) {
    this.apiBase = new URL(options.apiBaseUrl);
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.correlationId = options.correlationId ?? randomUUID();
    this.logger = (options.logger ?? silentLogger).child({ correlationId: this.correlationId });
  }

  listReferrals(query: ListQuery = {}, options: ListOptions = {}): ReferralListing {
    const pages = () => this.pages(query, options);
    return {
      pages,
      async *[Symbol.asyncIterator]() {
        for await (const page of pages()) yield* page.referrals;
      },
    };
  }

  /** One referral by id; undefined when Partner Center answers 404. */
  async getReferral(id: string, options: { signal?: AbortSignal } = {}): Promise<unknown | undefined> {
    const url = new URL(`${LIST_PATH}/${encodeURIComponent(id)}`, this.apiBase);
    const answer = await this.fetchJson(url, options.signal, (json) => json, { allowNotFound: true });
    return answer?.value;
  }

  private async *pages(query: ListQuery, options: ListOptions): AsyncGenerator<ReferralPage> {
    const maxPages = this.options.maxPages ?? DEFAULT_MAX_PAGES;
    const seen = new Set<string>();
    let url: URL | undefined = options.startAt
      ? resolveNextLink(options.startAt, this.apiBase)
      : this.firstPageUrl(query);
    for (let pageNumber = 1; url; pageNumber++) {
      if (pageNumber > maxPages) {
        throw new UpstreamError(`Stopped after ${maxPages} pages: the nextLink chain did not end`, {
          url: safeUrl(url),
        });
      }
      seen.add(url.href);
      const answer: Fetched<ODataPage> | undefined = await this.fetchJson(url, options.signal, readPage, {
        onThrottled: options.onThrottled,
      });
      if (!answer) throw new UpstreamError(`Partner Center answered 404 for ${safeUrl(url)}`, { url: safeUrl(url) });
      const page: ODataPage = answer.value;
      const next: URL | undefined =
        page.nextLink === undefined ? undefined : resolveNextLink(page.nextLink, this.apiBase);
      if (next && seen.has(next.href)) {
        throw new UpstreamError(
          `Partner Center repeated an @odata.nextLink at page ${pageNumber}; stopped instead of looping`,
          { url: safeUrl(next), requestId: answer.requestId },
        );
      }
      this.stats.pages++;
      this.stats.referrals += page.value.length;
      this.stats.bytes += answer.bytes;
      yield {
        referrals: page.value,
        pageNumber,
        requestId: answer.requestId,
        odataCount: page.count,
        nextLink: next?.href,
        bytes: answer.bytes,
      };
      url = next;
    }
  }

  private firstPageUrl(query: ListQuery): URL {
    const url = new URL(LIST_PATH, this.apiBase);
    for (const [key, value] of Object.entries(formatListQuery(query))) url.searchParams.set(key, value);
    return url;
  }

  /**
   * GET with the retry policy: the decoded JSON, or undefined for an allowed 404. Decoding happens
   * inside the retried attempt, so a malformed or truncated page is fetched again.
   */
  private async fetchJson<T>(
    url: URL,
    signal: AbortSignal | undefined,
    decode: (json: unknown, url: URL, requestId: string | undefined) => T,
    { allowNotFound = false, onThrottled }: { allowNotFound?: boolean; onThrottled?: (waitMs: number) => void } = {},
  ): Promise<Fetched<T> | undefined> {
    let refreshedAfter401 = false;
    let rejectedToken: string | undefined;
    const began = performance.now();
    const wait = this.options.sleep ?? ((ms: number, s?: AbortSignal) => sleep(ms, undefined, { signal: s }));
    const attempt = async () => {
      const token = await this.options.tokens.getAccessToken({ rejected: rejectedToken }).catch((error: unknown) => {
        // Entra unreachable for a moment is worth another try; a refused sign-in is not.
        throw error instanceof UpstreamError ? markRetryable(error) : error;
      });
      const response = await this.send(url, token, signal);
      const requestId = headerOf(response, 'request-id');
      if (response.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        rejectedToken = token;
        this.stats.tokenRefreshesAfter401++;
        throw new RetryNow(`401 from ${safeUrl(url)}; getting a fresh token`, requestId);
      }
      if (response.status === 404 && allowNotFound) return undefined;
      if (response.status !== 200) throw failureFor(response, url, requestId);
      const value = decode(parseJson(response, url, requestId), url, requestId);
      return { value, requestId, bytes: response.body.length };
    };
    return pRetry(attempt, {
      retries: this.retry.maxAttempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      maxRetryTime: this.retry.maxElapsedMs,
      signal,
      shouldRetry: ({ error }) => isRetryable(error),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!isRetryable(error) || retriesLeft === 0) return;
        const retryAfterMs =
          error instanceof ThrottledError && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : undefined;
        const delay = error instanceof RetryNow ? 0 : retryDelayMs(this.retry, attemptNumber, retryAfterMs);
        // p-retry checks its time budget only after this wait: a Retry-After past the budget fails now.
        const left = this.retry.maxElapsedMs - (performance.now() - began);
        if (delay > left) throw error;
        this.stats.retries++;
        if (error instanceof ThrottledError) {
          this.stats.throttled++;
          this.stats.throttledWaitMs += delay;
          onThrottled?.(delay);
        }
        this.logger.warn('Partner Center request will be retried', {
          url: safeUrl(url),
          attempt: attemptNumber,
          delayMs: Math.round(delay),
          requestId: requestIdOf(error),
          reason: error.message,
        });
        if (delay > 0) await wait(delay, signal);
      },
    }).catch((error: unknown) => {
      throw error instanceof RetryNow
        ? new UpstreamError(`Partner Center refused a fresh token for ${safeUrl(url)} (401)`, {
            url: safeUrl(url),
            status: 401,
            requestId: error.requestId,
          })
        : error;
    });
  }

  private async send(url: URL, token: string, signal: AbortSignal | undefined): Promise<TransportResponse> {
    const msRequestId = randomUUID();
    this.stats.requests++;
    try {
      return await this.options.transport.get(
        url,
        {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'MS-RequestId': msRequestId,
          'MS-CorrelationId': this.correlationId,
          'User-Agent': this.options.userAgent ?? 'referrals-lake',
        },
        { signal },
      );
    } catch (error) {
      if (signal?.aborted) throw new AbortError(error instanceof Error ? error : String(error));
      if (error instanceof TransportError) {
        throw new UpstreamError(error.message, { url: safeUrl(url), requestId: msRequestId }, { cause: error });
      }
      throw error;
    }
  }
}

interface Fetched<T> {
  readonly value: T;
  readonly requestId: string | undefined;
  readonly bytes: number;
}

/** A failure to retry at once, with no wait (the 401 → fresh token case). */
class RetryNow extends Error {
  constructor(
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'RetryNow';
  }
}

const retryable = new WeakSet<Error>();

function markRetryable<E extends Error>(error: E): E {
  retryable.add(error);
  return error;
}

function isRetryable(error: Error): boolean {
  return (
    error instanceof RetryNow ||
    retryable.has(error) ||
    (error instanceof UpstreamError && error.cause instanceof TransportError)
  );
}

function requestIdOf(error: Error): string | undefined {
  if (error instanceof RetryNow || error instanceof ThrottledError) return error.requestId;
  if (error instanceof UpstreamError) return error.details.requestId;
  return undefined;
}

function headerOf(response: TransportResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Maps a non-200 answer onto a typed error; retryable ones are marked so. */
function failureFor(response: TransportResponse, url: URL, requestId: string | undefined): Error {
  const shown = safeUrl(url);
  const { text: detail, target } = errorDetail(response.body);
  const where = `${shown}${requestId ? ` (Request-ID ${requestId})` : ''}`;
  if (response.status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    const seconds = retryAfterMs === undefined ? undefined : retryAfterMs / 1000;
    return markRetryable(new ThrottledError(`Partner Center throttled ${where} (429)`, seconds, requestId));
  }
  if (RETRYABLE_STATUSES.has(response.status)) {
    return markRetryable(
      new UpstreamError(`Partner Center answered ${response.status} for ${where}${detail}`, {
        url: shown,
        status: response.status,
        requestId,
      }),
    );
  }
  if (response.status === 400) {
    return new BadQueryError(target ?? '$filter', `Partner Center rejected the query${detail}`);
  }
  const hint =
    response.status === 403
      ? ': the signed-in user needs the Partner Center role Referrals admin (to see every referral) or Referrals user'
      : response.status === 401
        ? ': the token was refused'
        : '';
  return new UpstreamError(`Partner Center answered ${response.status} for ${where}${hint}${detail}`, {
    url: shown,
    status: response.status,
    requestId,
  });
}

/** The error body's code, message and target, if it has them: `{ error: { code, message, target } }`. */
function errorDetail(body: Buffer): { text: string; target?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      error?: { code?: string; message?: string; target?: string };
    };
    const message = parsed.error?.message;
    if (!message) return { text: '' };
    return { text: `: ${parsed.error?.code ?? 'error'}: ${message.slice(0, 500)}`, target: parsed.error?.target };
  } catch {
    return { text: '' };
  }
}

function parseJson(response: TransportResponse, url: URL, requestId: string | undefined): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw markRetryable(
      new UpstreamError(
        `Partner Center sent a malformed JSON page for ${safeUrl(url)}${requestId ? ` (Request-ID ${requestId})` : ''}`,
        { url: safeUrl(url), status: response.status, requestId },
        { cause: error },
      ),
    );
  }
}

interface ODataPage {
  value: unknown[];
  nextLink: string | undefined;
  count: number | undefined;
}

/** Checks the OData envelope; a page without a `value` array is not a referral page. */
function readPage(json: unknown, url: URL, requestId: string | undefined): ODataPage {
  const envelope = json as Record<string, unknown> | null;
  if (envelope === null || typeof envelope !== 'object' || !Array.isArray(envelope.value)) {
    throw markRetryable(
      new UpstreamError(
        `Partner Center answered ${safeUrl(url)} with JSON that is not an OData collection (no "value" array)` +
          (requestId ? ` (Request-ID ${requestId})` : ''),
        { url: safeUrl(url), requestId },
      ),
    );
  }
  const nextLink = envelope['@odata.nextLink'];
  const count = envelope['@odata.count'];
  return {
    value: envelope.value,
    nextLink: typeof nextLink === 'string' && nextLink !== '' ? nextLink : undefined,
    count: typeof count === 'number' ? count : undefined,
  };
}

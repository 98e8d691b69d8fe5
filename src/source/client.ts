/**
 * The Partner Center Referrals client shared by the timer sync, the HTTP live list and the CLI.
 * `listReferrals(query)` streams: pages are fetched one at a time as the consumer asks, following
 * `@odata.nextLink` (repaired and origin-pinned) until it is absent, so memory does not grow with
 * the result. Each page request is retried on throttling, 5xx, resets, timeouts and malformed
 * bodies; a 401 gets one fresh token per request.
 */
import { randomUUID } from 'node:crypto';
import { ReferralRefusedError, UpstreamError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { safeUrl } from '../common/redact.js';
import type { ListQuery } from '../odata/ast.js';
import { formatListQuery } from '../odata/format.js';
import type { AccessTokenProvider } from './auth/token-provider.js';
import { markRetryable, PartnerCenterHttp, type RequestStats, readJson } from './http/partner-center-http.js';
import type { RetryPolicy } from './http/retry.js';
import type { Transport } from './http/transport.js';
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

export interface ClientStats extends RequestStats {
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
  private readonly http: PartnerCenterHttp;
  readonly correlationId: string;

  constructor(private readonly options: PartnerCenterClientOptions) {
    this.apiBase = new URL(options.apiBaseUrl);
    this.correlationId = options.correlationId ?? randomUUID();
    this.http = new PartnerCenterHttp({ ...options, correlationId: this.correlationId, stats: this.stats });
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

  /**
   * Applies a JSON Patch to a referral, conditionally when `ifMatch` is given, and returns the
   * referral as it is now (`Prefer: return=representation`). A write is not sent twice unless
   * Partner Center refused it unprocessed (429): a 5xx may have applied it.
   */
  async patchReferral(
    id: string,
    operations: readonly JsonPatchOperation[],
    options: { ifMatch?: string; signal?: AbortSignal } = {},
  ): Promise<WriteResult> {
    const url = new URL(`${LIST_PATH}/${encodeURIComponent(id)}`, this.apiBase);
    return this.http.call(
      {
        method: 'PATCH',
        url,
        body: operations,
        signal: options.signal,
        headers: {
          Prefer: 'return=representation',
          ...(options.ifMatch !== undefined ? { 'If-Match': options.ifMatch } : {}),
        },
        accept: [200, 204, 404, 412],
        retry: 'throttling',
        badRequest: (detail, target) => new ReferralRefusedError(target, `Partner Center refused the change${detail}`),
      },
      (answer) => writeResult(answer.status, answer.status === 200 ? readJson(answer, url) : undefined),
    );
  }

  /** Creates a referral; returns it as Partner Center made it (id, eTag, dates). Never sent twice but after a 429. */
  async createReferral(referral: unknown, options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const url = new URL(LIST_PATH, this.apiBase);
    return this.http.call(
      {
        method: 'POST',
        url,
        body: referral,
        signal: options.signal,
        accept: [200, 201],
        retry: 'throttling',
        badRequest: (detail, target) =>
          new ReferralRefusedError(target, `Partner Center refused the referral${detail}`),
      },
      (answer) => readJson(answer, url),
    );
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

  /** GET with the retry policy: the decoded JSON, or undefined for an allowed 404. */
  private fetchJson<T>(
    url: URL,
    signal: AbortSignal | undefined,
    decode: (json: unknown, url: URL, requestId: string | undefined) => T,
    { allowNotFound = false, onThrottled }: { allowNotFound?: boolean; onThrottled?: (waitMs: number) => void } = {},
  ): Promise<Fetched<T> | undefined> {
    return this.http.call({ url, signal, onThrottled, accept: allowNotFound ? [200, 404] : [200] }, (answer) =>
      answer.status === 404
        ? undefined
        : {
            value: decode(readJson(answer, url), url, answer.requestId),
            requestId: answer.requestId,
            bytes: answer.body.length,
          },
    );
  }
}

/** One operation of a JSON Patch document (RFC 6902); Partner Center takes `replace` and `add`. */
export interface JsonPatchOperation {
  readonly op: 'replace' | 'add';
  readonly path: string;
  readonly value: unknown;
}

export type WriteResult =
  /** Applied; the referral as it is now, when Partner Center sent it (204 sends none). */
  | { readonly kind: 'applied'; readonly referral?: unknown }
  /** If-Match named another version: someone changed the referral since it was read. */
  | { readonly kind: 'stale' }
  | { readonly kind: 'not-found' };

function writeResult(status: number, body: unknown): WriteResult {
  if (status === 404) return { kind: 'not-found' };
  if (status === 412) return { kind: 'stale' };
  return body === undefined ? { kind: 'applied' } : { kind: 'applied', referral: body };
}

interface Fetched<T> {
  readonly value: T;
  readonly requestId: string | undefined;
  readonly bytes: number;
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

/**
 * One way to call Partner Center, shared by the Referrals client and the webhook registration
 * client: the bearer token from the token provider (one fresh token after a 401), the standard
 * headers (MS-RequestId, MS-CorrelationId), the retry policy with Retry-After, and the mapping of
 * an answer onto the project's typed errors. What is decoded, and which statuses are answers rather
 * than failures, is the caller's.
 *
 * Retries are the caller's choice too, since not every request may be sent twice: a GET, PUT or
 * DELETE may ('all'); a POST that creates something may be repeated only when the first was refused
 * unprocessed (a 429: 'throttling'); and a caller that must report a 429 itself asks for 'token'.
 * A 401 is always tried once more with a fresh token: the refused request did nothing.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { BadQueryError, ThrottledError, UpstreamError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import { safeUrl } from '../../common/redact.js';
import type { AccessTokenProvider } from '../auth/token-provider.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, RETRYABLE_STATUSES, type RetryPolicy, retryDelayMs } from './retry.js';
import {
  type HttpMethod,
  type RequestTransport,
  type Transport,
  TransportError,
  type TransportResponse,
} from './transport.js';

/** The counters a run summary reports; a client passes its own object and reads it back. */
export interface RequestStats {
  requests: number;
  retries: number;
  throttled: number;
  throttledWaitMs: number;
  tokenRefreshesAfter401: number;
}

export interface PartnerCenterHttpOptions {
  /** A GET-only Transport serves GETs; other methods need a RequestTransport. */
  readonly transport: Transport | RequestTransport;
  readonly tokens: AccessTokenProvider;
  readonly retry?: RetryPolicy;
  readonly logger?: Logger;
  /** Sent as MS-CorrelationId on every request. */
  readonly correlationId: string;
  readonly userAgent?: string;
  readonly stats: RequestStats;
  /** Test seam: how waits happen. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What is tried again besides a 401 (see the module comment). */
export type RetryScope = 'all' | 'throttling' | 'token';

export interface CallSpec {
  readonly method?: HttpMethod;
  readonly url: URL;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent besides the standard ones (If-Match, Prefer); never Authorization. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Statuses handed to the reader rather than thrown (default: 200 only). */
  readonly accept?: readonly number[];
  readonly retry?: RetryScope;
  /** Told of every 429 before its wait (the sync lowers its concurrency). */
  readonly onThrottled?: (waitMs: number) => void;
  /** The error for a 400 (Partner Center refused what was asked); by default a BadQueryError. */
  readonly badRequest?: (detail: string, target: string | undefined) => Error;
}

/** An accepted answer. */
export interface Answer extends TransportResponse {
  /** The server's Request-ID. */
  readonly requestId: string | undefined;
}

const DEFAULT_ACCEPT: readonly number[] = [200];

export class PartnerCenterHttp {
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;

  constructor(private readonly options: PartnerCenterHttpOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.logger = (options.logger ?? silentLogger).child({ correlationId: options.correlationId });
  }

  /**
   * Sends the request with the retry policy and returns what `read` makes of an accepted answer.
   * `read` runs inside the retried attempt, so an answer it refuses with a retryable error (see
   * markRetryable: a malformed or truncated page) is fetched again.
   */
  async call<T>(spec: CallSpec, read: (answer: Answer) => T): Promise<T> {
    const { url, signal, onThrottled } = spec;
    const scope = spec.retry ?? 'all';
    const accept = spec.accept ?? DEFAULT_ACCEPT;
    const { stats } = this.options;
    let refreshedAfter401 = false;
    let rejectedToken: string | undefined;
    const began = performance.now();
    const wait = this.options.sleep ?? ((ms: number, s?: AbortSignal) => sleep(ms, undefined, { signal: s }));
    const attempt = async () => {
      const token = await this.options.tokens.getAccessToken({ rejected: rejectedToken }).catch((error: unknown) => {
        // Entra unreachable for a moment is worth another try; a refused sign-in is not.
        throw error instanceof UpstreamError ? markRetryable(error) : error;
      });
      const response = await this.send(spec, token);
      // The Referrals API names its answer Request-ID; the webhook registration API, MS-RequestId.
      const requestId = headerOf(response, 'request-id') ?? headerOf(response, 'ms-requestid');
      if (response.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        rejectedToken = token;
        stats.tokenRefreshesAfter401++;
        throw new RetryNow(`401 from ${safeUrl(url)}; getting a fresh token`, requestId);
      }
      if (!accept.includes(response.status)) throw failureFor(response, url, requestId, spec.badRequest);
      return read({ ...response, requestId });
    };
    return pRetry(attempt, {
      retries: this.retry.maxAttempts - 1,
      minTimeout: 0,
      maxTimeout: 0,
      maxRetryTime: this.retry.maxElapsedMs,
      signal,
      shouldRetry: ({ error }) => isRetryable(error, scope),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!isRetryable(error, scope) || retriesLeft === 0) return;
        const retryAfterMs =
          error instanceof ThrottledError && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : undefined;
        const delay = error instanceof RetryNow ? 0 : retryDelayMs(this.retry, attemptNumber, retryAfterMs);
        // p-retry checks its time budget only after this wait: a Retry-After past the budget fails now.
        const left = this.retry.maxElapsedMs - (performance.now() - began);
        if (delay > left) throw error;
        stats.retries++;
        if (error instanceof ThrottledError) {
          stats.throttled++;
          stats.throttledWaitMs += delay;
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

  private async send(spec: CallSpec, token: string): Promise<TransportResponse> {
    const { url, signal, method = 'GET' } = spec;
    const msRequestId = randomUUID();
    this.options.stats.requests++;
    const headers = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'MS-RequestId': msRequestId,
      'MS-CorrelationId': this.options.correlationId,
      'User-Agent': this.options.userAgent ?? 'referrals-lake',
      ...spec.headers,
      // Last: a caller's header never replaces the token.
      Authorization: `Bearer ${token}`,
    };
    try {
      return await this.transmit(method, url, headers, spec.body, signal);
    } catch (error) {
      if (signal?.aborted) throw new AbortError(error instanceof Error ? error : String(error));
      if (error instanceof TransportError) {
        throw new UpstreamError(error.message, { url: safeUrl(url), requestId: msRequestId }, { cause: error });
      }
      throw error;
    }
  }

  private transmit(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<TransportResponse> {
    const { transport } = this.options;
    if (method === 'GET' && body === undefined) return transport.get(url, headers, { signal });
    if (!('request' in transport)) throw new Error(`this transport sends GET only, not ${method}`);
    const json = body === undefined ? undefined : JSON.stringify(body);
    return transport.request(method, url, headers, { body: json, signal });
  }
}

/** The answer's body as JSON; a body that is not JSON is a retryable UpstreamError (it was probably cut short). */
export function readJson(answer: Answer, url: URL): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch (error) {
    throw markRetryable(
      new UpstreamError(
        `Partner Center sent malformed JSON for ${safeUrl(url)}${answer.requestId ? ` (Request-ID ${answer.requestId})` : ''}`,
        { url: safeUrl(url), status: answer.status, requestId: answer.requestId },
        { cause: error },
      ),
    );
  }
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

/** Marks an error as worth another attempt under the 'all' scope (a reader uses it for a bad answer). */
export function markRetryable<E extends Error>(error: E): E {
  retryable.add(error);
  return error;
}

function isRetryable(error: Error, scope: RetryScope): boolean {
  if (error instanceof RetryNow) return true;
  if (scope === 'token') return false;
  if (scope === 'throttling') return error instanceof ThrottledError;
  return retryable.has(error) || (error instanceof UpstreamError && error.cause instanceof TransportError);
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

/** Maps an answer the caller did not accept onto a typed error; retryable ones are marked so. */
function failureFor(
  response: TransportResponse,
  url: URL,
  requestId: string | undefined,
  badRequest: CallSpec['badRequest'],
): Error {
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
    return badRequest
      ? badRequest(detail, target)
      : new BadQueryError(target ?? '$filter', `Partner Center rejected the query${detail}`);
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

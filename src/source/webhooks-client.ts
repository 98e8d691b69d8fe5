/**
 * Partner Center's webhook registration API ("Partner Center webhooks"), on its own origin
 * (PARTNER_CENTER_WEBHOOKS_BASE_URL, https://api.partnercenter.microsoft.com) but called the one way
 * the Referrals client calls: the same token provider, transport, retry policy and typed errors
 * (http/partner-center-http.ts).
 *
 *   GET    /webhooks/v1/registration/events                  the event names one may register for
 *   GET    /webhooks/v1/registration                         the tenant's registration (404: none)
 *   POST   /webhooks/v1/registration                         create it (409 when one exists)
 *   PUT    /webhooks/v1/registration                         replace it (404: none)
 *   DELETE /webhooks/v1/registration                         remove it (404: none)
 *   POST   /webhooks/v1/registration/validationEvents        send test-created (2 a minute, else 429)
 *   GET    /webhooks/v1/registration/validationEvents/{id}   that event's delivery attempts
 *
 * The docs print PascalCase bodies, while the service's JSON binding reads names without case and
 * its validation answers are camelCase; so every field here is read without case.
 */
import { randomUUID } from 'node:crypto';
import { ThrottledError, UpstreamError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { safeUrl } from '../common/redact.js';
import type { AccessTokenProvider } from './auth/token-provider.js';
import {
  type Answer,
  type CallSpec,
  PartnerCenterHttp,
  type RequestStats,
  readJson,
} from './http/partner-center-http.js';
import type { RetryPolicy } from './http/retry.js';
import type { RequestTransport } from './http/transport.js';

export const REGISTRATION_PATH = '/webhooks/v1/registration';
const EVENTS_PATH = `${REGISTRATION_PATH}/events`;
const VALIDATION_PATH = `${REGISTRATION_PATH}/validationEvents`;

export interface WebhookRegistration {
  readonly webhookUrl: string;
  readonly webhookEvents: readonly string[];
}

/** One delivery attempt of a validation event, as Partner Center reports it. */
export interface ValidationAttempt {
  /** .NET's status name ("OK", "InternalServerError"); empty when no answer came. */
  readonly responseCode: string;
  readonly responseMessage: string;
  /** True when the attempt got no HTTP answer (refused, reset, timed out). */
  readonly systemError: boolean;
  readonly dateTimeUtc: string | undefined;
}

export interface ValidationStatus {
  readonly correlationId: string;
  /** `completed` once the receiver answered 2xx (the docs' word); the sandbox also says `inProgress` and `failed`. */
  readonly status: string;
  readonly callbackUrl: string | undefined;
  readonly results: readonly ValidationAttempt[];
}

export interface WebhookRegistrationClientOptions {
  readonly webhooksBaseUrl: string;
  readonly transport: RequestTransport;
  readonly tokens: AccessTokenProvider;
  readonly retry?: RetryPolicy;
  readonly logger?: Logger;
  readonly correlationId?: string;
  readonly userAgent?: string;
  /** Test seam: how waits happen. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class WebhookRegistrationClient {
  readonly stats: RequestStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    throttledWaitMs: 0,
    tokenRefreshesAfter401: 0,
  };
  private readonly base: URL;
  private readonly http: PartnerCenterHttp;

  constructor(options: WebhookRegistrationClientOptions) {
    this.base = new URL(options.webhooksBaseUrl);
    this.http = new PartnerCenterHttp({
      ...options,
      correlationId: options.correlationId ?? randomUUID(),
      stats: this.stats,
    });
  }

  /** The event names Partner Center accepts in a registration. */
  async supportedEvents(signal?: AbortSignal): Promise<string[]> {
    const url = this.url(EVENTS_PATH);
    return this.call({ url, signal }, (answer) => parseEventNames(readJson(answer, url), url));
  }

  /** The tenant's registration; undefined when it has none. */
  async registration(signal?: AbortSignal): Promise<WebhookRegistration | undefined> {
    const url = this.url(REGISTRATION_PATH);
    return this.call({ url, signal, accept: [200, 404] }, (answer) =>
      answer.status === 404 ? undefined : requireRegistration(readJson(answer, url), url),
    );
  }

  /**
   * Registers the tenant's URL; undefined when the tenant has one already (409: one registration
   * per tenant, PUT replaces it). A POST is repeated only after a 429, which did nothing: after a
   * timeout the first may have registered, and the second would meet a 409.
   */
  async create(wanted: WebhookRegistration, signal?: AbortSignal): Promise<WebhookRegistration | undefined> {
    const url = this.url(REGISTRATION_PATH);
    const spec: CallSpec = {
      method: 'POST',
      url,
      body: requestBody(wanted),
      signal,
      accept: [200, 201, 409],
      retry: 'throttling',
    };
    const written = await this.call(spec, (answer) => (answer.status === 409 ? 'exists' : registrationIn(answer)));
    if (written === 'exists') return undefined;
    return written ?? this.registration(signal);
  }

  /** Replaces the tenant's registration (same subscriber); undefined when it has none (404). */
  async update(wanted: WebhookRegistration, signal?: AbortSignal): Promise<WebhookRegistration | undefined> {
    const url = this.url(REGISTRATION_PATH);
    const spec: CallSpec = { method: 'PUT', url, body: requestBody(wanted), signal, accept: [200, 201, 404] };
    const written = await this.call(spec, (answer) => (answer.status === 404 ? 'none' : registrationIn(answer)));
    if (written === 'none') return undefined;
    return written ?? this.registration(signal);
  }

  /** Removes the tenant's registration; false when it had none (404). */
  async remove(signal?: AbortSignal): Promise<boolean> {
    const url = this.url(REGISTRATION_PATH);
    return this.call(
      { method: 'DELETE', url, signal, accept: [200, 202, 204, 404] },
      (answer) => answer.status !== 404,
    );
  }

  /**
   * Asks Partner Center to send a test-created event to the registered URL; returns its correlation
   * id. Not retried on 429: Partner Center allows 2 a minute, and the caller says when to try again
   * rather than wait up to a minute in silence.
   */
  async sendValidationEvent(signal?: AbortSignal): Promise<string> {
    const url = this.url(VALIDATION_PATH);
    try {
      return await this.call({ method: 'POST', url, signal, accept: [200, 201, 202], retry: 'token' }, (answer) =>
        requireCorrelationId(answer, url),
      );
    } catch (error) {
      if (!(error instanceof ThrottledError)) throw error;
      const wait = error.retryAfterSeconds === undefined ? 'a minute' : `${Math.ceil(error.retryAfterSeconds)} s`;
      throw new ThrottledError(
        `Partner Center sends at most 2 validation events a minute and refused this one (429); try again in ${wait} (Retry-After)`,
        error.retryAfterSeconds,
        error.requestId,
        { cause: error },
      );
    }
  }

  /** The delivery attempts of a validation event; undefined while Partner Center does not know the id (404). */
  async validationStatus(correlationId: string, signal?: AbortSignal): Promise<ValidationStatus | undefined> {
    const url = this.url(`${VALIDATION_PATH}/${encodeURIComponent(correlationId)}`);
    return this.call({ url, signal, accept: [200, 404] }, (answer) =>
      answer.status === 404 ? undefined : parseValidationStatus(readJson(answer, url), correlationId),
    );
  }

  private call<T>(spec: CallSpec, read: (answer: Answer) => T): Promise<T> {
    return this.http.call({ badRequest: refusedBy(spec), ...spec }, read);
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }
}

/** The body Partner Center expects, in the docs' spelling. */
function requestBody(wanted: WebhookRegistration): Record<string, unknown> {
  return { WebhookUrl: wanted.webhookUrl, WebhookEvents: wanted.webhookEvents };
}

/** A 400 names what Partner Center refused (its error body's target: WebhookUrl, WebhookEvents). */
function refusedBy(spec: CallSpec): CallSpec['badRequest'] {
  return (detail, target) =>
    new UpstreamError(
      `Partner Center refused ${spec.method ?? 'GET'} ${spec.url.pathname}${target ? ` (${target})` : ''} with 400${detail}`,
      { url: safeUrl(spec.url), status: 400 },
    );
}

/**
 * What a POST or PUT answered. The registration is already written by then, so an answer that does
 * not show it (empty, or not JSON) is no failure: undefined, and the caller reads it back.
 */
function registrationIn(answer: Answer): WebhookRegistration | undefined {
  try {
    return parseRegistration(JSON.parse(answer.body.toString('utf8')));
  } catch {
    return undefined;
  }
}

function requireRegistration(json: unknown, url: URL): WebhookRegistration {
  const registration = parseRegistration(json);
  if (!registration) throw unexpected(url, 'a registration without a WebhookUrl');
  return registration;
}

function requireCorrelationId(answer: Answer, url: URL): string {
  const json = readJson(answer, url);
  const id = typeof json === 'string' ? json : stringField(json, 'correlationId');
  if (!id) throw unexpected(url, 'no correlationId');
  return id;
}

function parseEventNames(json: unknown, url: URL): string[] {
  if (!Array.isArray(json) || !json.every((name) => typeof name === 'string')) {
    throw unexpected(url, 'something other than a list of event names');
  }
  return json;
}

function unexpected(url: URL, what: string): UpstreamError {
  return new UpstreamError(`Partner Center answered ${safeUrl(url)} with ${what}`, { url: safeUrl(url) });
}

/**
 * `{WebhookUrl, WebhookEvents}` in any letter case (the docs print PascalCase; a camelCase answer
 * is the same registration); undefined when there is no URL.
 */
export function parseRegistration(json: unknown): WebhookRegistration | undefined {
  const webhookUrl = stringField(json, 'WebhookUrl');
  if (!webhookUrl) return undefined;
  const events = field(json, 'WebhookEvents');
  const webhookEvents = Array.isArray(events) ? events.filter((e): e is string => typeof e === 'string') : [];
  return { webhookUrl, webhookEvents };
}

/** `{correlationId, status, callbackUrl, results: [{responseCode, responseMessage, systemError, dateTimeUtc}]}`, any case. */
export function parseValidationStatus(json: unknown, correlationId: string): ValidationStatus {
  const results = field(json, 'results');
  return {
    correlationId: stringField(json, 'correlationId') ?? correlationId,
    status: stringField(json, 'status') ?? '',
    callbackUrl: stringField(json, 'callbackUrl'),
    results: Array.isArray(results) ? results.map(parseAttempt) : [],
  };
}

function parseAttempt(json: unknown): ValidationAttempt {
  return {
    responseCode: stringField(json, 'responseCode') ?? '',
    responseMessage: stringField(json, 'responseMessage') ?? '',
    systemError: field(json, 'systemError') === true,
    dateTimeUtc: stringField(json, 'dateTimeUtc'),
  };
}

/** A property of a JSON object, its name matched without case. */
function field(json: unknown, name: string): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const wanted = name.toLowerCase();
  return Object.entries(json).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

function stringField(json: unknown, name: string): string | undefined {
  const value = field(json, name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

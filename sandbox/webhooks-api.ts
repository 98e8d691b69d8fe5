/**
 * The sandbox's Partner Center webhook registration API, answered as the "Partner Center webhooks"
 * page shows it (api.partnercenter.microsoft.com; the sandbox's origin stands in for that host too):
 *   GET    /webhooks/v1/registration/events                     the event names one may register for
 *   POST   /webhooks/v1/registration                            register {WebhookUrl, WebhookEvents}
 *   GET    /webhooks/v1/registration                            the tenant's registration
 *   PUT    /webhooks/v1/registration                            replace it
 *   DELETE /webhooks/v1/registration                            remove it
 *   POST   /webhooks/v1/registration/validationEvents           send test-created (2 a minute)
 *   GET    /webhooks/v1/registration/validationEvents/{id}      that event's delivery attempts
 * all with the Referrals API's bearer token, plus the signing certificate the events point at
 * (GET /cert/…, no token: Partner Center serves its certificate from a public blob).
 *
 * Where the docs are silent the sandbox is the stricter reading, so that a client built on it
 * works against the real service: POST while a registration exists is a 409 (PUT replaces; the
 * `postWhenRegistered: 'replace'` option plays a lenient service), GET/PUT/DELETE without one 404.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthResult,
  BadRequestBodyError,
  readJsonObject,
  sendAuthError,
  sendError,
  sendJson,
} from './referrals-api.js';
import { type EventName, type Registration, SUPPORTED_EVENTS, TEST_EVENT } from './webhook-events.js';
import { subscribes, type Webhooks } from './webhooks.js';

export const REGISTRATION_PATH = '/webhooks/v1/registration';
export const CERTIFICATE_PATH = '/cert/sandbox-webhook-signing.cer';
const VALIDATION_PATH = `${REGISTRATION_PATH}/validationEvents`;
/** The docs' throttle on validation events. */
const VALIDATION_EVENTS_PER_MINUTE = 2;
/** Loopback hosts a plain http:// WebhookUrl may name, so that a local receiver can be tried. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

export interface WebhooksApiDependencies {
  readonly webhooks: Webhooks;
  readonly authenticate: (authorization: string | undefined) => Promise<AuthResult>;
  /** The certificate served at CERTIFICATE_PATH (PEM). */
  readonly certificatePem: string;
  /** 'conflict' (default): POST while registered is a 409; 'replace': it replaces, as a PUT would. */
  readonly postWhenRegistered: 'conflict' | 'replace';
}

/** A registration body the API refuses; `target` names the field, as Partner Center's error bodies do. */
export class RegistrationRequestError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegistrationRequestError';
  }
}

export class WebhooksApi {
  /** GETs of the signing certificate, so that tests can see a receiver's cache at work. */
  certificateRequests = 0;
  /** When each recent validation event was asked for (ms), for the 2-a-minute throttle. */
  private validationRequests: number[] = [];

  constructor(private readonly deps: WebhooksApiDependencies) {}

  /** Handles the request if it is for the webhooks API or the certificate; returns false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname === CERTIFICATE_PATH) {
      this.sendCertificate(req, res);
      return true;
    }
    if (url.pathname !== REGISTRATION_PATH && !url.pathname.startsWith(`${REGISTRATION_PATH}/`)) return false;
    const requestId = header(req, 'ms-requestid') ?? randomUUID();
    res.setHeader('MS-RequestId', requestId);
    res.setHeader('MS-CorrelationId', header(req, 'ms-correlationid') ?? randomUUID());
    const auth = await this.deps.authenticate(header(req, 'authorization'));
    if (!auth.ok) {
      sendAuthError(res, auth, requestId);
      return true;
    }
    try {
      await this.route(req, res, url, requestId);
    } catch (error) {
      if (error instanceof RegistrationRequestError) {
        sendError(res, 400, 'BadRequest', error.message, requestId, error.target);
      } else if (error instanceof BadRequestBodyError) {
        sendError(res, 400, 'BadRequest', `The request ${error.message}`, requestId);
      } else throw error;
    }
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === `${REGISTRATION_PATH}/events`) {
      if (method !== 'GET') return notAllowed(res, method, 'GET', requestId);
      return sendJson(res, 200, SUPPORTED_EVENTS);
    }
    if (path === REGISTRATION_PATH) return this.registration(req, res, method, requestId);
    if (path === VALIDATION_PATH) {
      if (method !== 'POST') return notAllowed(res, method, 'POST', requestId);
      return this.sendValidationEvent(res, requestId);
    }
    if (path.startsWith(`${VALIDATION_PATH}/`) && method === 'GET') {
      const status = this.deps.webhooks.validationStatus(decodeURIComponent(path.slice(VALIDATION_PATH.length + 1)));
      if (status) return sendJson(res, 200, status);
    }
    sendError(res, 404, 'NotFound', `No resource at ${url.pathname}`, requestId);
  }

  private async registration(req: IncomingMessage, res: ServerResponse, method: string, requestId: string) {
    const { webhooks } = this.deps;
    const current = webhooks.current;
    switch (method) {
      case 'GET':
        if (!current) return notRegistered(res, requestId);
        return sendJson(res, 200, { WebhookUrl: current.webhookUrl, WebhookEvents: current.webhookEvents });
      case 'POST': {
        const settings = parseRegistration(await readJsonObject(req));
        if (current && this.deps.postWhenRegistered === 'conflict') {
          return sendError(
            res,
            409,
            'Conflict',
            'This tenant already has a webhook registration; PUT /webhooks/v1/registration replaces it.',
            requestId,
          );
        }
        return sendJson(res, 200, registrationBody(current ? webhooks.replace(settings) : webhooks.register(settings)));
      }
      case 'PUT': {
        const settings = parseRegistration(await readJsonObject(req));
        if (!current) return notRegistered(res, requestId);
        return sendJson(res, 200, registrationBody(webhooks.replace(settings)));
      }
      case 'DELETE':
        if (!webhooks.unregister()) return notRegistered(res, requestId);
        res.writeHead(204).end();
        return;
      default:
        return notAllowed(res, method, 'GET, POST, PUT, DELETE', requestId);
    }
  }

  private sendValidationEvent(res: ServerResponse, requestId: string): void {
    const retryAfter = this.throttledFor(Date.now());
    if (retryAfter > 0) {
      res.setHeader('Retry-After', String(retryAfter));
      sendJson(res, 429, {
        statusCode: 429,
        message: `Rate limit is exceeded. Try again in ${retryAfter} seconds.`,
      });
      return;
    }
    const current = this.deps.webhooks.current;
    if (!current) {
      notRegistered(res, requestId);
      return;
    }
    if (!subscribes(current, TEST_EVENT)) {
      sendError(
        res,
        400,
        'BadRequest',
        `The registration must include the "${TEST_EVENT}" event before a validation event can be sent.`,
        requestId,
        'WebhookEvents',
      );
      return;
    }
    sendJson(res, 200, { correlationId: this.deps.webhooks.sendTestEvent() });
  }

  /** Seconds until another validation event is allowed (0: now, and this request is counted). */
  private throttledFor(now: number): number {
    this.validationRequests = this.validationRequests.filter((t) => now - t < 60_000);
    const oldest = this.validationRequests[0];
    if (this.validationRequests.length >= VALIDATION_EVENTS_PER_MINUTE && oldest !== undefined) {
      return Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000));
    }
    this.validationRequests.push(now);
    return 0;
  }

  private sendCertificate(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (req.method === 'GET') this.certificateRequests++;
    const bytes = Buffer.from(this.deps.certificatePem, 'utf8');
    res.writeHead(200, { 'Content-Type': 'application/x-x509-ca-cert', 'Content-Length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }
}

/**
 * The registration a body asks for. Property names are matched without case, as the service's
 * JSON binding does; the values are checked as the docs describe them.
 */
export function parseRegistration(body: Record<string, unknown>): Omit<Registration, 'subscriberId'> {
  const field = (name: string) => Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const flag = field('SignatureTokenToMsSignatureHeader');
  if (flag !== undefined && typeof flag !== 'boolean') {
    throw new RegistrationRequestError('SignatureTokenToMsSignatureHeader', 'must be true or false');
  }
  return {
    webhookUrl: parseWebhookUrl(field('WebhookUrl')),
    webhookEvents: parseWebhookEvents(field('WebhookEvents')),
    signatureInMsHeader: flag === true,
  };
}

/** An https:// URL, as Partner Center demands; plain http:// only to a loopback receiver. */
function parseWebhookUrl(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RegistrationRequestError('WebhookUrl', 'WebhookUrl is required');
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new RegistrationRequestError('WebhookUrl', 'WebhookUrl must be an absolute URL');
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new RegistrationRequestError('WebhookUrl', 'WebhookUrl must be an https:// URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new RegistrationRequestError('WebhookUrl', 'WebhookUrl must not carry credentials');
  }
  return url.toString();
}

function parseWebhookEvents(value: unknown): EventName[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RegistrationRequestError('WebhookEvents', 'WebhookEvents must be a non-empty array of event names');
  }
  for (const name of value) {
    if (typeof name !== 'string' || !SUPPORTED_EVENTS.includes(name)) {
      throw new RegistrationRequestError(
        'WebhookEvents',
        `${JSON.stringify(name)} is not a supported event; supported: ${SUPPORTED_EVENTS.join(', ')}`,
      );
    }
  }
  return [...new Set(value as EventName[])];
}

function registrationBody(registration: Registration) {
  return {
    SubscriberId: registration.subscriberId,
    WebhookUrl: registration.webhookUrl,
    WebhookEvents: registration.webhookEvents,
  };
}

function notRegistered(res: ServerResponse, requestId: string): void {
  sendError(res, 404, 'NotFound', 'This tenant has no webhook registration.', requestId);
}

function notAllowed(res: ServerResponse, method: string, allow: string, requestId: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed here; use ${allow}`, requestId);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

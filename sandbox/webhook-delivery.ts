/**
 * Delivers webhook events the way the Partner Center webhooks page describes: an HTTP POST of the
 * event's JSON to the registered URL, RSA-signed (`Authorization: Signature <base64>`, or
 * `x-ms-signature` when the registration asks for it, with `X-MS-Certificate-Url` and
 * `X-MS-Signature-Algorithm: rsa-sha256`), tried 10 times; an event still not delivered then goes
 * to the offline queue ("parked" here) and is never sent again. The docs give the count, not the
 * waits between attempts, so those are an option.
 *
 * Every event is kept in a log (delivered, parked, dropped by a fault, or still pending) with its
 * attempts, for the control route and for tests that wait for deliveries.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  STATUS_CODES,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { FaultInjector } from './faults.js';
import type { EventName, PartnerCenterEvent } from './webhook-events.js';

/** Partner Center's documented number of delivery attempts. */
export const MAX_ATTEMPTS = 10;
export const SIGNATURE_ALGORITHM = 'rsa-sha256';

export interface DeliveryOptions {
  /** Waits before attempts 2…10; the last entry repeats when the list is shorter. */
  readonly retryDelaysMs: readonly number[];
  /** An attempt that has not been answered by then counts as failed. */
  readonly attemptTimeoutMs: number;
  /** The RSA key that signs and the URL of its certificate (x-ms-certificate-url). */
  readonly signingKeyPem: string;
  readonly certificateUrl: () => string;
  /** The sandbox CA, trusted besides the system roots: a local https receiver may use a certificate it issued. */
  readonly caPem: string;
}

/** Where one event goes, fixed when it is emitted (a later registration does not redirect it). */
export interface DeliveryTarget {
  readonly url: string;
  readonly signatureInMsHeader: boolean;
}

export type DeliveryState = 'pending' | 'delivered' | 'parked' | 'dropped';

export interface AttemptRecord {
  readonly at: string;
  readonly durationMs: number;
  /** The receiver's status code; absent when there was no answer (refused, reset, timed out). */
  readonly status?: number;
  /** Why there was no answer, or the start of a non-2xx answer's body. */
  readonly message?: string;
}

export interface DeliveryRecord {
  /** The sandbox's sequence number; Partner Center's events carry no id. */
  readonly id: number;
  readonly eventName: EventName;
  readonly resourceUri: string;
  readonly url: string;
  /** The registration's SignatureTokenToMsSignatureHeader: the signature travels in x-ms-signature. */
  readonly signatureInMsHeader: boolean;
  /** The exact bytes sent (and signed), as text. */
  readonly body: string;
  /** Set on the second copy a duplicate fault sends. */
  readonly duplicateOf?: number;
  /** The validation event's correlation id, for GET …/validationEvents/{id}. */
  readonly correlationId?: string;
  readonly createdAt: string;
  /** The order in which events made their first attempt (faults can make it differ from `id`'s). */
  sentOrder?: number;
  state: DeliveryState;
  settledAt?: string;
  readonly attempts: AttemptRecord[];
}

export interface DeliveryStats {
  emitted: number;
  delivered: number;
  parked: number;
  dropped: number;
  attempts: number;
}

type Settled = Exclude<DeliveryState, 'pending'>;

/** Longest part of a receiver's answer kept in the log. */
const MESSAGE_CHARS = 200;

export class WebhookDelivery {
  readonly stats: DeliveryStats = { emitted: 0, delivered: 0, parked: 0, dropped: 0, attempts: 0 };
  private readonly log: DeliveryRecord[] = [];
  private readonly key: KeyObject;
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent: HttpsAgent;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<ClientRequest>();
  /** Called on every settle (false) and on close (true). */
  private readonly waiters = new Set<(closing: boolean) => void>();
  /** Events the reorder fault holds back, with their event numbers. */
  private held: { record: DeliveryRecord; n: number }[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private eventNumber = 0;
  private sentCount = 0;
  private settled = 0;
  private closed = false;

  constructor(
    private readonly options: DeliveryOptions,
    private readonly faults: FaultInjector,
  ) {
    this.key = createPrivateKey(options.signingKeyPem);
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, ca: [...rootCertificates, options.caPem] });
  }

  /** Signs and sends one event, subject to the run's webhook faults. Returns the log records it made. */
  send(event: PartnerCenterEvent, target: DeliveryTarget, correlationId?: string): readonly DeliveryRecord[] {
    const n = ++this.eventNumber;
    const first = this.record(event, target, correlationId);
    this.stats.emitted++;
    if (this.faults.dropsWebhook(n)) {
      this.settle(first, 'dropped');
      return [first];
    }
    const duplicate = this.faults.duplicatesWebhook(n);
    if (!duplicate) {
      this.release(first, n);
      return [first];
    }
    const copy = this.duplicate(first);
    this.release(first, n);
    // A late copy is Partner Center's retry of a delivery whose answer it lost; close() cancels it.
    if (duplicate.lateMs > 0) this.later(duplicate.lateMs, () => this.release(copy, n));
    else this.release(copy, n);
    return [first, copy];
  }

  /** Every event so far, oldest first (copies: the log keeps changing). */
  events(): DeliveryRecord[] {
    return this.log.map((r) => ({ ...r, attempts: [...r.attempts] }));
  }

  /** How many events are no longer pending. */
  get settledCount(): number {
    return this.settled;
  }

  /** Resolves true once at least `count` events have settled, false when `timeoutMs` passes first. */
  waitForSettled(count: number, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.settledCount >= count, timeoutMs);
  }

  /** Resolves true once `done()` holds (checked whenever an event settles), false after `timeoutMs` or on close. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = (closing: boolean) => {
        if (closing) finish(false);
        else if (done()) finish(true);
      };
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Stops every timer and request; pending events stay pending. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const req of this.inFlight) req.destroy();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    for (const waiter of [...this.waiters]) waiter(true);
  }

  private record(event: PartnerCenterEvent, target: DeliveryTarget, correlationId?: string): DeliveryRecord {
    const record: DeliveryRecord = {
      id: this.log.length + 1,
      eventName: event.EventName,
      resourceUri: event.ResourceUri,
      url: target.url,
      body: JSON.stringify(event),
      signatureInMsHeader: target.signatureInMsHeader,
      correlationId,
      createdAt: new Date().toISOString(),
      state: 'pending',
      attempts: [],
    };
    this.log.push(record);
    return record;
  }

  /** A second copy of the same bytes, as a sender that lost the first answer would send. */
  private duplicate(first: DeliveryRecord): DeliveryRecord {
    const copy: DeliveryRecord = { ...first, id: this.log.length + 1, duplicateOf: first.id, attempts: [] };
    this.log.push(copy);
    return copy;
  }

  /** Straight to its first attempt, or through the reorder fault's hold. */
  private release(record: DeliveryRecord, n: number): void {
    const reorder = this.faults.webhookReorder();
    if (!reorder) {
      this.startAfter(record, this.faults.webhookDelayMs(n));
      return;
    }
    this.held.push({ record, n });
    if (this.held.length >= reorder.hold) this.flushHeld();
    else if (this.holdTimer === undefined) this.holdTimer = this.later(reorder.ms, () => this.flushHeld());
  }

  /** Sends what the reorder fault held, newest first. */
  private flushHeld(): void {
    if (this.holdTimer !== undefined) this.cancel(this.holdTimer);
    this.holdTimer = undefined;
    const batch = this.held.reverse();
    this.held = [];
    if (batch.length > 1) this.faults.counts.webhookReordered += batch.length;
    for (const { record, n } of batch) this.startAfter(record, this.faults.webhookDelayMs(n));
  }

  private startAfter(record: DeliveryRecord, delayMs: number): void {
    if (delayMs > 0) this.later(delayMs, () => void this.attempt(record));
    else void this.attempt(record);
  }

  private async attempt(record: DeliveryRecord): Promise<void> {
    if (this.closed || record.state !== 'pending') return;
    record.sentOrder ??= ++this.sentCount;
    const result = await this.post(record);
    if (this.closed) return;
    record.attempts.push(result);
    this.stats.attempts++;
    if (result.status !== undefined && result.status >= 200 && result.status < 300) {
      this.settle(record, 'delivered');
    } else if (record.attempts.length >= MAX_ATTEMPTS) {
      this.settle(record, 'parked');
    } else {
      this.later(this.retryDelayMs(record.attempts.length), () => void this.attempt(record));
    }
  }

  private retryDelayMs(attemptsMade: number): number {
    const delays = this.options.retryDelaysMs;
    return delays[Math.min(attemptsMade - 1, delays.length - 1)] ?? 0;
  }

  private settle(record: DeliveryRecord, state: Settled): void {
    record.state = state;
    record.settledAt = new Date().toISOString();
    this.stats[state]++;
    this.settled++;
    for (const check of [...this.waiters]) check(false);
  }

  private later(ms: number, run: () => void): NodeJS.Timeout | undefined {
    if (this.closed) return undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** One POST of the record's body; never rejects (a failure is an attempt without a status). */
  private post(record: DeliveryRecord): Promise<AttemptRecord> {
    const started = Date.now();
    const at = new Date(started).toISOString();
    const body = Buffer.from(record.body, 'utf8');
    const headers = this.headers(body, record);
    const url = new URL(record.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise((resolve) => {
      const done = (outcome: { status?: number; message?: string }) => {
        this.inFlight.delete(req);
        resolve({ at, durationMs: Date.now() - started, ...outcome });
      };
      const req = send(url, { method: 'POST', headers, agent }, (res) => {
        readShort(res).then(
          (text) => {
            const status = res.statusCode ?? 0;
            done(status >= 200 && status < 300 ? { status } : { status, message: text || STATUS_CODES[status] });
          },
          (error: unknown) => done({ message: describe(error) }),
        );
      });
      this.inFlight.add(req);
      req.setTimeout(this.options.attemptTimeoutMs, () =>
        req.destroy(new Error(`no answer within ${this.options.attemptTimeoutMs} ms`)),
      );
      req.on('error', (error) => done({ message: describe(error) }));
      req.end(body);
    });
  }

  private headers(body: Buffer, record: DeliveryRecord): Record<string, string | number> {
    const signature = `Signature ${sign('sha256', body, this.key).toString('base64')}`;
    const signatureHeader = record.signatureInMsHeader ? 'x-ms-signature' : 'Authorization';
    return {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      [signatureHeader]: signature,
      'X-MS-Certificate-Url': this.options.certificateUrl(),
      'X-MS-Signature-Algorithm': SIGNATURE_ALGORITHM,
    };
  }
}

/** The first characters of an answer's body; the rest is read and dropped so the socket can be reused. */
async function readShort(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) if (text.length < MESSAGE_CHARS) text += (chunk as Buffer).toString('utf8');
  return text.slice(0, MESSAGE_CHARS);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

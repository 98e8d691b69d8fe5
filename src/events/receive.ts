/**
 * One webhook request, from raw bytes to an answer, without HTTP: the Azure Function (its own step)
 * reads the body, calls receive(), writes the status and logs the fields. Order matters:
 *
 *   1. size      over 64 KiB → 400, before anything reads or hashes the body
 *   2. signature unsigned, forged, altered, foreign or untrusted certificate → 401 (signature.ts)
 *   3. body      bad JSON, unknown event, ResourceUri outside Partner Center → 400 (event.ts)
 *   4. test-created → 200, not queued: it names no referral, and answering 200 is what makes
 *      Partner Center's validation status say "completed"
 *   5. older than PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES → 200, not queued (docs/security.md,
 *      "Replays"): a retry cannot make it younger, so a 4xx would only buy nine futile retries
 *   6. queued → 200; the queue failing → 503, so that Partner Center tries again later
 *
 * Nothing is queued unless step 6 is reached. The log fields never hold the body, the signature or
 * a header's value (a refused certificate URL's host aside): reason codes, the event name, the
 * referral id, times, sizes, the certificate's fingerprint, and on 503 the queue's error, which the
 * logger redacts like any other.
 */

import { BadEventError, type BadEventReason } from '../common/errors.js';
import type { LogFields } from '../common/log.js';
import { timestampToEpochMs } from '../common/time.js';
import type { WebhookReceiverConfig } from '../config.js';
import { type CertificateSource, CertificateStore } from './certificates.js';
import {
  type EventRules,
  MAX_EVENT_BYTES,
  type ParsedEvent,
  parseEvent,
  type ReferralEventMessage,
  resourceHosts,
  TEST_EVENT,
} from './event.js';
import { type EventHeaders, type VerifyFailure, verifyEvent } from './signature.js';

/**
 * What the receiver needs of the events queue: to send one message. src/events/queue.ts's
 * EventQueue<ReferralEventMessage> is one (its send resolves with the message id, which the
 * receiver does not need); tests pass an array.
 */
export interface QueueSender {
  send(message: ReferralEventMessage): Promise<unknown>;
}

export interface ReceiverDependencies {
  readonly certificates: CertificateSource;
  readonly queue: QueueSender;
  readonly rules: EventRules;
  readonly maxEventAgeMs: number;
  readonly now?: () => number;
}

export type ReceiveStatus = 200 | 400 | 401 | 503;
export type ReceiveReason = VerifyFailure | BadEventReason | 'test_event' | 'stale' | 'queue_unavailable';

export interface ReceiveResult {
  readonly status: ReceiveStatus;
  /** The message put on the queue; absent whenever nothing was. */
  readonly queued?: ReferralEventMessage;
  /** One log line's fields: `outcome` (queued, acknowledged, refused, failed) and `reason` say what happened. */
  readonly logFields: LogFields;
}

export async function receiveEvent(
  rawBody: Buffer,
  headers: EventHeaders,
  deps: ReceiverDependencies,
): Promise<ReceiveResult> {
  const now = deps.now ?? Date.now;
  const fields: Record<string, unknown> = { bytes: rawBody.length };
  if (rawBody.length > MAX_EVENT_BYTES) {
    return refused(400, 'too_large', { ...fields, detail: `more than ${MAX_EVENT_BYTES} bytes` });
  }
  const verified = await verifyEvent(rawBody, headers, deps.certificates);
  if (!verified.ok) return refused(401, verified.reason, { ...fields, detail: verified.detail });
  fields.certificate = verified.certificate.fingerprint256;
  fields.certificateAnchored = verified.certificate.anchored;
  let event: ParsedEvent;
  try {
    event = parseEvent(rawBody, deps.rules, now());
  } catch (error) {
    if (error instanceof BadEventError) return refused(400, error.reason, { ...fields, detail: error.message });
    throw error;
  }
  if (event.kind === 'test') return acknowledged('test_event', { ...fields, eventName: TEST_EVENT });
  return queue(event.message, deps, { ...fields, ...messageFields(event.message) }, now());
}

async function queue(
  message: ReferralEventMessage,
  deps: ReceiverDependencies,
  fields: Record<string, unknown>,
  nowMs: number,
): Promise<ReceiveResult> {
  const ageMs = nowMs - (timestampToEpochMs(message.changedAt) ?? nowMs);
  if (ageMs > deps.maxEventAgeMs) return acknowledged('stale', { ...fields, ageSeconds: Math.round(ageMs / 1000) });
  try {
    await deps.queue.send(message);
  } catch (error) {
    return { status: 503, logFields: { ...fields, outcome: 'failed', reason: 'queue_unavailable', error } };
  }
  return { status: 200, queued: message, logFields: { ...fields, outcome: 'queued' } };
}

function messageFields(message: ReferralEventMessage): Record<string, unknown> {
  return { eventName: message.eventName, referralId: message.referralId, changedAt: message.changedAt };
}

function refused(status: 400 | 401, reason: ReceiveReason, fields: Record<string, unknown>): ReceiveResult {
  return { status, logFields: { ...fields, outcome: 'refused', reason } };
}

function acknowledged(reason: ReceiveReason, fields: Record<string, unknown>): ReceiveResult {
  return { status: 200, logFields: { ...fields, outcome: 'acknowledged', reason } };
}

/** The receiver as the function app builds it once per process: settings in, receive() out. */
export interface EventReceiver {
  receive(rawBody: Buffer, headers: EventHeaders): Promise<ReceiveResult>;
  close(): void;
}

export function createEventReceiver(
  config: WebhookReceiverConfig,
  queue: QueueSender,
  options: { readonly certificates?: CertificateSource; readonly now?: () => number } = {},
): EventReceiver {
  const certificates =
    options.certificates ??
    new CertificateStore({
      allowedHosts: config.certificateHosts,
      issuerOrganization: config.certificateIssuerOrganization,
      chain: config.certificateChain,
      caPem: config.caPem,
      now: options.now,
    });
  const deps: ReceiverDependencies = {
    certificates,
    queue,
    rules: { resourceHosts: resourceHosts(config.webhooksBaseUrl) },
    maxEventAgeMs: config.maxEventAgeMs,
    now: options.now,
  };
  return {
    receive: (rawBody, headers) => receiveEvent(rawBody, headers, deps),
    close: () => certificates.close(),
  };
}

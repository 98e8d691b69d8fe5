/**
 * The body of a Partner Center webhook event, checked, and turned into the message the worker gets.
 * An event is a pointer, not the referral ("Partner Center webhook events"):
 *
 *   {"EventName": "referral-updated",
 *    "ResourceUri": "https://api.partnercenter.microsoft.com/engagements/v1/referrals/{id}",
 *    "ResourceName": "referral", "AuditUri": null,
 *    "ResourceChangeUtcDate": "2018-02-17T00:05:39.5485487+00:00"}
 *
 * so what the worker needs is the event name, the referral id and when the change happened; it
 * reads the referral itself. Field names are matched exactly, as the docs spell them.
 *
 * Call this on a body whose signature verified: the checks here are about what Partner Center
 * meant, not about who sent it. Errors are BadEventError with a reason code; a message names at
 * most a field, an event name or a host, never the body.
 */
import { BadEventError } from '../common/errors.js';
import { canonicalTimestamp, formatTimestamp } from '../common/time.js';

/** The bound: events are a few hundred bytes, so anything near this is not one. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** The referral events of the docs' list: the ones that are queued. */
export const REFERRAL_EVENTS = [
  'referral-created',
  'referral-updated',
  'related-referral-created',
  'related-referral-updated',
] as const;
export type ReferralEventName = (typeof REFERRAL_EVENTS)[number];

/** Sent by POST /webhooks/v1/registration/validationEvents: verified and acknowledged, never queued. */
export const TEST_EVENT = 'test-created';

/** The host of every ResourceUri in the docs, and of the sandbox's events by default. */
export const PARTNER_CENTER_EVENTS_HOST = 'api.partnercenter.microsoft.com';

/** What the receiver puts on the queue for the worker. Times are canonical (src/common/time.ts). */
export interface ReferralEventMessage {
  readonly eventName: ReferralEventName;
  readonly referralId: string;
  /** ResourceChangeUtcDate: the referral's updatedDateTime at the change. */
  readonly changedAt: string;
  readonly receivedAt: string;
}

export type ParsedEvent =
  | { readonly kind: 'referral'; readonly message: ReferralEventMessage }
  /** test-created: its ResourceUri is not a referral (the docs show two shapes), so only its name is checked. */
  | { readonly kind: 'test' };

export interface EventRules {
  /** Hosts (`host[:port]`, lower case) a referral's ResourceUri may name: see resourceHosts(). */
  readonly resourceHosts: readonly string[];
}

/** `/engagements/v1/referrals/{GUID}`; the docs spell the path in lower case, translations do not. */
const REFERRAL_PATH =
  /^\/engagements\/v1\/referrals\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;
const EVENT_NAME_SHAPE = /^[a-z0-9-]{1,64}$/i;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Partner Center's own host, always: the sandbox's events carry it by default, as the real ones do;
 * plus the host of PARTNER_CENTER_WEBHOOKS_BASE_URL, where the sandbox is told to put its own origin.
 * Hosts, not schemes: the docs' own samples write `http://api.partnercenter.microsoft.com/…`.
 */
export function resourceHosts(webhooksBaseUrl: string): string[] {
  return [...new Set([PARTNER_CENTER_EVENTS_HOST, new URL(webhooksBaseUrl).host])];
}

export function parseEvent(rawBody: Buffer, rules: EventRules, receivedAtMs: number): ParsedEvent {
  const fields = jsonObject(rawBody);
  const name = fields.EventName;
  if (name === TEST_EVENT) return { kind: 'test' };
  if (!isReferralEvent(name)) throw new BadEventError('unknown_event', `unknown EventName ${describeName(name)}`);
  return {
    kind: 'referral',
    message: {
      eventName: name,
      referralId: referralId(fields.ResourceUri, rules),
      changedAt: changeDate(fields.ResourceChangeUtcDate),
      receivedAt: formatTimestamp(receivedAtMs),
    },
  };
}

/** The size check on its own, so that the receiver can apply it before anything reads the body. */
export function checkEventSize(rawBody: Buffer): void {
  if (rawBody.length > MAX_EVENT_BYTES) {
    throw new BadEventError('too_large', `the body has ${rawBody.length} bytes, more than ${MAX_EVENT_BYTES}`);
  }
}

function jsonObject(rawBody: Buffer): Record<string, unknown> {
  checkEventSize(rawBody);
  // .NET writers may start UTF-8 with a byte order mark; JSON.parse would refuse it.
  const bytes = rawBody.subarray(0, 3).equals(UTF8_BOM) ? rawBody.subarray(3) : rawBody;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BadEventError('not_json', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadEventError('not_an_object', 'the body is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function isReferralEvent(name: unknown): name is ReferralEventName {
  return typeof name === 'string' && (REFERRAL_EVENTS as readonly string[]).includes(name);
}

/** An event name is worth logging when Partner Center adds one; anything else is not echoed. */
function describeName(name: unknown): string {
  if (typeof name !== 'string') return '(missing or not a string)';
  return EVENT_NAME_SHAPE.test(name) ? `'${name}'` : '(not an event name)';
}

function referralId(resourceUri: unknown, rules: EventRules): string {
  const url = typeof resourceUri === 'string' ? parseUrl(resourceUri) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new BadEventError('bad_resource_uri', 'ResourceUri is not an http(s) URL');
  }
  if (!rules.resourceHosts.includes(url.host)) {
    throw new BadEventError('foreign_resource', `ResourceUri names ${url.host.slice(0, 255)}, not Partner Center`);
  }
  const id = REFERRAL_PATH.exec(url.pathname)?.[1];
  if (!id) throw new BadEventError('bad_resource_uri', 'ResourceUri is not /engagements/v1/referrals/{id}');
  return id;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function changeDate(value: unknown): string {
  const canonical = typeof value === 'string' ? canonicalTimestamp(value) : undefined;
  if (canonical === undefined) throw new BadEventError('bad_change_date', 'ResourceChangeUtcDate is not a timestamp');
  return canonical;
}

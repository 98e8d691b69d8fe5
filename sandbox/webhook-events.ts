/**
 * What a Partner Center webhook event is, as the "Partner Center webhook events" and "Partner Center
 * webhooks" pages describe it: a pointer to the changed resource, not the resource. The field names
 * and their PascalCase are the documented ones; receivers match them exactly.
 */
import { canonicalTimestamp } from '../src/common/time.js';
import {
  PARTNER_CENTER_EVENTS_HOST,
  REFERRAL_EVENTS,
  type ReferralEventName,
  TEST_EVENT,
} from '../src/events/event.js';

// The docs' event names, shared with the receiver: the sandbox emits referral-created and
// referral-updated (it has no related referrals), and test-created on POST …/validationEvents.
export { REFERRAL_EVENTS, type ReferralEventName, TEST_EVENT };

/** What `GET /webhooks/v1/registration/events` answers: the events this sandbox can stand behind. */
export const SUPPORTED_EVENTS: readonly string[] = [TEST_EVENT, ...REFERRAL_EVENTS];

export type EventName = ReferralEventName | typeof TEST_EVENT;

/**
 * Where Partner Center's resource URIs point, as the real events do (the receiver accepts this host
 * always); a sandbox option overrides it (see SandboxOptions).
 */
export const PARTNER_CENTER_RESOURCE_BASE = `https://${PARTNER_CENTER_EVENTS_HOST}`;

export interface PartnerCenterEvent {
  readonly EventName: EventName;
  readonly ResourceUri: string;
  readonly ResourceName: string;
  /** Optional in the docs, and null in every referral and test example. */
  readonly AuditUri: string | null;
  /** UTC, seven fractional digits and a `+00:00` offset, as the docs' examples print it. */
  readonly ResourceChangeUtcDate: string;
}

/** One tenant's registration: one URL for every event it names. */
export interface Registration {
  readonly subscriberId: string;
  readonly webhookUrl: string;
  readonly webhookEvents: readonly EventName[];
  /** SignatureTokenToMsSignatureHeader: the signature goes in `x-ms-signature` instead of Authorization. */
  readonly signatureInMsHeader: boolean;
}

/** `{baseURL}/engagements/v1/referrals/{id}`: the docs' syntax for every referral event. */
export function referralEvent(
  name: ReferralEventName,
  referralId: string,
  changedAt: string,
  resourceBase: string,
): PartnerCenterEvent {
  return {
    EventName: name,
    ResourceUri: `${resourceBase}/engagements/v1/referrals/${encodeURIComponent(referralId)}`,
    ResourceName: 'referral',
    AuditUri: null,
    ResourceChangeUtcDate: changeUtcDate(changedAt),
  };
}

/** `{baseURL}/webhooks/v1/registration/validationEvents/{correlationId}`, resource name `test`. */
export function testEvent(correlationId: string, at: Date, resourceBase: string): PartnerCenterEvent {
  return {
    EventName: TEST_EVENT,
    ResourceUri: `${resourceBase}/webhooks/v1/registration/validationEvents/${correlationId}`,
    ResourceName: 'test',
    AuditUri: null,
    ResourceChangeUtcDate: changeUtcDate(at.toISOString()),
  };
}

/** `2018-02-17T00:05:39.5485487+00:00` from any ISO timestamp (the referral's updatedDateTime). */
export function changeUtcDate(timestamp: string): string {
  const canonical = canonicalTimestamp(timestamp);
  if (canonical === undefined) throw new Error(`not a timestamp: ${JSON.stringify(timestamp)}`);
  return `${canonical.slice(0, -1)}+00:00`;
}

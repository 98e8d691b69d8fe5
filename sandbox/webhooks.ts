/**
 * The sandbox tenant's webhook registration and the emitter every writer of referrals calls: the
 * BookWriter, through which the mutator, the write routes and the expiry job all write. An event
 * goes out only when the tenant has registered a URL for its name, to the URL registered then.
 *
 * Removals emit nothing: Partner Center lists no referral-deleted event (a referral is closed, not
 * deleted), and a referral that leaves a user's view is not a change to the referral at all.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Referral } from '../src/schema/referral-resource.js';
import type { DeliveryRecord, WebhookDelivery } from './webhook-delivery.js';
import {
  type EventName,
  type PartnerCenterEvent,
  type Registration,
  referralEvent,
  testEvent,
} from './webhook-events.js';

/** What writers of referrals tell the webhooks about; the only API they need. */
export interface ReferralChangeListener {
  referralCreated(referral: Referral): void;
  referralUpdated(referral: Referral): void;
}

/** `GET …/validationEvents/{correlationId}`, in the docs' shape. */
export interface ValidationStatus {
  readonly correlationId: string;
  readonly partnerId: string;
  readonly status: 'completed' | 'failed' | 'inProgress';
  readonly callbackUrl: string;
  readonly results: readonly {
    readonly responseCode: string;
    readonly responseMessage: string;
    readonly systemError: boolean;
    readonly dateTimeUtc: string;
  }[];
}

export class Webhooks implements ReferralChangeListener {
  private registration: Registration | undefined;

  constructor(
    private readonly delivery: WebhookDelivery,
    private readonly options: { readonly tenantId: string; readonly resourceBase: string },
  ) {}

  get current(): Registration | undefined {
    return this.registration;
  }

  /** A new registration, with a new subscriber id. */
  register(settings: Omit<Registration, 'subscriberId'>): Registration {
    this.registration = { subscriberId: randomUUID(), ...settings };
    return this.registration;
  }

  /** PUT: the same subscriber, new URL and events. */
  replace(settings: Omit<Registration, 'subscriberId'>): Registration {
    this.registration = { subscriberId: this.registration?.subscriberId ?? randomUUID(), ...settings };
    return this.registration;
  }

  unregister(): boolean {
    const had = this.registration !== undefined;
    this.registration = undefined;
    return had;
  }

  referralCreated(referral: Referral): void {
    this.emit(referralEvent('referral-created', referral.id, referral.updatedDateTime, this.options.resourceBase));
  }

  referralUpdated(referral: Referral): void {
    this.emit(referralEvent('referral-updated', referral.id, referral.updatedDateTime, this.options.resourceBase));
  }

  /** Sends test-created now; the caller has checked that the registration subscribes to it. */
  sendTestEvent(): string {
    const correlationId = randomUUID();
    this.emit(testEvent(correlationId, new Date(), this.options.resourceBase), correlationId);
    return correlationId;
  }

  /** The validation event's attempts so far, or undefined for an unknown correlation id. */
  validationStatus(correlationId: string): ValidationStatus | undefined {
    const record = this.delivery.events().find((r) => r.correlationId === correlationId && !r.duplicateOf);
    if (!record) return undefined;
    return {
      correlationId,
      partnerId: this.options.tenantId,
      status: validationState(record),
      callbackUrl: record.url,
      results: record.attempts.map((a) => ({
        responseCode: a.status === undefined ? '' : dotNetStatusName(a.status),
        responseMessage: a.status !== undefined && a.status < 300 ? '' : (a.message ?? ''),
        systemError: a.status === undefined,
        dateTimeUtc: a.at,
      })),
    };
  }

  private emit(event: PartnerCenterEvent, correlationId?: string): void {
    const registration = this.registration;
    if (!registration || !subscribes(registration, event.EventName)) return;
    this.delivery.send(
      event,
      { url: registration.webhookUrl, signatureInMsHeader: registration.signatureInMsHeader },
      correlationId,
    );
  }
}

export function subscribes(registration: Registration, name: EventName): boolean {
  return registration.webhookEvents.includes(name);
}

/** The docs show only "completed"; the other two are the sandbox's words for the other outcomes. */
function validationState(record: DeliveryRecord): ValidationStatus['status'] {
  if (record.state === 'delivered') return 'completed';
  if (record.state === 'pending') return 'inProgress';
  return 'failed';
}

/** .NET's HttpStatusCode name ("OK", "InternalServerError"), as the docs' responseCode shows it. */
function dotNetStatusName(status: number): string {
  return (STATUS_CODES[status] ?? String(status)).replace(/[^A-Za-z0-9]/g, '');
}

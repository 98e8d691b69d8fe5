/**
 * The rules of `POST /v1.0/engagements/referrals`: what a new referral must carry, what the creator
 * may not set, and what the service fills in. Pure: the write service stamps and stores the result.
 *
 * Required, per Microsoft's "Create a referral" page: the referral type, customerProfile, consent
 * and details. The sandbox also requires the referral's name and the customer's name and country
 * (docs/sandbox.md, "Writes", says why). The new referral belongs to the caller's organisation, is
 * Outgoing, and, as the page's example answer shows (New/Pending sent, Active/Accepted returned), is
 * accepted at creation.
 */
import { REFERRAL_FIELDS, type Referral } from '../src/schema/referral-resource.js';
import type { Random } from './random.js';
import { checkValue, isPlainObject, NOT_PATCHABLE } from './referral-fields.js';
import { drawTicks, makeETag, makeLinks, newGuid, stampAt } from './referral-parts.js';
import { API_CHANNEL, checkSubstatusFits } from './referral-writes.js';
import type { Organization } from './seed-data.js';
import { InvalidWriteError } from './write-error.js';

/** Paths a create must give, outermost first, so the 400 names the first thing missing. */
export const REQUIRED_TO_CREATE: readonly (readonly string[])[] = [
  ['type'],
  ['name'],
  ['customerProfile'],
  ['customerProfile', 'name'],
  ['customerProfile', 'address'],
  ['customerProfile', 'address', 'country'],
  ['consent'],
  ['details'],
];

/** The statuses a referral may be created in; closing one is a later PATCH. */
const OPENING_STATUSES = ['New', 'Active'];

export interface Creation {
  readonly at: Date;
  readonly random: Random;
  /** The caller's organisation, which owns what it creates. */
  readonly organization: Organization;
}

/** The referral a POST body creates; throws InvalidWriteError naming the field at fault. */
export function createdReferral(body: Record<string, unknown>, creation: Creation): Referral {
  refuseServiceFields(body);
  requireFields(body);
  for (const field of REFERRAL_FIELDS) if (field.name in body) checkValue(field, body[field.name], `/${field.name}`);
  checkOpeningStatus(body);
  return assemble(body, creation);
}

function refuseServiceFields(body: Record<string, unknown>): void {
  for (const name of Object.keys(body)) {
    const rule = NOT_PATCHABLE.get(name);
    if (rule?.setBy === 'service')
      throw new InvalidWriteError(`/${name}`, `'/${name}' is set by the service: ${rule.why}`);
  }
}

function requireFields(body: Record<string, unknown>): void {
  for (const path of REQUIRED_TO_CREATE) {
    let value: unknown = body;
    for (const name of path) value = isPlainObject(value) ? value[name] : undefined;
    if (value === undefined || value === null || value === '') {
      throw new InvalidWriteError(`/${path.join('/')}`, `'/${path.join('/')}' is required to create a referral`);
    }
  }
}

function checkOpeningStatus(body: Record<string, unknown>): void {
  const status = body.status ?? 'New';
  if (!OPENING_STATUSES.includes(String(status))) {
    throw new InvalidWriteError(
      '/status',
      `A referral is created New or Active, not ${status}; close it later with a PATCH`,
    );
  }
  if (body.substatus != null) checkSubstatusFits(String(status), body.substatus);
}

/** Every documented field in the order the generator writes them, then whatever else the body carried. */
function assemble(body: Record<string, unknown>, { at, random, organization }: Creation): Referral {
  const ms = at.getTime();
  const created = stampAt(ms, drawTicks(random));
  const id = newGuid(random);
  const engagementId = typeof body.engagementId === 'string' ? body.engagementId : newGuid(random);
  const given = body as Partial<Referral>;
  const referral: Referral = {
    id,
    engagementId,
    organizationId: organization.id,
    organizationName: organization.name,
    businessProfileId: null,
    name: given.name ?? null,
    externalReferenceId: given.externalReferenceId ?? null,
    createdDateTime: created,
    updatedDateTime: created,
    // Outgoing referrals wait for no answer, so they have no deadline (the docs' example answer: null).
    expirationDateTime: null,
    acceptedDateTime: created,
    status: 'Active',
    substatus: 'Accepted',
    statusReason: given.statusReason ?? null,
    type: given.type ?? null,
    qualification: given.qualification ?? 'None',
    direction: 'Outgoing',
    referralSource: null,
    callToAction: null,
    salesStage: given.salesStage ?? 'Qualify',
    campaignId: null,
    favorite: given.favorite ?? false,
    lastModifiedVia: API_CHANNEL,
    lastRunId: null,
    eTag: makeETag(random, ms),
    customerProfile: given.customerProfile ?? null,
    consent: given.consent ?? null,
    details: given.details ?? null,
    team: given.team ?? [],
    inviteContext: given.inviteContext ?? null,
    target: given.target ?? [],
    links: makeLinks(random, id, engagementId),
  };
  for (const [name, value] of Object.entries(body)) if (!(name in referral)) referral[name] = value;
  return referral;
}

/**
 * What a flow or an operator may change on a referral, checked here before anything is sent: the
 * same rules Partner Center applies (the transition table and the allowed status/substatus pairs of
 * the resource model), plus this app's own narrower ones (only an incoming New lead is accepted or
 * declined; only the fields below are patched). A refused change throws BadQueryError naming the
 * field, and never reaches Partner Center.
 */
import { BadQueryError } from '../common/errors.js';
import { canonicalTimestamp } from '../common/time.js';
import {
  DECLINE_REASONS,
  REFERRAL_STATUS,
  REFERRAL_SUBSTATUS,
  type Referral,
  STATUS_TRANSITIONS,
  SUBSTATUS_BY_STATUS,
} from '../schema/referral-resource.js';
import type { JsonPatchOperation } from '../source/client.js';

/** One field `PATCH /api/referrals/{id}` takes: its name in the request, where it goes, its type. */
export interface PatchField {
  readonly name: string;
  readonly pointer: string;
  readonly type: 'string' | 'number' | 'date-time' | 'team';
  readonly values?: readonly string[];
  readonly description: string;
}

/** The whitelist, declared once: it drives the checks, the JSON Patch and the OpenAPI body. */
export const PATCH_FIELDS: readonly PatchField[] = [
  { name: 'status', pointer: '/status', type: 'string', values: REFERRAL_STATUS, description: 'New status.' },
  {
    name: 'substatus',
    pointer: '/substatus',
    type: 'string',
    values: REFERRAL_SUBSTATUS,
    description: 'New substatus; must fit the status.',
  },
  { name: 'statusReason', pointer: '/statusReason', type: 'string', description: 'Why (needed to decline).' },
  { name: 'dealValue', pointer: '/details/dealValue', type: 'number', description: 'Deal value.' },
  { name: 'currency', pointer: '/details/currency', type: 'string', description: 'ISO 4217 code, e.g. USD.' },
  {
    name: 'closingDateTime',
    pointer: '/details/closingDateTime',
    type: 'date-time',
    description: 'Expected closing date (UTC).',
  },
  { name: 'notes', pointer: '/details/notes', type: 'string', description: 'Deal notes.' },
  {
    name: 'team',
    pointer: '/team',
    type: 'team',
    description:
      "The partner's sales team on this referral (replaces it): [{ email, firstName?, lastName?, phoneNumber? }].",
  },
];

const MAX_TEXT = 4000;
const CURRENCY = /^[A-Z]{3}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** Accepting an incoming lead: New → Active / Accepted. */
export function acceptOperations(current: Referral): JsonPatchOperation[] {
  checkAnswerable(current, 'accepted');
  return [replace('/status', 'Active'), replace('/substatus', 'Accepted')];
}

/** A decline's input, checked before the referral is read: `{ reason }`, one of the offered reasons. */
export function checkDeclineInput(input: unknown): string {
  const reason = (typeof input === 'object' && input !== null ? (input as { reason?: unknown }) : {}).reason;
  if (typeof reason !== 'string' || !(DECLINE_REASONS as readonly string[]).includes(reason)) {
    throw new BadQueryError('reason', `reason must be one of: ${DECLINE_REASONS.join('; ')}`);
  }
  return reason;
}

/** Declining an incoming lead: New → Closed / Declined, with one of the offered reasons. */
export function declineOperations(current: Referral, input: unknown): JsonPatchOperation[] {
  const reason = checkDeclineInput(input);
  checkAnswerable(current, 'declined');
  return [replace('/status', 'Closed'), replace('/substatus', 'Declined'), replace('/statusReason', reason)];
}

/** The whitelisted changes as JSON Patch, checked field by field and as a transition. */
export function changeOperations(current: Referral, changes: unknown): JsonPatchOperation[] {
  const operations = checkChanges(changes);
  const given = changes as Record<string, unknown>;
  checkTransition(current, {
    status: (given.status as string | undefined) ?? current.status ?? 'None',
    substatus: (given.substatus as string | undefined) ?? current.substatus ?? 'None',
    statusReason: (given.statusReason as string | undefined) ?? current.statusReason ?? undefined,
  });
  return operations;
}

/** The changes checked field by field, before the referral is read; their JSON Patch. */
export function checkChanges(changes: unknown): JsonPatchOperation[] {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new BadQueryError('body', 'the body must be a JSON object of the fields to change');
  }
  const given = changes as Record<string, unknown>;
  const known = new Set(PATCH_FIELDS.map((f) => f.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw new BadQueryError(
        name,
        `'${name.slice(0, 40)}' cannot be changed here; the fields are ${[...known].join(', ')}`,
      );
    }
  }
  const operations = PATCH_FIELDS.filter((f) => given[f.name] !== undefined).map((f) =>
    replace(f.pointer, checkedValue(f, given[f.name])),
  );
  if (operations.length === 0) throw new BadQueryError('body', 'the body names no field to change');
  return operations;
}

/** Only an incoming lead still waiting for an answer is accepted or declined here. */
function checkAnswerable(current: Referral, verb: string): void {
  if (current.direction !== 'Incoming') {
    throw new BadQueryError(
      'id',
      `only an incoming referral can be ${verb}; this one is ${current.direction ?? 'of no direction'}`,
    );
  }
  if (current.status !== 'New') {
    throw new BadQueryError(
      'id',
      `only a referral waiting for an answer (status New) can be ${verb}; this one is ${current.status}/${current.substatus}`,
    );
  }
}

/** The status moves only as the transition table says; the substatus fits; a decline says why. */
function checkTransition(
  current: Referral,
  after: { status: string; substatus: string; statusReason: string | null | undefined },
): void {
  const from = String(current.status ?? 'None');
  const next = STATUS_TRANSITIONS[from] ?? [];
  if (after.status !== from && !next.includes(after.status)) {
    throw new BadQueryError(
      'status',
      `a referral cannot move from ${from} to ${after.status}${next.length ? `; from ${from} it can go to ${next.join(', ')}` : ''}`,
    );
  }
  const allowed = SUBSTATUS_BY_STATUS[after.status] ?? [];
  if (!allowed.includes(after.substatus)) {
    throw new BadQueryError(
      'substatus',
      `substatus ${after.substatus} does not fit status ${after.status}, which allows ${allowed.join(', ')}`,
    );
  }
  if (after.substatus === 'Declined' && !(typeof after.statusReason === 'string' && after.statusReason.trim())) {
    throw new BadQueryError('statusReason', 'declining needs a statusReason saying why');
  }
}

function checkedValue(field: PatchField, value: unknown): unknown {
  const bad = (why: string) => new BadQueryError(field.name, `${field.name} ${why}`);
  switch (field.type) {
    case 'string': {
      if (typeof value !== 'string' || value.length > MAX_TEXT)
        throw bad(`must be text of at most ${MAX_TEXT} characters`);
      if (field.values && !field.values.includes(value)) throw bad(`must be one of ${field.values.join(', ')}`);
      if (field.name === 'currency' && !CURRENCY.test(value)) throw bad('must be an ISO 4217 code such as USD');
      return value;
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad('must be a number, 0 or more');
      return value;
    case 'date-time': {
      const canonical = typeof value === 'string' ? canonicalTimestamp(value) : undefined;
      if (!canonical) throw bad('must be a date-time such as 2027-03-31T00:00:00Z');
      return canonical;
    }
    case 'team':
      return checkedTeam(value, bad);
  }
}

function checkedTeam(value: unknown, bad: (why: string) => BadQueryError): unknown[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) throw bad('must be a list of 1 to 50 members');
  return value.map((member) => {
    const m = (typeof member === 'object' && member !== null ? member : {}) as Record<string, unknown>;
    if (typeof m.email !== 'string' || !EMAIL.test(m.email)) throw bad('members each need an email address');
    for (const [key, text] of Object.entries(m)) {
      if (!['email', 'firstName', 'lastName', 'phoneNumber'].includes(key))
        throw bad(`members take no '${key.slice(0, 40)}'`);
      if (typeof text !== 'string' || text.length > 256)
        throw bad(`member ${key} must be text of at most 256 characters`);
    }
    return { ...m };
  });
}

function replace(path: string, value: unknown): JsonPatchOperation {
  return { op: 'replace', path, value };
}

/** What `POST /api/referrals` takes: an outgoing co-sell referral, in flat names a flow can fill. */
export interface NewReferralField {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean' | 'date-time' | 'contact' | 'team';
  readonly required: boolean;
  readonly values?: readonly string[];
  readonly description: string;
}

export const NEW_REFERRAL_FIELDS: readonly NewReferralField[] = [
  { name: 'name', type: 'string', required: true, description: 'What the opportunity is called.' },
  { name: 'customerName', type: 'string', required: true, description: "The customer's organisation." },
  {
    name: 'customerCountry',
    type: 'string',
    required: true,
    description: "The customer's country, ISO code such as US.",
  },
  { name: 'customerCity', type: 'string', required: false, description: "The customer's city." },
  {
    name: 'customerContact',
    type: 'contact',
    required: false,
    description: 'The customer contact: { firstName, lastName, email, phoneNumber }; needs consentToContact true.',
  },
  {
    name: 'consentToContact',
    type: 'boolean',
    required: true,
    description:
      'Whether the customer agreed to be contacted about this opportunity (true is needed to send a customer contact).',
  },
  {
    name: 'consentToShareInfo',
    type: 'boolean',
    required: true,
    description: 'The customer agreed that their details go to Microsoft and partners.',
  },
  { name: 'dealValue', type: 'number', required: true, description: 'Deal value.' },
  { name: 'currency', type: 'string', required: true, description: 'ISO 4217 code, e.g. USD.' },
  { name: 'closingDateTime', type: 'date-time', required: false, description: 'Expected closing date (UTC).' },
  { name: 'notes', type: 'string', required: false, description: 'What the customer needs.' },
  {
    name: 'qualification',
    type: 'string',
    required: false,
    values: ['Direct', 'MarketingQualified', 'SalesQualified'],
    description: 'How the opportunity was qualified.',
  },
  {
    name: 'team',
    type: 'team',
    required: false,
    description: "The partner's sales team: [{ email, firstName?, lastName?, phoneNumber? }].",
  },
];

/** The Partner Center referral a create sends, from the flat input, checked field by field. */
export function newReferralBody(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BadQueryError('body', 'the body must be a JSON object describing the referral');
  }
  const given = input as Record<string, unknown>;
  const known = new Set(NEW_REFERRAL_FIELDS.map((f) => f.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw new BadQueryError(
        name,
        `'${name.slice(0, 40)}' is not a field of a new referral; the fields are ${[...known].join(', ')}`,
      );
    }
  }
  const value: Record<string, unknown> = {};
  for (const field of NEW_REFERRAL_FIELDS) {
    const raw = given[field.name];
    if (raw === undefined || raw === null || raw === '') {
      if (field.required) throw new BadQueryError(field.name, `${field.name} is required to create a referral`);
      continue;
    }
    value[field.name] = newFieldValue(field, raw);
  }
  if (!/^[A-Z]{2}$/.test(String(value.customerCountry))) {
    throw new BadQueryError('customerCountry', 'customerCountry must be an ISO 3166 code such as US');
  }
  const contact = value.customerContact as Record<string, unknown> | undefined;
  // A person's details go to Microsoft only with their agreement: Partner Center records the
  // consent but takes a contact without it.
  if (contact && value.consentToContact !== true) {
    throw new BadQueryError(
      'consentToContact',
      'customerContact names a person who has not agreed to be contacted: set consentToContact to true, or leave customerContact out',
    );
  }
  return {
    name: value.name,
    type: 'Shared',
    qualification: value.qualification ?? 'SalesQualified',
    status: 'New',
    substatus: 'Pending',
    customerProfile: {
      name: value.customerName,
      address: { country: value.customerCountry, ...(value.customerCity ? { city: value.customerCity } : {}) },
      ...(contact ? { team: [contact] } : {}),
    },
    consent: { consentToContact: value.consentToContact, consentToToShareInfoWithOthers: value.consentToShareInfo },
    details: {
      dealValue: value.dealValue,
      currency: value.currency,
      ...(value.closingDateTime ? { closingDateTime: value.closingDateTime } : {}),
      ...(value.notes ? { notes: value.notes } : {}),
    },
    ...(value.team ? { team: value.team } : {}),
  };
}

function newFieldValue(field: NewReferralField, raw: unknown): unknown {
  const bad = (why: string) => new BadQueryError(field.name, `${field.name} ${why}`);
  switch (field.type) {
    case 'boolean':
      if (typeof raw !== 'boolean') throw bad('must be true or false');
      return raw;
    case 'contact': {
      const [member] = checkedTeam([raw], bad);
      return member;
    }
    case 'team':
      return checkedTeam(raw, bad);
    default:
      return checkedValue(
        { name: field.name, pointer: '', type: field.type, values: field.values, description: '' },
        raw,
      );
  }
}

/**
 * The parts of a generated referral, each picked from the pools of seed-data.ts: qualification and
 * source, customer profile, details and requirements, team, invite context, target, links and the
 * undocumented fields; createReferral (generator.ts) assembles them. Also the small builders the
 * generator and the life simulation (mutations.ts) share: timestamps, GUIDs, ETags, ticks.
 *
 * Speed: strings that a referral keeps are flattened and arrays built by push are copied to exact
 * size, each for the measured reason beside flat and compact.
 */

import { formatTimestampFast, midnightUtc } from '../src/common/time.js';
import { type Address, ASSISTANCE_REQUEST_CODE, type Member, type Referral } from '../src/schema/referral-resource.js';
import { guid, type Random } from './random.js';
import {
  CUSTOMER_ACTIONS,
  type CustomerSeed,
  type GeneratorContext,
  INDUSTRIES,
  INVITE_NOTES,
  MICROSOFT_ORGANIZATION,
  type PersonSeed,
  PRODUCTS,
  type Product,
  SELLER_WEIGHTS,
  SERVICES,
  type Seller,
  SHORT_NOTES,
  SOLUTION_CATEGORIES,
  UNICODE_NOTES,
} from './seed-data.js';

export const DAY_MS = 86_400_000;
const API_BASE = 'https://api.partner.microsoft.com/v1.0/engagements/referrals';

// ---------------------------------------------------------------------------------------------
// Shared builders (createReferral and mutations.ts use them too)

export function drawTicks(random: Random): number {
  return random.chance(0.3) ? 0 : random.int(1, 9999);
}

/** formatTimestampFast, flattened (see flat). */
export function stampAt(ms: number, ticks: number): string {
  return flat(formatTimestampFast(ms, ticks));
}

export function newGuid(random: Random): string {
  return flat(guid(random));
}

/**
 * `text`, flattened. Concatenation leaves V8 cons-string trees (a guid is nine pieces, ~400 bytes);
 * reading a character flattens one in place and the GC then drops the pieces. Retained strings
 * are a third of a generated book's heap, and garbage collection most of the time it takes.
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * An exact-size copy: arrays grown by push keep room for 17 items, which a 200k book pays for in
 * heap and GC time.
 */
function compact<T>(items: T[]): T[] {
  return items.length === 0 ? [] : items.slice();
}

export function makeETag(random: Random, atMs: number): string {
  // Cosmos-style, as the docs show: "00006d10-0000-0000-0000-5c70aa630000" where 5c70aa63 is the epoch second.
  const seconds = Math.floor(atMs / 1000)
    .toString(16)
    .padStart(8, '0');
  const salt = random.int(0, 0xffff).toString(16).padStart(4, '0');
  return flat(`"0000${salt}-0000-0000-0000-${seconds}0000"`);
}

export function crmOpportunityId(random: Random): string {
  return random.chance(0.5) ? newGuid(random) : `006${random.hex(12).toUpperCase()}`;
}

// ---------------------------------------------------------------------------------------------
// Parts of a referral

export function pickQualification(random: Random, direction: string, type: string): string {
  if (direction === 'Outgoing') {
    return random.weighted([
      ['None', 55],
      ['Direct', 35],
      ['SalesQualified', 7],
      ['MarketingQualified', 3],
    ]);
  }
  return type === 'Shared'
    ? random.weighted([
        ['SalesQualified', 60],
        ['MarketingQualified', 15],
        ['Direct', 10],
        ['None', 15],
      ])
    : random.weighted([
        ['Direct', 55],
        ['MarketingQualified', 35],
        ['None', 10],
      ]);
}

export function referralSource(random: Random, direction: string, qualification: string): string | null {
  if (random.chance(0.2)) return null;
  if (direction === 'Outgoing') return random.pick(['PartnerCenter', 'CrmConnector']);
  if (qualification === 'SalesQualified') return 'MicrosoftSeller';
  if (qualification === 'MarketingQualified') return 'Marketing';
  return random.pick(['SolutionProfile', 'PartnerFinder', 'BusinessApplications']);
}

export function campaign(random: Random, ctx: GeneratorContext, qualification: string): string | null {
  const p = qualification === 'MarketingQualified' ? 0.8 : 0.05;
  return random.chance(p) ? random.pick(ctx.campaigns) : null;
}

export function externalReference(random: Random, index: number, incoming: boolean): string | null {
  if (!random.chance(incoming ? 0.1 : 0.6)) return null;
  return random.chance(0.7) ? flat(`OPP-${String(100_000 + index).padStart(7, '0')}`) : crmOpportunityId(random);
}

export function makeCustomerProfile(random: Random, customer: CustomerSeed): NonNullable<Referral['customerProfile']> {
  const country = customer.country;
  // The region key is simply absent on some records (two literals keep one object shape each).
  const address: Address = random.chance(0.9)
    ? {
        addressLine1: customer.addressLine1,
        addressLine2: customer.addressLine2,
        city: customer.city,
        state: customer.state,
        postalCode: customer.postalCode,
        country: country.code,
        region: country.region,
      }
    : {
        addressLine1: customer.addressLine1,
        addressLine2: customer.addressLine2,
        city: customer.city,
        state: customer.state,
        postalCode: customer.postalCode,
        country: country.code,
      };
  const contacts = random.weighted(CONTACT_COUNTS);
  const team: Member[] = [];
  for (let i = 0; i < contacts && i < customer.contacts.length; i++) {
    const person = customer.contacts[i];
    if (person) team.push(personMember(random, person));
  }
  return { name: customer.name, size: customer.size, address, team: compact(team), ids: customerIds(random, customer) };
}

const CONTACT_COUNTS: readonly (readonly [number, number])[] = [
  [0, 20],
  [1, 50],
  [2, 22],
  [3, 8],
];

function customerIds(
  random: Random,
  customer: CustomerSeed,
): NonNullable<NonNullable<Referral['customerProfile']>['ids']> {
  const roll = random.next();
  if (roll < 0.05) return {};
  if (roll < 0.12) return [{ id: customer.duns, profileType: 'Duns' }];
  if (roll < 0.15) return [{ id: `CRM-${customer.duns.slice(0, 6)}`, profileType: 'External' }];
  return [];
}

function personMember(random: Random, person: PersonSeed): Member {
  return {
    firstName: person.firstName,
    lastName: person.lastName,
    email: person.email,
    phoneNumber: random.chance(0.85) ? person.phoneNumber : null,
    contactPreference: { locale: person.locale, disableNotifications: random.chance(0.15) },
  };
}

export function makeDetails(
  random: Random,
  ctx: GeneratorContext,
  customer: CustomerSeed,
  product: Product,
  atMs: number,
  incoming: boolean,
): NonNullable<Referral['details']> {
  const currency = random.chance(0.65) ? customer.country.currency : random.pick(['USD', 'USD', 'EUR']);
  return {
    notes: makeNotes(random, ctx),
    dealValue: dealValue(random, customer.size, currency),
    currency,
    closingDateTime: random.chance(0.85) ? flat(midnightUtc(atMs + random.int(20, 240) * DAY_MS)) : null,
    customerAction: incoming && random.chance(0.6) ? random.pick(CUSTOMER_ACTIONS) : null,
    customerRequestedContact: random.chance(incoming ? 0.55 : 0.2),
    requirements: random.chance(0.03) ? null : makeRequirements(random, ctx, product),
  };
}

function makeNotes(random: Random, ctx: GeneratorContext): string | null {
  const roll = random.next();
  if (roll < 0.04) return null;
  if (roll < 0.08) return random.pick(ctx.longNotes);
  if (roll < 0.14) return random.pick(UNICODE_NOTES);
  if (roll < 0.16) return '';
  return random.pick(SHORT_NOTES);
}

function dealValue(random: Random, size: string, currency: string): number | string | null {
  const roll = random.next();
  if (roll < 0.02) return null;
  if (roll < 0.03) return 0;
  const large = size.startsWith('Morethan') || size.startsWith('10001') || size.startsWith('5001');
  const value = random.int(1, large ? 400 : 60) * (large ? 5000 : 500) * (currency === 'JPY' ? 100 : 1);
  const withCents = random.chance(0.05) ? value - 0.01 : value;
  // The real API sometimes sends the number as a string ("10000").
  return roll < 0.04 ? String(withCents) : withCents;
}

function makeRequirements(
  random: Random,
  ctx: GeneratorContext,
  product: Product,
): NonNullable<NonNullable<Referral['details']>['requirements']> {
  const extra = random.chance(0.35) ? random.pick(PRODUCTS).id : product.id;
  const products = random.chance(0.08)
    ? []
    : extra === product.id
      ? [{ id: product.id }]
      : [{ id: product.id }, { id: extra }];
  return {
    industries: pickIds(random, INDUSTRIES, random.weighted(SMALL_COUNTS)),
    products,
    services: pickIds(random, SERVICES, random.weighted(SMALL_COUNTS)),
    solutions: makeSolutions(random, ctx, product),
  };
}

const SMALL_COUNTS: readonly (readonly [number, number])[] = [
  [0, 25],
  [1, 50],
  [2, 20],
  [3, 5],
];

function pickIds(random: Random, pool: readonly string[], count: number): { id: string }[] {
  const ids: { id: string }[] = [];
  for (let i = 0; i < count; i++) {
    const id = random.pick(pool);
    if (!ids.some((x) => x.id === id)) ids.push({ id });
  }
  return compact(ids);
}

function makeSolutions(
  random: Random,
  ctx: GeneratorContext,
  product: Product,
): { id: string; name?: string | null; type?: string | null }[] {
  const count = random.weighted(SMALL_COUNTS);
  const solutions: { id: string; name?: string | null; type?: string | null }[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random.next();
    if (roll < 0.4) {
      // As in the docs' example: id and name, no type.
      solutions.push(
        random.chance(0.5)
          ? { id: product.solutionId, name: product.id }
          : { id: product.solutionId, name: product.id, type: 'Name' },
      );
    } else if (roll < 0.75) {
      const profile = random.pick(ctx.solutionProfiles);
      solutions.push({ id: profile.id, name: profile.name, type: random.pick(['Name', 'None']) });
    } else {
      const category = random.pick(SOLUTION_CATEGORIES);
      solutions.push({ id: category.id, name: category.name, type: 'Category' });
    }
  }
  return compact(solutions);
}

export function makeTeam(random: Random, ctx: GeneratorContext): Member[] {
  const size = random.weighted(TEAM_SIZES);
  const team: Member[] = [];
  const add = (member: Member): void => {
    if (!team.some((m) => m.email === member.email)) team.push(member);
  };
  if (size > 0 && random.chance(0.2)) add(seededMember(random, ctx.users.user, 'Sam', 'Seller'));
  if (size > 0 && random.chance(0.1)) add(seededMember(random, ctx.users.admin, 'Ada', 'Admin'));
  for (let tries = 0; team.length < size && tries < size * 3; tries++) {
    add(sellerMember(random, random.weighted(SELLER_WEIGHTS)));
  }
  return compact(team);
}

const TEAM_SIZES: readonly (readonly [number, number])[] = [
  [0, 15],
  [1, 35],
  [2, 30],
  [3, 15],
  [4, 5],
];

function seededMember(random: Random, email: string, firstName: string, lastName: string): Member {
  return {
    firstName,
    lastName,
    email,
    phoneNumber: '+1 425-555-0100',
    contactPreference: { locale: 'en-US', disableNotifications: random.chance(0.1) },
  };
}

export function sellerMember(random: Random, seller: Seller): Member {
  return {
    firstName: seller.firstName,
    lastName: seller.lastName,
    email: seller.email,
    phoneNumber: random.chance(0.9) ? seller.phoneNumber : null,
    contactPreference: { locale: seller.locale, disableNotifications: random.chance(0.1) },
  };
}

export function makeInviteContext(random: Random, ctx: GeneratorContext, incoming: boolean): Referral['inviteContext'] {
  // Outgoing co-sell is our own invitation; incoming comes mostly from Microsoft sellers, else a partner.
  const inviter = !incoming
    ? ctx.organization
    : random.chance(0.75)
      ? MICROSOFT_ORGANIZATION
      : random.pick(ctx.partners);
  return {
    notes: random.chance(0.7) ? random.pick(INVITE_NOTES) : null,
    invitedBy: { organizationId: inviter.id, organizationName: inviter.name },
    assistanceRequestCode: random.pick(ASSISTANCE_REQUEST_CODE),
  };
}

export function makeTarget(
  random: Random,
  ctx: GeneratorContext,
  type: string,
  qualification: string,
): Referral['target'] {
  const p = type === 'Shared' ? 0.3 : qualification === 'Direct' ? 0.4 : 0.05;
  if (!random.chance(p)) return [];
  const first = { type: 'SolutionProfile', id: random.pick(ctx.solutionProfiles).id };
  return random.chance(0.05) ? [first, { type: 'SolutionProfile', id: random.pick(ctx.solutionProfiles).id }] : [first];
}

export function makeLinks(random: Random, id: string, engagementId: string): Referral['links'] {
  const links: NonNullable<Referral['links']> & Record<string, unknown> = {
    relatedReferrals: { uri: flat(`${API_BASE}?$filter=engagementId eq '${engagementId}'`), method: 'GET' },
    self: { uri: flat(`${API_BASE}/${id}`), method: 'GET' },
  };
  // Seen in the wild: an extra, misspelled link name next to the documented ones.
  if (random.chance(0.003)) links.relatedReferal = { uri: `${API_BASE}?$filter=engagementId eq '${engagementId}'` };
  return links;
}

/**
 * Fields live responses carry beyond the reference (referrals-api.md, "Seen beyond the reference
 * pages"). They come in two sets, as from two API versions, each always adding the same keys in
 * the same order (values may be null): few object shapes keep copying referrals fast.
 */
export function addUndocumentedFields(
  random: Random,
  referral: Referral,
  product: string,
  customer: string,
  atMs: number,
): void {
  const roll = random.next();
  if (roll < 0.55) return;
  referral.isMatchingComplete = random.chance(0.8);
  referral.title = random.chance(0.85) ? flat(`${customer} - ${product}`) : null;
  referral.incentiveLevel = random.pick(['None', 'Standard', 'Premium']);
  referral.dealSensitivity = random.chance(0.7) ? random.pick(['None', 'None', 'Confidential']) : null;
  referral.createdVia = random.pick(['PartnerCenter', 'Api', 'CrmConnector', 'MicrosoftSeller']);
  if (roll < 0.85) return;
  referral.invitedMpnId = referral.type === 'Shared' ? String(random.int(1_000_000, 6_999_999)) : null;
  referral.registrations = random.chance(0.5)
    ? []
    : [
        {
          id: `REG-${random.hex(8).toUpperCase()}`,
          programName: random.pick(['AzureIPCoSell', 'MarketplaceRewards', 'CSPIncentive']),
          status: random.pick(['Submitted', 'Approved', 'Rejected']),
          submittedDateTime: stampAt(atMs + random.int(0, 5) * DAY_MS, random.int(0, 9999)),
        },
      ];
  referral.trackingInfo = random.chance(0.8)
    ? {
        source: random.pick(['Web', 'Email', 'Event', 'Teams']),
        correlationId: newGuid(random),
        utm: random.chance(0.5) ? { campaign: 'fy26-modern-work', medium: 'email' } : null,
      }
    : null;
}

/**
 * Seeded fake referrals for the sandbox: data that looks and behaves like Partner Center's. This
 * file is the generation API: options and defaults, the per-seed context, a whole book
 * (generateReferrals) and one new referral (createReferral), and the creation time line.
 *
 * Fidelity is the point: the pipeline is tested against this data, so it carries the real API's
 * quirks (seven-digit timestamps, `customerProfile.ids` as `{}`, `dealValue` as a string, the
 * doubled "To" in consent, undocumented fields, unicode everywhere, exact timestamp ties) while
 * staying mostly well-formed. Facts: ../shared/partner-center/referrals-api.md.
 *
 * Every referral is born by `createReferral` and then lives through `updateReferral` (mutations.ts),
 * the same two functions the sandbox store calls while clients page, so initial data and live
 * changes obey the same rules (status only moves forward, unanswered incoming referrals expire after
 * 14 days). A referral is assembled from referral-parts.ts, which picks from the pools of
 * seed-data.ts.
 *
 * Speed: 200,000 referrals take 2.7–3.3 s on the 2-core dev box while other jobs share it
 * (~3.7 s CPU, a third of it GC for the ~540 MB the book occupies; the test logs the figure).
 * Pools are built once per context, so per item the work is picking and assembling; the hot
 * helpers (hex here; timestamps and string flattening in referral-parts.ts; the in-place life
 * simulation in mutations.ts) exist for that figure, each with the measured reason beside it.
 */

import type { Referral } from '../src/schema/referral-resource.js';
import { liveUntil, RESPONSE_WINDOW_MS } from './mutations.js';
import { createRandom, guid, type Random } from './random.js';
import {
  addUndocumentedFields,
  campaign,
  DAY_MS,
  drawTicks,
  externalReference,
  flat,
  makeCustomerProfile,
  makeDetails,
  makeETag,
  makeInviteContext,
  makeLinks,
  makeTarget,
  makeTeam,
  newGuid,
  pickQualification,
  referralSource,
  stampAt,
} from './referral-parts.js';
import {
  CALLS_TO_ACTION,
  DEAL_KINDS,
  type GeneratorContext,
  makeCustomer,
  makeLongNote,
  makeSolutionProfiles,
  type Organization,
  PARTNER_NAMES,
  PRODUCTS,
  type SeededUsers,
  VIA,
} from './seed-data.js';

// ---------------------------------------------------------------------------------------------
// Public API

export interface GeneratorOptions {
  count: number;
  seed: number;
  /** The dataset's "now"; fixed by default so the same seed gives the same data whatever the clock says. */
  now?: Date;
  organization?: Organization;
  users?: SeededUsers;
}

export interface CreateReferralOptions {
  /** Make a related referral: same engagement and customer as this one. */
  related?: Referral;
  /** Sub-millisecond ticks (0–9999) of createdDateTime; drawn when absent. Equal ticks make exact ties. */
  ticks?: number;
}

export const DEFAULT_NOW = new Date('2026-11-24T06:00:00Z');
/** The organisation of the docs' example response. */
export const DEFAULT_ORGANIZATION: Organization = {
  id: '00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
  name: 'Contoso Company',
};
export const DEFAULT_USERS: SeededUsers = {
  admin: 'admin@contoso-partner.example',
  user: 'seller@contoso-partner.example',
};
/** createdDateTime spreads over this span before `now`. */
const HISTORY_MS = 730 * DAY_MS;

/** Builds the seeded pools; the store keeps one to create referrals while clients page. */
export function createGeneratorContext(options: Omit<GeneratorOptions, 'count'>): GeneratorContext {
  // A stream apart from the referrals' own, so pool size changes never shift the referral stream.
  const random = createRandom((options.seed ^ 0x9e3779b9) >>> 0);
  return {
    now: options.now ?? DEFAULT_NOW,
    organization: options.organization ?? DEFAULT_ORGANIZATION,
    users: options.users ?? DEFAULT_USERS,
    businessProfileId: guid(random),
    customers: Array.from({ length: 5000 }, () => makeCustomer(random)),
    partners: PARTNER_NAMES.map((name) => ({ id: guid(random), name })),
    solutionProfiles: makeSolutionProfiles(random),
    campaigns: Array.from({ length: 12 }, (_, i) => `CMP-FY${25 + (i % 3)}-${random.hex(6).toUpperCase()}`),
    longNotes: Array.from({ length: 48 }, () => makeLongNote(random)),
    runIds: Array.from({ length: 64 }, () => guid(random)),
  };
}

let sharedContext: GeneratorContext | undefined;

/** The context of seed 0 with the default organisation and users, for callers that keep none. */
export function defaultContext(): GeneratorContext {
  sharedContext ??= createGeneratorContext({ seed: 0 });
  return sharedContext;
}

/** `count` referrals as Partner Center would list them at `now`, in creation order. Same options, same data. */
export function generateReferrals(options: GeneratorOptions): Referral[] {
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${options.count}`);
  }
  const ctx = createGeneratorContext(options);
  const random = withFastHex(createRandom(options.seed));
  const nowMs = ctx.now.getTime();
  const times = creationTimes(random, options.count, nowMs);
  const out: Referral[] = [];
  let previousTicks = 0;
  for (let index = 0; index < options.count; index++) {
    const atMs = times[index] ?? nowMs;
    // Equal instants come from bulk imports (creationTimes); they share ticks so the texts tie exactly.
    const tied = index > 0 && times[index - 1] === atMs;
    const ticks = tied ? previousTicks : drawTicks(random);
    previousTicks = ticks;
    const related = random.chance(0.05) ? pickRecent(random, out) : undefined;
    const born = createReferral(random, index, new Date(atMs), ctx, { related, ticks });
    out.push(liveUntil(born, random, atMs, nowMs));
  }
  return out;
}

/** A referral as it is when created at `at`: incoming ones wait for an answer, outgoing ones start accepted. */
export function createReferral(
  random: Random,
  index: number,
  at: Date,
  ctx: GeneratorContext = defaultContext(),
  options: CreateReferralOptions = {},
): Referral {
  const atMs = at.getTime();
  const ticks = options.ticks ?? drawTicks(random);
  const created = stampAt(atMs, ticks);
  const direction = random.chance(0.7) ? 'Incoming' : 'Outgoing';
  const incoming = direction === 'Incoming';
  const type = random.chance(incoming ? 0.45 : 0.65) ? 'Shared' : 'Independent';
  const qualification = pickQualification(random, direction, type);
  const customer = random.pick(ctx.customers);
  const customerProfile = options.related?.customerProfile
    ? structuredClone(options.related.customerProfile)
    : makeCustomerProfile(random, customer);
  const engagementId = options.related?.engagementId ?? newGuid(random);
  const id = newGuid(random);
  const product = random.pick(PRODUCTS);
  const customerName = customerProfile.name ?? customer.name;
  const referral: Referral = {
    id,
    engagementId,
    organizationId: ctx.organization.id,
    organizationName: ctx.organization.name,
    businessProfileId: random.chance(0.5) ? ctx.businessProfileId : null,
    name: flat(`${product.label} ${random.pick(DEAL_KINDS)} - ${customerName}`),
    externalReferenceId: externalReference(random, index, incoming),
    createdDateTime: created,
    updatedDateTime: created,
    expirationDateTime: incoming && random.chance(0.85) ? stampAt(atMs + RESPONSE_WINDOW_MS, ticks) : null,
    acceptedDateTime: incoming ? null : created,
    status: incoming ? 'New' : 'Active',
    substatus: incoming ? 'Pending' : 'Accepted',
    statusReason: null,
    type,
    qualification,
    direction,
    referralSource: referralSource(random, direction, qualification),
    callToAction: qualification === 'Direct' && incoming ? random.pick(CALLS_TO_ACTION) : null,
    salesStage: incoming ? null : 'Qualify',
    campaignId: campaign(random, ctx, qualification),
    favorite: random.chance(0.08),
    lastModifiedVia: incoming ? random.pick(['MicrosoftSeller', 'System', 'PartnerCenter']) : random.pick(VIA),
    lastRunId: random.chance(0.4) ? random.pick(ctx.runIds) : null,
    eTag: makeETag(random, atMs),
    customerProfile,
    consent: random.chance(0.02)
      ? null
      : { consentToContact: random.chance(0.9), consentToToShareInfoWithOthers: random.chance(0.7) },
    details: makeDetails(random, ctx, customer, product, atMs, incoming),
    team: makeTeam(random, ctx),
    inviteContext: type === 'Shared' ? makeInviteContext(random, ctx, incoming) : null,
    target: makeTarget(random, ctx, type, qualification),
    links: makeLinks(random, id, engagementId),
  };
  addUndocumentedFields(random, referral, product.label, customerName, atMs);
  return referral;
}

// ---------------------------------------------------------------------------------------------
// Generation: time line

/** Creation instants, ascending: denser towards `now`, with a few whole-second stamps and bulk-import ties. */
function creationTimes(random: Random, count: number, nowMs: number): Float64Array {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    // u^1.25 leans towards 0, i.e. towards now: a growing referral book.
    const offset = Math.floor(HISTORY_MS * random.next() ** 1.25);
    let ms = nowMs - 1 - offset;
    if (random.chance(0.08)) ms -= ms % 1000;
    times[i] = ms;
  }
  times.sort();
  // Bulk imports (CRM syncs, Microsoft batch sends) stamp several referrals with one instant.
  for (let i = 1; i < count; i++) {
    if (random.chance(0.006)) {
      const run = random.int(1, 3);
      for (let k = 0; k < run && i + k < count; k++) times[i + k] = times[i - 1] ?? 0;
      i += run;
    }
  }
  return times;
}

/**
 * The same stream, and the same hex() text, as createRandom's; only faster. createRandom formats
 * 32-bit doubles with toString(16), which made guid() a fifth of the generation time.
 */
export function withFastHex(base: Random): Random {
  return {
    ...base,
    hex(length: number): string {
      let out = '';
      while (out.length < length) {
        const n = Math.floor(base.next() * 0x100000000);
        out += hexByte(n >>> 24) + hexByte((n >>> 16) & 255) + hexByte((n >>> 8) & 255) + hexByte(n & 255);
      }
      return out.length === length ? out : out.slice(0, length);
    },
  };
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

function hexByte(n: number): string {
  return HEX_BYTES[n] ?? '00';
}

function pickRecent(random: Random, out: readonly Referral[]): Referral | undefined {
  if (out.length === 0) return undefined;
  return out[out.length - 1 - random.int(0, Math.min(out.length, 200) - 1)];
}

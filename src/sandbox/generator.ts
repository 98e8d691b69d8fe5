/**
 * Seeded fake referrals for the sandbox: data that looks and behaves like Partner Center's.
 *
 * Fidelity is the point: the pipeline is tested against this data, so it carries the real API's
 * quirks (seven-digit timestamps, `customerProfile.ids` as `{}`, `dealValue` as a string, the
 * doubled "To" in consent, undocumented fields, unicode everywhere, exact timestamp ties) while
 * staying mostly well-formed. Facts: ../shared/partner-center/referrals-api.md.
 *
 * Every referral is born by `createReferral` and then lives through `updateReferral`, the same two
 * functions the sandbox store calls while clients page, so initial data and live changes obey the
 * same rules (status only moves forward, unanswered incoming referrals expire after 14 days).
 *
 * Referrals are treated as immutable values: `updateReferral` returns a new object that shares
 * unchanged nested parts with its input. Distinct referrals never share objects.
 *
 * Speed: 200,000 referrals take 2.7–3.3 s on the 2-core dev box while other jobs share it
 * (~3.7 s CPU, a third of it GC for the ~540 MB the book occupies; the test logs the figure).
 * Pools are built once per context, so per item the work is picking and assembling; the hot
 * helpers below (timestamps, hex, string flattening, in-place life simulation) exist for that
 * figure, each with the measured reason beside it.
 */

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  canonicalTimestamp,
  formatTimestampFast,
  isCanonical,
  midnightUtc,
  timestampToEpochMs,
} from '../common/time.js';
import {
  type Address,
  ASSISTANCE_REQUEST_CODE,
  CUSTOMER_SIZE,
  type Member,
  RESPONSE_WINDOW_DAYS,
  type Referral,
} from '../schema/referral-resource.js';
import { createRandom, guid, type Random } from './random.js';

// ---------------------------------------------------------------------------------------------
// Public API

export interface Organization {
  readonly id: string;
  readonly name: string;
}

/** Partner-side sign-in identities of the sandbox; they sit on some teams so role visibility can be tested. */
export interface SeededUsers {
  readonly admin: string;
  readonly user: string;
}

export interface GeneratorOptions {
  count: number;
  seed: number;
  /** The dataset's "now"; fixed by default so the same seed gives the same data whatever the clock says. */
  now?: Date;
  organization?: Organization;
  users?: SeededUsers;
}

/** Pools built once from the seed; `createReferral` picks from them. */
export interface GeneratorContext {
  readonly now: Date;
  readonly organization: Organization;
  readonly users: SeededUsers;
  readonly businessProfileId: string;
  readonly customers: readonly CustomerSeed[];
  readonly partners: readonly Organization[];
  readonly solutionProfiles: readonly SolutionSeed[];
  readonly campaigns: readonly string[];
  readonly longNotes: readonly string[];
  /** Batch runs stamp many referrals with one lastRunId. */
  readonly runIds: readonly string[];
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
/** The seller the docs' example query 3 filters on. */
export const EXAMPLE_SELLER_EMAIL = 'r2d2@contoso.com';
export const MICROSOFT_ORGANIZATION: Organization = { id: '72f988bf-86f1-41af-91ab-2d7cd011db47', name: 'Microsoft' };

const DAY_MS = 86_400_000;
const RESPONSE_WINDOW_MS = RESPONSE_WINDOW_DAYS * DAY_MS;
/** createdDateTime spreads over this span before `now`. */
const HISTORY_MS = 730 * DAY_MS;
/** Hour (UTC) of Partner Center's daily expiry job in this simulation: expiries of a day share one instant. */
const EXPIRY_RUN_HOUR_UTC = 2;
const API_BASE = 'https://api.partner.microsoft.com/v1.0/engagements/referrals';

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

/**
 * The referral after one realistic change at `at`. Status moves New → Active → Closed (or New →
 * Closed), never back; an unanswered incoming referral past its deadline expires (the expiry job
 * stamps `at` exactly, so a day's expiries share one instant). updatedDateTime is `at` (plus
 * sub-millisecond ticks), bumped to just after the previous value when `at` is not later.
 */
export function updateReferral(referral: Referral, random: Random, at: Date): Referral {
  const next: Referral = { ...referral };
  updateInPlace(next, random, at.getTime());
  return next;
}

/**
 * Reads referrals from JSON (an array or an OData envelope `{ value: [...] }`) or NDJSON (one object a
 * line; by extension `.ndjson`/`.jsonl`, or sniffed). Each item needs string `id`, `createdDateTime`
 * and `updatedDateTime` (timestamps); everything else is kept as is.
 */
export async function loadReferralsFile(path: string): Promise<Referral[]> {
  const text = stripBom(await readFile(path, 'utf8'));
  const ext = extname(path).toLowerCase();
  const items =
    ext === '.ndjson' || ext === '.jsonl' || looksLikeNdjson(text) ? parseNdjson(path, text) : parseJson(path, text);
  return items.map(({ value, line }, index) => checkItem(path, value, index, line));
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

function drawTicks(random: Random): number {
  return random.chance(0.3) ? 0 : random.int(1, 9999);
}

function pickRecent(random: Random, out: readonly Referral[]): Referral | undefined {
  if (out.length === 0) return undefined;
  return out[out.length - 1 - random.int(0, Math.min(out.length, 200) - 1)];
}

/** Plays a referral's updates from creation up to `nowMs`, then applies the expiry rule if it is due. */
function liveUntil(born: Referral, random: Random, createdMs: number, nowMs: number): Referral {
  // `born` is ours alone, so it changes in place: the same steps as updateReferral without a copy
  // per step (and without the object shapes those copies breed, which slowed every later copy).
  const current = born;
  let t = createdMs;
  let remaining = random.weighted(UPDATE_COUNTS);
  while (remaining-- > 0) {
    t += gapMs(random, current.status);
    if (isUnanswered(current) && t >= responseDeadlineMs(current)) t = expiryRunMs(responseDeadlineMs(current));
    if (t > nowMs) break;
    updateInPlace(current, random, t);
  }
  if (isUnanswered(current)) {
    const deadline = responseDeadlineMs(current);
    if (deadline <= nowMs) updateInPlace(current, random, Math.min(expiryRunMs(deadline), nowMs));
  }
  return current;
}

/** One update applied to `target`, which the caller owns; nested objects it changes are replaced, never mutated. */
function updateInPlace(target: Referral, random: Random, atMs: number): void {
  const change = chooseChange(target, random, atMs);
  const expiring = change === 'expire';
  const [updated, updatedMs] = nextUpdatedTimestamp(target.updatedDateTime, atMs, expiring ? 0 : drawTicks(random));
  target.updatedDateTime = updated;
  target.eTag = nextETag(random, target.eTag, updatedMs);
  target.lastModifiedVia = expiring ? 'System' : random.pick(VIA);
  if (random.chance(0.15)) target.lastRunId = newGuid(random);
  applyChange(target, change, random, updated, updatedMs);
  if (!expiring) applyEdits(target, random, updatedMs);
}

const UPDATE_COUNTS: readonly (readonly [number, number])[] = [
  [0, 15],
  [1, 30],
  [2, 25],
  [3, 15],
  [4, 8],
  [5, 5],
  [6, 2],
];

/** Time to the next change: partners answer new referrals within days, deals move over weeks. */
function gapMs(random: Random, status: string | null | undefined): number {
  const meanDays = status === 'New' ? 3 : status === 'Active' ? 25 : 40;
  return Math.max(1, Math.floor(-Math.log(1 - random.next()) * meanDays * DAY_MS));
}

function expiryRunMs(deadlineMs: number): number {
  const run = Math.floor(deadlineMs / DAY_MS) * DAY_MS + EXPIRY_RUN_HOUR_UTC * 3_600_000;
  return run >= deadlineMs ? run : run + DAY_MS;
}

function isUnanswered(referral: Referral): boolean {
  return referral.direction === 'Incoming' && referral.status === 'New';
}

/** expirationDateTime when present, else created + 14 days (referrals-api.md). */
function responseDeadlineMs(referral: Referral): number {
  const explicit =
    typeof referral.expirationDateTime === 'string' ? timestampToEpochMs(referral.expirationDateTime) : undefined;
  if (explicit !== undefined) return explicit;
  return (timestampToEpochMs(referral.createdDateTime) ?? 0) + RESPONSE_WINDOW_MS;
}

function makeETag(random: Random, atMs: number): string {
  // Cosmos-style, as the docs show: "00006d10-0000-0000-0000-5c70aa630000" where 5c70aa63 is the epoch second.
  const seconds = Math.floor(atMs / 1000)
    .toString(16)
    .padStart(8, '0');
  const salt = random.int(0, 0xffff).toString(16).padStart(4, '0');
  return flat(`"0000${salt}-0000-0000-0000-${seconds}0000"`);
}

function nextETag(random: Random, previous: string | null | undefined, atMs: number): string {
  let tag = makeETag(random, atMs);
  while (tag === previous) tag = makeETag(random, atMs);
  return tag;
}

/** The new updatedDateTime (text and epoch ms): `at` with `ticks`, or 1 ms after `previous` when that is not later. */
function nextUpdatedTimestamp(previous: string, atMs: number, ticks: number): [string, number] {
  const candidate = stampAt(atMs, ticks);
  const prior = isCanonical(previous) ? previous : canonicalTimestamp(previous);
  if (prior === undefined || candidate > prior) return [candidate, atMs];
  const bumped = (timestampToEpochMs(previous) ?? atMs) + 1;
  return [stampAt(bumped, ticks), bumped];
}

// ---------------------------------------------------------------------------------------------
// Updates

type Change = 'expire' | 'receive' | 'accept' | 'decline' | 'win' | 'lose' | 'advance' | 'edit';

function chooseChange(referral: Referral, random: Random, atMs: number): Change {
  if (isUnanswered(referral) && atMs >= responseDeadlineMs(referral)) return 'expire';
  switch (referral.status) {
    case 'New':
      if (referral.direction !== 'Incoming') return random.chance(0.6) ? 'accept' : 'edit';
      return referral.substatus === 'Pending'
        ? random.weighted<Change>([
            ['receive', 30],
            ['accept', 40],
            ['decline', 15],
            ['edit', 15],
          ])
        : random.weighted<Change>([
            ['accept', 55],
            ['decline', 25],
            ['edit', 20],
          ]);
    case 'Active':
      return random.weighted<Change>([
        ['win', 20],
        ['lose', 18],
        [referral.salesStage === 'Close' ? 'edit' : 'advance', 32],
        ['edit', 30],
      ]);
    default:
      // Closed is final; None or an unknown status is left alone rather than guessed at.
      return 'edit';
  }
}

function applyChange(next: Referral, change: Change, random: Random, updated: string, updatedMs: number): void {
  switch (change) {
    case 'expire':
      setStatus(next, 'Closed', 'Expired', null);
      return;
    case 'receive':
      next.substatus = 'Received';
      return;
    case 'accept':
      setStatus(next, 'Active', 'Accepted', null);
      next.acceptedDateTime = updated;
      next.salesStage = 'Qualify';
      if (!next.externalReferenceId && random.chance(0.4)) next.externalReferenceId = crmOpportunityId(random);
      return;
    case 'decline':
      setStatus(next, 'Closed', 'Declined', random.pick(DECLINE_REASONS));
      return;
    case 'win':
      setStatus(next, 'Closed', 'Won', random.chance(0.5) ? null : random.pick(WIN_REASONS));
      next.salesStage = 'Close';
      setClosingDate(next, updatedMs);
      return;
    case 'lose':
      setStatus(next, 'Closed', 'Lost', random.pick(LOSS_REASONS));
      setClosingDate(next, updatedMs);
      return;
    case 'advance':
      next.salesStage = SALES_STAGES[Math.min(SALES_STAGES.indexOf(next.salesStage ?? 'Qualify') + 1, 3)] ?? 'Close';
      return;
    case 'edit':
      return;
  }
}

const SALES_STAGES = ['Qualify', 'Develop', 'Propose', 'Close'];

function setStatus(next: Referral, status: string, substatus: string, reason: string | null): void {
  next.status = status;
  next.substatus = substatus;
  next.statusReason = reason;
}

function setClosingDate(next: Referral, atMs: number): void {
  if (next.details) next.details = { ...next.details, closingDateTime: flat(midnightUtc(atMs)) };
}

/** Incidental edits people make along the way: notes, value, team, favourite. */
function applyEdits(next: Referral, random: Random, atMs: number): void {
  const details = next.details;
  if (details && random.chance(0.25)) {
    const line = `[${new Date(atMs).toISOString().slice(0, 10)}] ${random.pick(UPDATE_NOTES)}`;
    const notes = details.notes && details.notes.length < 3500 ? `${details.notes}\n\n${line}` : line;
    next.details = { ...details, notes };
  }
  if (next.details && random.chance(0.15))
    next.details = { ...next.details, dealValue: reviseDealValue(random, next.details.dealValue) };
  if (random.chance(0.12)) next.team = reviseTeam(random, next.team ?? []);
  if (random.chance(0.05)) next.favorite = !next.favorite;
}

function reviseDealValue(random: Random, value: number | string | null | undefined): number | string {
  const base = typeof value === 'number' ? value : Number(value ?? Number.NaN);
  const revised =
    Number.isFinite(base) && base > 0 ? Math.round((base * (0.7 + random.next() * 0.8)) / 100) * 100 : 5000;
  // A string stays a string: the quirk belongs to the record, not to one read.
  return typeof value === 'string' ? String(revised) : revised;
}

function reviseTeam(random: Random, team: readonly Member[]): Member[] {
  if (team.length > 0 && (team.length >= 4 || random.chance(0.35))) {
    const drop = random.int(0, team.length - 1);
    return team.filter((_, i) => i !== drop);
  }
  const taken = new Set(team.map((m) => m.email));
  const seller = random.weighted(SELLER_WEIGHTS);
  return taken.has(seller.email) ? [...team] : [...team, sellerMember(random, seller)];
}

// ---------------------------------------------------------------------------------------------
// Generation: parts of a referral

/**
 * An exact-size copy: arrays grown by push keep room for 17 items, which a 200k book pays for in
 * heap and GC time.
 */
function compact<T>(items: T[]): T[] {
  return items.length === 0 ? [] : items.slice();
}

function pickQualification(random: Random, direction: string, type: string): string {
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

function referralSource(random: Random, direction: string, qualification: string): string | null {
  if (random.chance(0.2)) return null;
  if (direction === 'Outgoing') return random.pick(['PartnerCenter', 'CrmConnector']);
  if (qualification === 'SalesQualified') return 'MicrosoftSeller';
  if (qualification === 'MarketingQualified') return 'Marketing';
  return random.pick(['SolutionProfile', 'PartnerFinder', 'BusinessApplications']);
}

function campaign(random: Random, ctx: GeneratorContext, qualification: string): string | null {
  const p = qualification === 'MarketingQualified' ? 0.8 : 0.05;
  return random.chance(p) ? random.pick(ctx.campaigns) : null;
}

function externalReference(random: Random, index: number, incoming: boolean): string | null {
  if (!random.chance(incoming ? 0.1 : 0.6)) return null;
  return random.chance(0.7) ? flat(`OPP-${String(100_000 + index).padStart(7, '0')}`) : crmOpportunityId(random);
}

function crmOpportunityId(random: Random): string {
  return random.chance(0.5) ? newGuid(random) : `006${random.hex(12).toUpperCase()}`;
}

/** formatTimestampFast, flattened (see flat). */
function stampAt(ms: number, ticks: number): string {
  return flat(formatTimestampFast(ms, ticks));
}

function newGuid(random: Random): string {
  return flat(guid(random));
}

/**
 * `text`, flattened. Concatenation leaves V8 cons-string trees (a guid is nine pieces, ~400 bytes);
 * reading a character flattens one in place and the GC then drops the pieces. Retained strings
 * are a third of a generated book's heap, and garbage collection most of the time it takes.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

function makeCustomerProfile(random: Random, customer: CustomerSeed): NonNullable<Referral['customerProfile']> {
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

function makeDetails(
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

function makeTeam(random: Random, ctx: GeneratorContext): Member[] {
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

function sellerMember(random: Random, seller: Seller): Member {
  return {
    firstName: seller.firstName,
    lastName: seller.lastName,
    email: seller.email,
    phoneNumber: random.chance(0.9) ? seller.phoneNumber : null,
    contactPreference: { locale: seller.locale, disableNotifications: random.chance(0.1) },
  };
}

function makeInviteContext(random: Random, ctx: GeneratorContext, incoming: boolean): Referral['inviteContext'] {
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

function makeTarget(random: Random, ctx: GeneratorContext, type: string, qualification: string): Referral['target'] {
  const p = type === 'Shared' ? 0.3 : qualification === 'Direct' ? 0.4 : 0.05;
  if (!random.chance(p)) return [];
  const first = { type: 'SolutionProfile', id: random.pick(ctx.solutionProfiles).id };
  return random.chance(0.05) ? [first, { type: 'SolutionProfile', id: random.pick(ctx.solutionProfiles).id }] : [first];
}

function makeLinks(random: Random, id: string, engagementId: string): Referral['links'] {
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
function addUndocumentedFields(
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

// ---------------------------------------------------------------------------------------------
// Pools

interface Product {
  readonly id: string;
  readonly label: string;
  readonly solutionId: string;
}

export interface PersonSeed {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phoneNumber: string;
  readonly locale: string;
}

export interface CountryProfile {
  readonly code: string;
  readonly region: string;
  readonly locale: string;
  readonly currency: string;
  readonly phonePrefix: string;
  readonly places: readonly (readonly [city: string, state: string, postalCode: string])[];
  readonly streets: readonly string[];
  readonly legalForms: readonly string[];
  /** Company names in the local script: accents, CJK, right-to-left. */
  readonly localNames: readonly string[];
  readonly people: readonly (readonly [first: string, last: string])[];
}

export interface CustomerSeed {
  readonly name: string;
  readonly size: string;
  readonly country: CountryProfile;
  readonly addressLine1: string;
  readonly addressLine2: string | null;
  readonly city: string;
  readonly state: string;
  readonly postalCode: string;
  readonly contacts: readonly PersonSeed[];
  readonly duns: string;
}

export interface SolutionSeed {
  readonly id: string;
  readonly name: string;
}

interface Seller {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phoneNumber: string;
  readonly locale: string;
}

function makeCustomer(random: Random): CustomerSeed {
  const country = random.weighted(COUNTRY_WEIGHTS);
  const [city, state, postalCode] = random.pick(country.places);
  const [name, brand] = customerName(random, country);
  const domain = domainFor(random, brand);
  const contacts = Array.from({ length: 3 }, () => {
    const [first, last] = random.pick(country.people);
    return {
      firstName: first,
      lastName: last,
      email: `${emailLocalPart(random, first, last)}@${domain}`,
      phoneNumber: `${country.phonePrefix} ${random.int(100, 999)} ${random.int(100, 999)} ${random.int(1000, 9999)}`,
      locale: random.chance(0.85) ? country.locale : 'en-US',
    };
  });
  return {
    name,
    size: random.weighted(SIZE_WEIGHTS),
    country,
    addressLine1: random.pick(country.streets).replace('#', String(random.int(1, 2400))),
    addressLine2: random.weighted<string | null>([
      ['', 50],
      [`Suite ${random.int(100, 950)}`, 20],
      [`Floor ${random.int(2, 40)}`, 15],
      [null, 15],
    ]),
    city,
    state,
    postalCode,
    contacts,
    duns: String(random.int(100_000_000, 999_999_999)),
  };
}

/** The registered name and the brand (no legal form) its e-mail domain is made from. */
function customerName(random: Random, country: CountryProfile): [name: string, brand: string] {
  if (random.chance(0.012)) {
    const name = random.pick(EMOJI_NAMES);
    return [name, name];
  }
  if (country.localNames.length > 0 && random.chance(country.code === 'US' ? 0.02 : 0.3)) {
    const name = random.pick(country.localNames);
    return [name, name];
  }
  const legal = random.pick(country.legalForms);
  const brand = `${random.pick(NAME_STEMS)} ${random.pick(NAME_NOUNS)}`;
  return [legal ? `${brand} ${legal}` : brand, brand];
}

function domainFor(random: Random, name: string): string {
  const ascii = foldToAscii(name).replace(/[^a-z0-9]+/g, '');
  const stem = ascii.length >= 4 ? ascii.slice(0, 24) : `customer${random.hex(5)}`;
  return `${stem}.example`;
}

function emailLocalPart(random: Random, first: string, last: string): string {
  const local = `${foldToAscii(first)}.${foldToAscii(last)}`.replace(/[^a-z0-9.]+/g, '');
  return /^[a-z0-9]+\.[a-z0-9]+$/.test(local) ? local : `contact.${random.hex(6)}`;
}

function foldToAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .replace(/[øØ]/g, 'o')
    .toLowerCase();
}

function makeSolutionProfiles(random: Random): SolutionSeed[] {
  const profiles: SolutionSeed[] = [{ id: 'SOL-34104-EBB', name: 'Contoso Cloud Migration Accelerator' }];
  for (const name of SOLUTION_PROFILE_NAMES) {
    profiles.push({ id: `SOL-${random.int(10_000, 99_999)}-${random.hex(3).toUpperCase()}`, name });
  }
  return profiles;
}

function makeLongNote(random: Random): string {
  const paragraphs: string[] = [];
  const target = random.int(600, 4000);
  let length = 0;
  while (length < target) {
    const paragraph = random.pick(NOTE_PARAGRAPHS);
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  // Windows line breaks come through from pasted e-mails now and then.
  return paragraphs.join(random.chance(0.2) ? '\r\n\r\n' : '\n\n');
}

const PRODUCTS: readonly Product[] = (
  [
    { id: 'Microsoft365', label: 'Microsoft 365' },
    { id: 'Microsoft365', label: 'Microsoft 365' },
    { id: 'Azure', label: 'Azure' },
    { id: 'Azure', label: 'Azure' },
    { id: 'Dynamics365', label: 'Dynamics 365' },
    { id: 'Dynamics365forFieldService', label: 'Dynamics 365 Field Service' },
    { id: 'Dynamics365forSales', label: 'Dynamics 365 Sales' },
    { id: 'Dynamics365forCustomerService', label: 'Dynamics 365 Customer Service' },
    { id: 'PowerBI', label: 'Power BI' },
    { id: 'PowerApps', label: 'Power Apps' },
    { id: 'MicrosoftTeams', label: 'Microsoft Teams' },
    { id: 'Microsoft365Copilot', label: 'Microsoft 365 Copilot' },
    { id: 'AzureOpenAIService', label: 'Azure OpenAI' },
    { id: 'MicrosoftDefender', label: 'Microsoft Defender' },
    { id: 'Intune', label: 'Intune' },
    { id: 'SQLServer', label: 'SQL Server' },
    { id: 'Windows', label: 'Windows 11' },
  ] as const
).map((p) => ({ ...p, solutionId: `SOL-${p.id}` }));

const INDUSTRIES = [
  'Education',
  'Healthcare',
  'Government',
  'FinancialServices',
  'Manufacturing',
  'RetailAndConsumerGoods',
  'ProfessionalServices',
  'MediaAndCommunications',
  'Nonprofit',
  'Energy',
  'TravelAndTransportation',
  'Automotive',
  'Agriculture',
  'HospitalityAndTravel',
];

const SERVICES = [
  'LearningAndCertification',
  'Consulting',
  'Deployment',
  'ManagedServices',
  'Migration',
  'Support',
  'Licensing',
  'Integration',
  'CustomDevelopment',
  'Assessment',
];

const SOLUTION_CATEGORIES = ['Security', 'Data and AI', 'Modern Work', 'Business Applications', 'Infrastructure'].map(
  (name) => ({ id: `SOL-${name.replaceAll(' ', '')}`, name }),
);

const SOLUTION_PROFILE_NAMES = [
  'Contoso Secure Workplace',
  'Contoso Copilot Readiness',
  'Contoso Field Service Quickstart',
  'Contoso Data Estate Modernisation',
  'Contoso Teams Phone Rollout',
  'Contoso SAP on Azure',
];

const DEAL_KINDS = ['rollout', 'migration', 'pilot', 'renewal', 'expansion', 'assessment', 'deployment'];
const VIA = ['PartnerCenter', 'PartnerCenter', 'Api', 'CrmConnector'];
const CALLS_TO_ACTION = ['ContactMe', 'FreeTrial', 'TestDrive', 'RequestQuote'];
const CUSTOMER_ACTIONS = ['Contact me', 'Request a quote', 'Request a demo', 'Start a free trial', 'Get it now'];

const DECLINE_REASONS = [
  'Not a fit for our practice',
  'Outside our geography',
  'No capacity this quarter',
  'Customer already engaged with another partner',
  'Duplicate of an existing opportunity',
];
const LOSS_REASONS = ['Lost to competitor', 'No budget', 'Customer not responsive', 'Timing', 'Project cancelled'];
const WIN_REASONS = ['Customer signed', 'Won after proof of concept', 'Contract signed via CSP'];

const SHORT_NOTES = [
  'We are interested in deploying Microsoft 365 and are looking for support in training our employees. Can you help?',
  'Customer wants a quote for 250 seats.',
  'Looking for help migrating our on-premises SQL Server to Azure.',
  'Please call after 3pm EST.',
  'Need a partner for a Teams Phone rollout across 4 sites.',
  'Interested in Copilot; security review first.',
  'Existing EA customer, renewal due next quarter.',
  'Customer asked for "someone local" to help with Intune.',
  'POC requested, budget approved.',
  'Follow-up from the webinar, wants pricing.',
  'Dynamics 365 Field Service for 40 technicians; go-live before summer.',
  'Send proposal, cc procurement.',
];

const UNICODE_NOTES = [
  'Kunde möchte eine Schulung für 50 Mitarbeiter – bitte Rückruf bis Freitag.',
  'Le client souhaite migrer vers Azure d’ici la fin de l’année ; budget validé.',
  'お客様は Microsoft 365 の導入を検討中です。来週の打ち合わせを希望。',
  'العميل مهتم بحلول Azure ويرغب في عرض سعر قبل نهاية الشهر.',
  'הלקוח מעוניין בהטמעת Teams בשלושה סניפים.',
  '고객이 Power BI 교육을 요청했습니다.',
  'Cliente quer migração para o Microsoft 365 até março. 🚀',
  'Great call today 👍 — customer is keen, next step: demo 🎯',
  'Zoë from IT said: "we need this by Q3", budget €120k.',
  '客户希望在下个季度部署 Dynamics 365。',
];

const UPDATE_NOTES = [
  'Customer asked for pricing.',
  'Demo scheduled.',
  'Sent proposal v2.',
  'Waiting on procurement.',
  'Security review passed.',
  'Kick-off call done; next step SOW.',
  'Customer postponed to next quarter.',
  'Rückmeldung vom Kunden erhalten – Angebot angepasst.',
  'Réunion de suivi planifiée.',
];

const INVITE_NOTES = [
  'Customer needs a partner with Azure migration expertise.',
  'Microsoft seller requests co-sell support for a Copilot pilot.',
  'Looking for a local partner for deployment and adoption.',
  'Please engage within 48 hours; customer is evaluating competitors.',
  'Co-sell ready solution requested by the account team.',
];

const NOTE_PARAGRAPHS = [
  'Background: the customer runs a mixed estate of on-premises Exchange 2016 and a handful of SharePoint farms. They have started a move to Microsoft 365 but stalled after the pilot because of identity issues with their legacy AD forest.',
  'Requirements gathered on the discovery call: single sign-on for 1,200 users, conditional access for contractors, a migration plan for 4 TB of file shares, and end-user training in three languages (English, German, Polish).',
  'Budget: approved for this fiscal year, with a preference for a fixed-price engagement. Procurement requires three quotes and a signed DPA before any work starts.',
  'Timeline: pilot in the next 6 weeks, full rollout by the end of the quarter. The CIO wants a status report every two weeks.',
  "Risks: the customer's IT team is small (3 people) and one of them is leaving. They asked whether we can provide managed services after go-live.",
  'Competitive situation: another partner has pitched a lift-and-shift approach. The customer prefers a phased modernisation and "someone who has done this before in our industry".',
  'Technical notes: Azure subscription exists (pay-as-you-go), no landing zone, no hub/spoke network. ExpressRoute is being considered for the two main sites.',
  'Contacts: the IT manager is the day-to-day contact; the CFO signs off anything above €50,000. Both prefer e-mail over phone.',
  'Zusammenfassung: Der Kunde plant die Einführung von Microsoft Teams Phone an vier Standorten. Die bestehende Telefonanlage läuft Ende März aus; eine Übergangslösung wird benötigt.',
  'Résumé : le client souhaite une première phase centrée sur la sécurité (Defender, Intune) avant d’étendre le déploiement à l’ensemble des filiales.',
  '要件：既存のオンプレミス環境から Azure への移行、運用保守の外部委託、および社員向けトレーニングを希望しています。',
  'Next steps:\n- schedule a technical workshop\n- share reference architecture\n- send a draft statement of work\n- confirm licensing with the Microsoft account team',
];

const PARTNER_NAMES = [
  'Litware Inc.',
  'Adventure Works Consulting',
  'Proseware, Inc.',
  'Trey Research',
  'Wide World Importers Services',
  'Lucerne Publishing IT',
  'Alpine Ski House Digital',
  'Fourth Coffee Systems',
];

const SELLERS: readonly Seller[] = [
  ['R2', 'D2', EXAMPLE_SELLER_EMAIL],
  ['C', '3PO', 'c3po@contoso.com'],
  ['Ana', 'Bowman', 'ana.bowman@contoso.com'],
  ['Jamal', 'Hartnett', 'jamal.hartnett@contoso.com'],
  ['Kayla', 'Lewis', 'kayla.lewis@contoso.com'],
  ['Mateo', 'Gómez', 'mateo.gomez@contoso.com'],
  ['Pradeep', 'Gupta', 'pradeep.gupta@contoso.com'],
  ['Yuki', 'Tanaka', 'yuki.tanaka@contoso.com'],
  ['Émilie', 'Dubois', 'emilie.dubois@contoso.com'],
  ['Jörg', 'Müller', 'joerg.mueller@contoso.com'],
  // A legal address with an apostrophe: OData literals must double it.
  ['Siobhán', "O'Brien", "siobhan.o'brien@contoso.com"],
].map(([firstName = '', lastName = '', email = ''], i) => ({
  firstName,
  lastName,
  email,
  phoneNumber: `+1 425-555-01${String(10 + i).padStart(2, '0')}`,
  locale: i === 7 ? 'ja-JP' : i === 8 ? 'fr-FR' : i === 9 ? 'de-DE' : 'en-US',
}));

const SELLER_WEIGHTS: readonly (readonly [Seller, number])[] = SELLERS.map((seller, i) => [
  seller,
  i === 0 ? 6 : i === SELLERS.length - 1 ? 2 : 10,
]);

const SIZE_WEIGHTS: readonly (readonly [string, number])[] = CUSTOMER_SIZE.map((size, i) => [size, i < 8 ? 10 : 2]);

const NAME_STEMS = [
  'Fabrikam',
  'Northwind',
  'Tailspin',
  'Wingtip',
  'Adatum',
  'Blue Yonder',
  'Coho',
  'Relecloud',
  'Woodgrove',
  'Lamna',
  'Humongous',
  'Southridge',
  'VanArsdel',
  'Bellows',
  'Consolidated',
  'Lucerne',
  'Nod',
  'Graphic',
  "Margie's",
  'Best For You',
  'First Up',
  'Munson’s',
  'Datum',
  'Trey',
];

const NAME_NOUNS = [
  'Logistics',
  'Health',
  'Foods',
  'Manufacturing',
  'Consulting',
  'Retail',
  'Energy',
  'Bank',
  'Insurance',
  'Pharma',
  'Motors',
  'Airlines',
  'Software',
  'Media',
  'Studios',
  'Academy',
  'Hospital',
  'Farms',
  'Outfitters',
  'Construction',
  'Travel',
];

const EMOJI_NAMES = [
  '🚀 Rocket Science Labs',
  'Bean There ☕ Coffee Co',
  'Happy Paws 🐾 Veterinary',
  'Sunrise 🌅 Yoga Studio',
];

const EN_PEOPLE: readonly (readonly [string, string])[] = [
  ['John', 'Smith'],
  ['Maria', 'Garcia'],
  ['David', 'Johnson'],
  ['Sarah', 'Miller'],
  ['Michael', 'Brown'],
  ['Emily', 'Davis'],
  ['Chris', 'Wilson'],
  ['Priya', 'Patel'],
  ['Wei', 'Chen'],
  ['Aisha', 'Khan'],
];

const COUNTRIES: readonly (readonly [CountryProfile, number])[] = [
  [
    {
      code: 'US',
      region: 'North America',
      locale: 'en-US',
      currency: 'USD',
      phonePrefix: '+1',
      places: [
        ['Redmond', 'WA', '98052'],
        ['Seattle', 'WA', '98101'],
        ['New York', 'NY', '10001'],
        ['Austin', 'TX', '78701'],
        ['Chicago', 'IL', '60601'],
        ['San Francisco', 'CA', '94105'],
        ['Boston', 'MA', '02110'],
        ['Atlanta', 'GA', '30303'],
        ['Denver', 'CO', '80202'],
        ['Miami', 'FL', '33131'],
        ['Columbus', 'OH', '43215'],
        ['Raleigh', 'NC', '27601'],
      ],
      streets: ['One Microsoft Way', '# Main Street', '# Market St', '# Pine Ave', '# Broadway', '# Oak Street NE'],
      legalForms: ['Inc', 'Inc.', 'LLC', 'Corp', 'Corporation', ''],
      localNames: ['Café Olé LLC', 'Señor Taco Holdings'],
      people: EN_PEOPLE,
    },
    45,
  ],
  [
    {
      code: 'CA',
      region: 'North America',
      locale: 'en-CA',
      currency: 'CAD',
      phonePrefix: '+1',
      places: [
        ['Toronto', 'ON', 'M5H 2N2'],
        ['Vancouver', 'BC', 'V6B 1A1'],
        ['Montréal', 'QC', 'H3B 4W8'],
      ],
      streets: ['# King Street West', '# rue Sainte-Catherine O', '# Granville St'],
      legalForms: ['Ltd', 'Inc.', 'Ltée'],
      localNames: ['Érablière Québécoise Inc.', 'Les Entreprises Côté Ltée'],
      people: [...EN_PEOPLE, ['Amélie', 'Tremblay'], ['François', 'Gagnon']],
    },
    4,
  ],
  [
    {
      code: 'GB',
      region: 'Western Europe',
      locale: 'en-GB',
      currency: 'GBP',
      phonePrefix: '+44',
      places: [
        ['London', 'Greater London', 'EC1A 1BB'],
        ['Manchester', 'Greater Manchester', 'M1 1AE'],
        ['Edinburgh', 'Scotland', 'EH1 1YZ'],
        ['Bristol', '', 'BS1 4DJ'],
      ],
      streets: ['# High Street', '# Victoria Road', '# Station Road'],
      legalForms: ['Ltd', 'plc', 'Limited'],
      localNames: [],
      people: [
        ['Oliver', 'Jones'],
        ['Amelia', 'Taylor'],
        ['Harry', 'Evans'],
        ['Siobhán', 'Murphy'],
      ],
    },
    8,
  ],
  [
    {
      code: 'DE',
      region: 'Western Europe',
      locale: 'de-DE',
      currency: 'EUR',
      phonePrefix: '+49',
      places: [
        ['Berlin', 'BE', '10115'],
        ['München', 'BY', '80331'],
        ['Köln', 'NW', '50667'],
        ['Düsseldorf', 'NW', '40213'],
        ['Hamburg', 'HH', '20095'],
      ],
      streets: ['Hauptstraße #', 'Königsallee #', 'Friedrichstraße #'],
      legalForms: ['GmbH', 'AG', 'GmbH & Co. KG'],
      localNames: ['Müller Präzisionstechnik GmbH', 'Bäckerei Größe & Söhne', 'Straßenbau Köhler AG'],
      people: [
        ['Jürgen', 'Schäfer'],
        ['Anna', 'Müller'],
        ['Lukas', 'Weiß'],
        ['Sophie', 'Becker'],
      ],
    },
    6,
  ],
  [
    {
      code: 'FR',
      region: 'Western Europe',
      locale: 'fr-FR',
      currency: 'EUR',
      phonePrefix: '+33',
      places: [
        ['Paris', 'Île-de-France', '75001'],
        ['Lyon', 'Auvergne-Rhône-Alpes', '69002'],
        ['Marseille', "Provence-Alpes-Côte d'Azur", '13001'],
        ['Toulouse', 'Occitanie', '31000'],
      ],
      streets: ['# rue de Rivoli', '# avenue des Champs-Élysées', '# boulevard Haussmann'],
      legalForms: ['SA', 'SAS', 'SARL'],
      localNames: ['Société Générale des Eaux Bleues', 'Boulangerie Élodie & Fils', 'Crème de la Crème SARL'],
      people: [
        ['Élodie', 'Lefèvre'],
        ['Thomas', 'Bernard'],
        ['Chloé', 'Moreau'],
        ['Hélène', 'Girard'],
      ],
    },
    5,
  ],
  [
    {
      code: 'NL',
      region: 'Western Europe',
      locale: 'nl-NL',
      currency: 'EUR',
      phonePrefix: '+31',
      places: [
        ['Amsterdam', 'NH', '1012 AB'],
        ['Rotterdam', 'ZH', '3011 AA'],
      ],
      streets: ['Damrak #', 'Coolsingel #'],
      legalForms: ['B.V.', 'N.V.'],
      localNames: [],
      people: [
        ['Daan', 'de Vries'],
        ['Sanne', 'van Dijk'],
      ],
    },
    2,
  ],
  [
    {
      code: 'ES',
      region: 'Western Europe',
      locale: 'es-ES',
      currency: 'EUR',
      phonePrefix: '+34',
      places: [
        ['Madrid', 'MD', '28013'],
        ['Barcelona', 'CT', '08002'],
        ['Málaga', 'AN', '29001'],
      ],
      streets: ['Calle de Alcalá #', 'Passeig de Gràcia #'],
      legalForms: ['S.L.', 'S.A.'],
      localNames: ['Panadería Núñez S.L.', 'Construcciones Peña y Ibáñez S.A.'],
      people: [
        ['José', 'Martínez'],
        ['Lucía', 'Fernández'],
      ],
    },
    2,
  ],
  [
    {
      code: 'SE',
      region: 'Western Europe',
      locale: 'sv-SE',
      currency: 'SEK',
      phonePrefix: '+46',
      places: [
        ['Stockholm', 'AB', '111 52'],
        ['Göteborg', 'O', '411 03'],
      ],
      streets: ['Drottninggatan #', 'Kungsgatan #'],
      legalForms: ['AB'],
      localNames: ['Ångström Ljusdesign AB', 'Björk & Söner AB'],
      people: [
        ['Åsa', 'Lindström'],
        ['Erik', 'Johansson'],
      ],
    },
    1,
  ],
  [
    {
      code: 'JP',
      region: 'Asia Pacific',
      locale: 'ja-JP',
      currency: 'JPY',
      phonePrefix: '+81',
      places: [
        ['東京都千代田区', '東京都', '100-0005'],
        ['Osaka', 'Osaka', '530-0001'],
        ['Yokohama', 'Kanagawa', '220-0012'],
      ],
      streets: ['丸の内1-#', '#-1 Umeda', 'Minatomirai #-2'],
      legalForms: ['K.K.', 'Co., Ltd.'],
      localNames: ['株式会社さくらシステムズ', '富士山テクノロジー株式会社', '東京ロボティクス合同会社'],
      people: [
        ['健一', '佐藤'],
        ['Yui', 'Suzuki'],
        ['Haruto', 'Takahashi'],
      ],
    },
    5,
  ],
  [
    {
      code: 'IN',
      region: 'Asia Pacific',
      locale: 'en-IN',
      currency: 'INR',
      phonePrefix: '+91',
      places: [
        ['Bengaluru', 'KA', '560001'],
        ['Mumbai', 'MH', '400001'],
        ['Hyderabad', 'TG', '500081'],
        ['New Delhi', 'DL', '110001'],
      ],
      streets: ['# MG Road', '# Linking Road', '# Hitech City Road'],
      legalForms: ['Pvt Ltd', 'Private Limited', 'LLP'],
      localNames: ['सूर्या इन्फोटेक प्राइवेट लिमिटेड'],
      people: [
        ['Ananya', 'Iyer'],
        ['Rahul', 'Sharma'],
        ['Priya', 'Nair'],
      ],
    },
    5,
  ],
  [
    {
      code: 'AU',
      region: 'Asia Pacific',
      locale: 'en-AU',
      currency: 'AUD',
      phonePrefix: '+61',
      places: [
        ['Sydney', 'NSW', '2000'],
        ['Melbourne', 'VIC', '3000'],
        ['Brisbane', 'QLD', '4000'],
      ],
      streets: ['# George Street', '# Collins Street'],
      legalForms: ['Pty Ltd'],
      localNames: [],
      people: [
        ['Jack', 'Wilson'],
        ['Charlotte', 'Brown'],
      ],
    },
    4,
  ],
  [
    {
      code: 'BR',
      region: 'Latin America',
      locale: 'pt-BR',
      currency: 'BRL',
      phonePrefix: '+55',
      places: [
        ['São Paulo', 'SP', '01310-100'],
        ['Rio de Janeiro', 'RJ', '20040-002'],
      ],
      streets: ['Avenida Paulista, #', 'Rua da Assembleia, #'],
      legalForms: ['Ltda', 'S.A.'],
      localNames: ['Açaí Comércio de Alimentos Ltda', 'São Jorge Logística S.A.'],
      people: [
        ['João', 'Conceição'],
        ['Fernanda', 'Araújo'],
      ],
    },
    3,
  ],
  [
    {
      code: 'MX',
      region: 'Latin America',
      locale: 'es-MX',
      currency: 'MXN',
      phonePrefix: '+52',
      places: [
        ['Ciudad de México', 'CDMX', '06000'],
        ['Monterrey', 'NL', '64000'],
      ],
      streets: ['Paseo de la Reforma #', 'Avenida Constitución #'],
      legalForms: ['S.A. de C.V.'],
      localNames: ['Tecnología Azteca S.A. de C.V.'],
      people: [
        ['Alejandro', 'Hernández'],
        ['Sofía', 'López'],
      ],
    },
    2,
  ],
  [
    {
      code: 'AE',
      region: 'Middle East and Africa',
      locale: 'ar-AE',
      currency: 'AED',
      phonePrefix: '+971',
      places: [
        ['Dubai', 'Dubai', ''],
        ['Abu Dhabi', 'Abu Dhabi', ''],
      ],
      streets: ['Sheikh Zayed Road, Tower #', 'Al Maryah Island, Building #'],
      legalForms: ['LLC', 'FZ-LLC'],
      localNames: ['شركة الخليج للحلول التقنية', 'مؤسسة النخيل للتجارة'],
      people: [
        ['محمد', 'العلي'],
        ['Fatima', 'Al Mansouri'],
        ['Omar', 'Haddad'],
      ],
    },
    2,
  ],
  [
    {
      code: 'SA',
      region: 'Middle East and Africa',
      locale: 'ar-SA',
      currency: 'SAR',
      phonePrefix: '+966',
      places: [['الرياض', 'Riyadh', '11564']],
      streets: ['King Fahd Road #'],
      legalForms: ['Co.'],
      localNames: ['شركة الرياض للأنظمة الذكية'],
      people: [
        ['عبدالله', 'القحطاني'],
        ['Noura', 'Al Saud'],
      ],
    },
    1,
  ],
  [
    {
      code: 'IL',
      region: 'Middle East and Africa',
      locale: 'he-IL',
      currency: 'ILS',
      phonePrefix: '+972',
      places: [
        ['Tel Aviv-Yafo', 'Tel Aviv', '6100000'],
        ['ירושלים', 'Jerusalem', '9100000'],
      ],
      streets: ['Rothschild Blvd #', 'רחוב יפו #'],
      legalForms: ['Ltd.'],
      localNames: ['אופק טכנולוגיות בע"מ', 'מרכז רפואי הדר'],
      people: [
        ['נועה', 'כהן'],
        ['Yossi', 'Levi'],
      ],
    },
    2,
  ],
  [
    {
      code: 'KR',
      region: 'Asia Pacific',
      locale: 'ko-KR',
      currency: 'KRW',
      phonePrefix: '+82',
      places: [['서울특별시', 'Seoul', '04524']],
      streets: ['세종대로 #', '# Teheran-ro'],
      legalForms: ['Co., Ltd.'],
      localNames: ['한빛 소프트웨어 주식회사'],
      people: [
        ['민준', '김'],
        ['Seo-yeon', 'Park'],
      ],
    },
    1,
  ],
  [
    {
      code: 'SG',
      region: 'Asia Pacific',
      locale: 'en-SG',
      currency: 'SGD',
      phonePrefix: '+65',
      places: [['Singapore', '', '018956']],
      streets: ['# Marina Boulevard'],
      legalForms: ['Pte Ltd'],
      localNames: ['新加坡云科技私人有限公司'],
      people: [
        ['Wei Ling', 'Tan'],
        ['Arjun', 'Menon'],
      ],
    },
    1,
  ],
  [
    {
      code: 'ZA',
      region: 'Middle East and Africa',
      locale: 'en-ZA',
      currency: 'ZAR',
      phonePrefix: '+27',
      places: [['Johannesburg', 'GP', '2000']],
      streets: ['# Rivonia Road'],
      legalForms: ['(Pty) Ltd'],
      localNames: [],
      people: [
        ['Thabo', 'Nkosi'],
        ['Lerato', 'Dlamini'],
      ],
    },
    1,
  ],
];

const COUNTRY_WEIGHTS = COUNTRIES;

// ---------------------------------------------------------------------------------------------
// Loading a file

interface RawItem {
  readonly value: unknown;
  /** 1-based line the item starts on, when known (NDJSON). */
  readonly line?: number;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * NDJSON when the first non-blank line is a complete JSON object on its own (a pretty-printed
 * document's first line never is), except a one-line file holding an OData envelope.
 */
function looksLikeNdjson(text: string): boolean {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return false;
  const firstLine = trimmed.split('\n', 1)[0] ?? '';
  let first: unknown;
  try {
    first = JSON.parse(firstLine);
  } catch {
    return false;
  }
  const oneLine = trimmed.trimEnd().indexOf('\n') === -1;
  return !(oneLine && isRecord(first) && Array.isArray(first.value));
}

function parseNdjson(path: string, text: string): RawItem[] {
  const items: RawItem[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    try {
      items.push({ value: JSON.parse(line), line: i + 1 });
    } catch (error) {
      throw new Error(`${path}: line ${i + 1}: not valid JSON (${errorMessage(error)})`, { cause: error });
    }
  }
  return items;
}

function parseJson(path: string, text: string): RawItem[] {
  if (text.trim() === '') return [];
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: ${describeJsonError(text, error)}`, { cause: error });
  }
  if (Array.isArray(document)) return document.map((value) => ({ value }));
  if (isRecord(document) && Array.isArray(document.value)) return document.value.map((value: unknown) => ({ value }));
  throw new Error(`${path}: expected a JSON array of referrals, an object with a "value" array, or NDJSON`);
}

/** V8 reports a character offset; people need a line and column. */
function describeJsonError(text: string, error: unknown): string {
  const message = errorMessage(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  const offset =
    position !== undefined ? Number(position) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return `not valid JSON (${message})`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: not valid JSON (${message})`;
}

function checkItem(path: string, value: unknown, index: number, line: number | undefined): Referral {
  const where = `${path}: item ${index}${line !== undefined ? ` (line ${line})` : ''}`;
  if (!isRecord(value)) throw new Error(`${where}: expected a JSON object, got ${describeType(value)}`);
  for (const key of ['id', 'createdDateTime', 'updatedDateTime'] as const) {
    if (typeof value[key] !== 'string')
      throw new Error(`${where}: "${key}" must be a string, got ${describeType(value[key])}`);
  }
  for (const key of ['createdDateTime', 'updatedDateTime'] as const) {
    if (canonicalTimestamp(String(value[key])) === undefined) {
      throw new Error(`${where}: "${key}" is not an ISO-8601 timestamp: ${JSON.stringify(value[key])}`);
    }
  }
  return value as Referral;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'nothing' : typeof value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

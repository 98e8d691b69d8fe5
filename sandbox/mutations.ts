/**
 * The life of a referral after it is created: updateReferral (one realistic change, as the sandbox
 * store applies them while clients page) and liveUntil (the changes a generated referral went
 * through before the book's `now`), under the same rules: status only moves forward, unanswered
 * incoming referrals expire after 14 days, every change gets a new ETag and a later updatedDateTime.
 *
 * Referrals are treated as immutable values: `updateReferral` returns a new object that shares
 * unchanged nested parts with its input. Distinct referrals never share objects. Only liveUntil
 * changes a referral in place, one it alone holds, for the measured reason beside it.
 */

import { canonicalTimestamp, isCanonical, midnightUtc, timestampToEpochMs } from '../src/common/time.js';
import { type Member, RESPONSE_WINDOW_DAYS, type Referral } from '../src/schema/referral-resource.js';
import type { Random } from './random.js';
import {
  crmOpportunityId,
  DAY_MS,
  drawTicks,
  flat,
  makeETag,
  newGuid,
  sellerMember,
  stampAt,
} from './referral-parts.js';
import { DECLINE_REASONS, LOSS_REASONS, SELLER_WEIGHTS, UPDATE_NOTES, VIA, WIN_REASONS } from './seed-data.js';

export const RESPONSE_WINDOW_MS = RESPONSE_WINDOW_DAYS * DAY_MS;
/** Hour (UTC) of Partner Center's daily expiry job in this simulation: expiries of a day share one instant. */
const EXPIRY_RUN_HOUR_UTC = 2;

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

/** Plays a referral's updates from creation up to `nowMs`, then applies the expiry rule if it is due. */
export function liveUntil(born: Referral, random: Random, createdMs: number, nowMs: number): Referral {
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

/** An unanswered incoming referral whose response deadline has passed at `atMs`: the expiry job's to close. */
export function isOverdue(referral: Referral, atMs: number): boolean {
  return isUnanswered(referral) && atMs >= responseDeadlineMs(referral);
}

/** expirationDateTime when present, else created + 14 days (referrals-api.md). */
function responseDeadlineMs(referral: Referral): number {
  const explicit =
    typeof referral.expirationDateTime === 'string' ? timestampToEpochMs(referral.expirationDateTime) : undefined;
  if (explicit !== undefined) return explicit;
  return (timestampToEpochMs(referral.createdDateTime) ?? 0) + RESPONSE_WINDOW_MS;
}

/** A new ETag for a change at `atMs`, never the one the referral had. */
export function nextETag(random: Random, previous: string | null | undefined, atMs: number): string {
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
  if (isOverdue(referral, atMs)) return 'expire';
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

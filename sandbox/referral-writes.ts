/**
 * The rules of `PATCH /v1.0/engagements/referrals/{id}`: which paths may be patched and with what
 * (referral-fields.ts), which status changes Partner Center allows, and how the changed referral is
 * stamped as its next version. Pure: the write service (write-service.ts) finds the referral,
 * checks If-Match and stores what this returns.
 *
 * Facts: ../shared/partner-center/referrals-api.md ("Allowed pairs", "Updating and creating") and
 * Microsoft's "Update a lead or opportunity" and "Update referral status" pages (the transition table).
 */
import { type Referral, STATUS_TRANSITIONS, SUBSTATUS_BY_STATUS } from '../src/schema/referral-resource.js';
import { applyPatch, type PatchOperation } from './json-patch.js';
import { nextETag } from './mutations.js';
import type { Random } from './random.js';
import { checkValue, fieldAt, NOT_PATCHABLE } from './referral-fields.js';
import { drawTicks, stampAt } from './referral-parts.js';
import { InvalidWriteError } from './write-error.js';

/** Where each status may go (the docs' transition table, declared in the resource model). */
const NEXT_STATUSES: Readonly<Record<string, readonly string[]>> = STATUS_TRANSITIONS;

/** The channel a change made through the API is recorded as (one of the values the book already holds). */
export const API_CHANNEL = 'Api';

/** The sandbox clock's instant for the change, and the stream its ticks and ETag are drawn from. */
export interface ChangeStamp {
  readonly at: Date;
  readonly random: Random;
}

/**
 * `referral` after the patch, checked and stamped as its next version (new eTag, later
 * updatedDateTime). Throws InvalidWriteError naming the path at fault; `referral` is never changed.
 */
export function patchReferral(referral: Referral, operations: readonly PatchOperation[], stamp: ChangeStamp): Referral {
  for (const operation of operations) checkOperation(operation);
  const patched = applyPatch(referral, operations);
  checkTransition(referral, patched);
  return stamped(referral, patched, stamp);
}

function checkOperation({ path, pointer, value }: PatchOperation): void {
  const owner = NOT_PATCHABLE.get(pointer[0] ?? '');
  if (owner) throw new InvalidWriteError(path, `'${path}' cannot be patched: ${owner.why}`);
  const field = fieldAt(pointer);
  if (!field) throw new InvalidWriteError(path, `'${path}' is not a field of a referral`);
  checkValue(field, value, path);
}

/**
 * Throws unless `before` → `after` is a change Partner Center allows: the status moves only as
 * NEXT_STATUSES says, the substatus is one its status allows, and a decline says why.
 */
export function checkTransition(before: Referral, after: Referral): void {
  const unchanged =
    before.status === after.status &&
    before.substatus === after.substatus &&
    before.statusReason === after.statusReason;
  if (unchanged) return;
  const from = String(before.status ?? 'None');
  const to = String(after.status ?? 'None');
  const next = NEXT_STATUSES[from];
  if (!next) throw new InvalidWriteError('/status', `A referral whose status is ${from} cannot change status`);
  if (!next.includes(to)) {
    throw new InvalidWriteError(
      '/status',
      `A referral cannot move from ${from} to ${to}; from ${from} it can go to ${next.join(', ')}`,
    );
  }
  checkSubstatusFits(to, after.substatus);
  if (after.substatus === 'Declined' && !(typeof after.statusReason === 'string' && after.statusReason.trim())) {
    throw new InvalidWriteError('/statusReason', 'Declining a referral needs a /statusReason saying why');
  }
}

/** Throws, naming `/substatus`, unless `substatus` is one that `status` allows (the docs' "Allowed pairs"). */
export function checkSubstatusFits(status: string, substatus: unknown): void {
  const allowed = SUBSTATUS_BY_STATUS[status] ?? [];
  if (!allowed.includes(String(substatus))) {
    throw new InvalidWriteError(
      '/substatus',
      `The substatus ${substatus} does not fit the status ${status}, which allows ${allowed.join(', ')}`,
    );
  }
}

/** The next version's stamps: updatedDateTime, eTag, the channel, and acceptedDateTime when it was just accepted. */
function stamped(before: Referral, after: Referral, { at, random }: ChangeStamp): Referral {
  const ms = at.getTime();
  after.updatedDateTime = stampAt(ms, drawTicks(random));
  after.eTag = nextETag(random, before.eTag, ms);
  after.lastModifiedVia = API_CHANNEL;
  if (after.status === 'Active' && before.status !== 'Active') after.acceptedDateTime = after.updatedDateTime;
  return after;
}

/**
 * Partner Center's expiry job: an incoming referral nobody answered within its response window
 * (expirationDateTime, else 14 days after creation) is archived as Closed/Expired. In the sandbox
 * the job runs whenever the clock is moved on (`POST /_sandbox/clock`, `Sandbox.advanceClock`), as
 * the days passing would run it; each expiry is a change like any other: a new eTag, a later
 * updatedDateTime, lastModifiedVia System, and a referral-updated event.
 */
import type { BookWriter } from './book-writer.js';
import type { SandboxClock } from './clock.js';
import { isOverdue, updateReferral } from './mutations.js';
import type { Random } from './random.js';
import { DAY_MS } from './referral-parts.js';
import type { ReferralStore } from './store.js';

export interface ClockAdvance {
  /** The sandbox clock after the move, ISO 8601. */
  readonly now: string;
  /** How far the sandbox clock now runs ahead of the wall clock. */
  readonly advancedMs: number;
  /** Referrals the job expired, by id. */
  readonly expired: string[];
}

export class ExpiryJob {
  constructor(
    private readonly store: ReferralStore,
    private readonly writer: BookWriter,
    private readonly random: Random,
    private readonly clock: SandboxClock,
  ) {}

  /** Moves the clock on by `days` (0 runs the job where the clock is) and expires what is then overdue. */
  advance(days: number): ClockAdvance {
    this.clock.advance(days * DAY_MS);
    const expired = this.run();
    return { now: new Date(this.clock.nowMs()).toISOString(), advancedMs: this.clock.advancedMs, expired };
  }

  /** One run: every overdue referral expires at one instant, as one run of a daily job stamps them. */
  run(): string[] {
    const at = this.clock.stamp();
    const due = this.store.all().filter((referral) => isOverdue(referral, at.getTime()));
    // updateReferral's own rule picks the expiry for an overdue referral, the same change liveUntil makes.
    for (const referral of due) this.writer.updated(updateReferral(referral, this.random, at));
    return due.map((referral) => referral.id);
  }
}

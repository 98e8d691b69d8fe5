/**
 * Partner Center's other users, played: `mutate` makes existing referrals progress, new ones arrive
 * and some leave, as `/_sandbox/mutate`, the `mutate` fault and `Sandbox.mutate()` ask. Updates and
 * creations go through the BookWriter (so they reach the webhooks); removals do not, as Partner
 * Center has no event for them.
 */
import type { BookWriter } from './book-writer.js';
import type { SandboxClock } from './clock.js';
import { createReferral } from './generator.js';
import { updateReferral } from './mutations.js';
import type { Random } from './random.js';
import type { GeneratorContext } from './seed-data.js';
import type { ReferralStore } from './store.js';

export interface MutationResult {
  readonly updated: string[];
  readonly created: string[];
  /** Referrals that left the book: deleted in Partner Center, or no longer visible to the user. */
  readonly removed: string[];
}

export class Mutator {
  constructor(
    private readonly store: ReferralStore,
    private readonly writer: BookWriter,
    private readonly random: Random,
    private readonly context: GeneratorContext,
    private readonly clock: SandboxClock,
  ) {}

  mutate(updates: number, creates: number, removes = 0): MutationResult {
    const all = this.store.all();
    const updated: string[] = [];
    const created: string[] = [];
    for (let i = 0; i < updates && all.length > 0; i++) {
      const target = this.random.pick(all);
      const next = updateReferral(target, this.random, this.clock.stamp(target.updatedDateTime));
      this.writer.updated(next);
      updated.push(next.id);
    }
    for (let i = 0; i < creates; i++) {
      const referral = createReferral(this.random, this.store.size + i, this.clock.stamp(), this.context);
      this.writer.created(referral);
      created.push(referral.id);
    }
    const removed: string[] = [];
    const remaining = this.store.all().map((r) => r.id);
    for (let i = 0; i < removes && remaining.length > 0; i++) {
      const [id] = remaining.splice(this.random.int(0, remaining.length - 1), 1);
      if (id !== undefined && this.store.remove(id)) removed.push(id);
    }
    return { updated: [...new Set(updated)], created, removed };
  }
}

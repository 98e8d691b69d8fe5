/**
 * The write side of the sandbox's Referrals API, between the HTTP routes (referrals-api.ts) and the
 * book: it finds the referral the caller may see, honours If-Match, applies the rules
 * (referral-writes.ts, referral-create.ts) at an instant of the sandbox clock, and writes the result
 * through the BookWriter, so the change shows in later reads and reaches the webhooks.
 */
import type { Referral } from '../src/schema/referral-resource.js';
import type { BookWriter } from './book-writer.js';
import type { SandboxClock } from './clock.js';
import type { PatchOperation } from './json-patch.js';
import type { Random } from './random.js';
import { createdReferral } from './referral-create.js';
import { patchReferral } from './referral-writes.js';
import type { Organization } from './seed-data.js';
import type { ReferralStore } from './store.js';

export type PatchOutcome =
  | { readonly kind: 'patched'; readonly referral: Referral }
  | { readonly kind: 'not-found' }
  /** If-Match named another version: nothing was changed. */
  | { readonly kind: 'stale' };

export interface WriteServiceDependencies {
  readonly store: ReferralStore;
  readonly writer: BookWriter;
  readonly clock: SandboxClock;
  /** Its own stream, so writes never shift what the mutator or the generator draw. */
  readonly random: Random;
  readonly organization: Organization;
}

export class WriteService {
  constructor(private readonly deps: WriteServiceDependencies) {}

  /** Applies `operations` when the caller can see the referral and `ifMatch` (when sent) names its current version. */
  patch(
    id: string,
    operations: readonly PatchOperation[],
    ifMatch: string | undefined,
    canSee: (referral: Referral) => boolean,
  ): PatchOutcome {
    const current = this.deps.store.get(id);
    if (!current || !canSee(current)) return { kind: 'not-found' };
    if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, current.eTag)) return { kind: 'stale' };
    const at = this.deps.clock.stamp(current.updatedDateTime);
    const referral = patchReferral(current, operations, { at, random: this.deps.random });
    this.deps.writer.updated(referral);
    return { kind: 'patched', referral };
  }

  create(body: Record<string, unknown>): Referral {
    const { clock, random, organization } = this.deps;
    const referral = createdReferral(body, { at: clock.stamp(), random, organization });
    this.deps.writer.created(referral);
    return referral;
  }
}

/**
 * RFC 9110 If-Match: `*`, or a list of entity tags compared strongly. The referral's eTag is
 * already a quoted entity tag (`"0000…0000"`), so the header carries it exactly as the body shows it.
 */
export function ifMatchAccepts(header: string, eTag: string | null | undefined): boolean {
  const tags = header.split(',').map((tag) => tag.trim());
  if (tags.includes('*')) return true;
  return typeof eTag === 'string' && tags.includes(eTag);
}

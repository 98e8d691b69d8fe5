/**
 * The one way a change enters the sandbox's book: the store takes the new version, then the
 * webhooks hear of it. The mutator, the write routes (PATCH and POST) and the expiry job all write
 * through here, so every change shows in later reads and sends the same event Partner Center would.
 */
import type { Referral } from '../src/schema/referral-resource.js';
import type { ReferralStore } from './store.js';
import type { ReferralChangeListener } from './webhooks.js';

export class BookWriter {
  constructor(
    private readonly store: ReferralStore,
    private readonly listener?: ReferralChangeListener,
  ) {}

  created(referral: Referral): void {
    this.store.put(referral);
    this.listener?.referralCreated(referral);
  }

  updated(referral: Referral): void {
    this.store.put(referral);
    this.listener?.referralUpdated(referral);
  }
}

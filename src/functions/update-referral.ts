/** `PATCH /api/referrals/{id}`: change whitelisted fields of a referral (logic in src/actions/). */
import { httpFunction } from '../common/azure-functions.js';
import { updateReferralHandler } from '../live/writes.js';

export const updateReferral = httpFunction({
  name: 'updateReferral',
  route: 'referrals/{id}',
  methods: ['PATCH'],
  authLevel: 'function',
  keys: 'write',
  handler: updateReferralHandler,
});

/** `POST /api/referrals/{id}/decline`: decline an incoming lead with a reason (logic in src/actions/). */
import { httpFunction } from '../common/azure-functions.js';
import { declineReferralHandler } from '../live/writes.js';

export const declineReferral = httpFunction({
  name: 'declineReferral',
  route: 'referrals/{id}/decline',
  methods: ['POST'],
  authLevel: 'function',
  keys: 'write',
  handler: declineReferralHandler,
});

/** `GET /api/referrals/{id}`: one referral, live (logic in src/live/). */
import { httpFunction } from '../common/azure-functions.js';
import { getReferralHandler } from '../live/handlers.js';

export const getReferral = httpFunction({
  name: 'getReferral',
  route: 'referrals/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: getReferralHandler,
});

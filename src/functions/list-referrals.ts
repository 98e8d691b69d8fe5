/** `GET /api/referrals`: the filtered live list (logic in src/live/). */
import { httpFunction } from '../common/azure-functions.js';
import { listReferralsHandler } from '../live/handlers.js';

export const listReferrals = httpFunction({
  name: 'listReferrals',
  route: 'referrals',
  methods: ['GET'],
  authLevel: 'function',
  handler: listReferralsHandler,
});

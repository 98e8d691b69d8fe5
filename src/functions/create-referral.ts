/** `POST /api/referrals`: create an outgoing co-sell referral (logic in src/actions/, HTTP in src/live/writes.ts). */
import { httpFunction } from '../common/azure-functions.js';
import { createReferralHandler } from '../live/writes.js';

export const createReferral = httpFunction({
  name: 'createReferral',
  route: 'referrals',
  methods: ['POST'],
  authLevel: 'function',
  keys: 'write',
  handler: createReferralHandler,
});

/** `POST /api/referrals/{id}/accept`: accept an incoming lead (logic in src/actions/, HTTP in src/live/writes.ts). */
import { httpFunction } from '../common/azure-functions.js';
import { acceptReferralHandler } from '../live/writes.js';

export const acceptReferral = httpFunction({
  name: 'acceptReferral',
  route: 'referrals/{id}/accept',
  methods: ['POST'],
  authLevel: 'function',
  keys: 'write',
  handler: acceptReferralHandler,
});

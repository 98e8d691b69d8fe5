/** `GET /api/triggers/referrals`: the polling trigger for flows (logic in src/live/trigger/). */
import { httpFunction } from '../common/azure-functions.js';
import { referralsTriggerHandler } from '../live/trigger/handler.js';

export const referralsTrigger = httpFunction({
  name: 'referralsTrigger',
  route: 'triggers/referrals',
  methods: ['GET'],
  authLevel: 'function',
  handler: referralsTriggerHandler,
});

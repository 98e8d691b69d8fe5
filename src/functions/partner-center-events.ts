/**
 * `POST /api/partner-center/events`: Partner Center's webhook events, checked and queued (logic in
 * src/events/). Anonymous: the event's signature is its guard, and Partner Center sends no key.
 */
import { httpFunction } from '../common/azure-functions.js';
import { partnerCenterEventsHandler } from '../events/http.js';

export const partnerCenterEvents = httpFunction({
  name: 'partnerCenterEvents',
  route: 'partner-center/events',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: partnerCenterEventsHandler,
});

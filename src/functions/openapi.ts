/** `GET /api/openapi.json`: the OpenAPI description Power Automate imports (built in src/live/openapi.ts). */
import { httpFunction } from '../common/azure-functions.js';
import { openApiHandler } from '../live/handlers.js';

// Anonymous so Power Automate can import it by URL; it describes the API and holds no data or key.
export const openapi = httpFunction({
  name: 'openapi',
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApiHandler,
});

/** `GET /api/openapi-writes.json`: the write routes' connector description (built in src/live/openapi-writes.ts). */
import { httpFunction } from '../common/azure-functions.js';
import { writesOpenApiHandler } from '../live/handlers.js';

// Anonymous, like openapi.json: it describes the routes and holds no data or key.
export const openapiWrites = httpFunction({
  name: 'openapiWrites',
  route: 'openapi-writes.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: writesOpenApiHandler,
});

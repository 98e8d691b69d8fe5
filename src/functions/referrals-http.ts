/**
 * The HTTP functions: the filtered live list, one referral, and the OpenAPI description. Thin on
 * purpose; the logic is in src/live/. HTTP_FUNCTIONS is the one list of registrations: `func start`
 * registers it here, and `referrals-lake serve` hosts the same entries.
 */
import azureFunctions, { type HttpFunctionOptions } from '@azure/functions';
import { getReferralHandler, listReferralsHandler, openApiHandler } from '../live/handlers.js';

export interface HttpFunction extends HttpFunctionOptions {
  readonly name: string;
  readonly route: string;
}

export const HTTP_FUNCTIONS: readonly HttpFunction[] = [
  { name: 'listReferrals', route: 'referrals', methods: ['GET'], authLevel: 'function', handler: listReferralsHandler },
  {
    name: 'getReferral',
    route: 'referrals/{id}',
    methods: ['GET'],
    authLevel: 'function',
    handler: getReferralHandler,
  },
  // Anonymous so Power Automate can import it by URL; it describes the API and holds no data or key.
  { name: 'openapi', route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: openApiHandler },
];

// Streamed bodies reach the caller as they are written instead of being buffered whole by the worker.
// Only under the Functions host (which always sets FUNCTIONS_WORKER_RUNTIME): elsewhere (tests,
// `referrals-lake serve`) the flag changes nothing but prints a line on stdout.
if (process.env.FUNCTIONS_WORKER_RUNTIME) azureFunctions.app.setup({ enableHttpStream: true });
for (const { name, ...options } of HTTP_FUNCTIONS) azureFunctions.app.http(name, options);

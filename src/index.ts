/**
 * The Function App's entry point: host-wide setup only. Each function registers itself in its own
 * file under functions/; package.json `main` names this file and those, as the host expects.
 */
import azureFunctions from '@azure/functions';

// Streamed bodies reach the caller as they are written instead of being buffered whole by the worker.
// Only under the Functions host (which always sets FUNCTIONS_WORKER_RUNTIME): elsewhere (tests,
// `referrals-lake serve`) the flag changes nothing but prints a line on stdout.
if (process.env.FUNCTIONS_WORKER_RUNTIME) azureFunctions.app.setup({ enableHttpStream: true });

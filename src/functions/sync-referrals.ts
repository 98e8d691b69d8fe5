/**
 * The timer-triggered export: every SYNC_SCHEDULE, one sync run into the lake. Thin on purpose; the
 * run is runSyncJob, the same code `referrals-lake sync` runs.
 */
import azureFunctions, { type InvocationContext, type Timer } from '@azure/functions';
import { contextLogger } from '../common/azure-functions.js';
import { runSyncJobWhenFree } from '../sync/job.js';

/**
 * A timer run is not retried by the host: one that found an event run holding the lease would cost
 * the day's backstop. It waits for the lease instead (event runs are short), up to 20 minutes.
 */
const LEASE_WAIT_MS = 20 * 60_000;

export async function syncTimerHandler(timer: Timer, context: InvocationContext): Promise<void> {
  const logger = contextLogger(context);
  if (timer.isPastDue) logger.warn('the timer is past due; running now');
  const manifest = await runSyncJobWhenFree(process.env, {}, { logger }, { waitMs: LEASE_WAIT_MS });
  logger.info('run summary', { summary: manifest });
}

azureFunctions.app.timer('syncReferrals', {
  // %NAME% reads the schedule from the app setting, so it can change without a deployment.
  schedule: '%SYNC_SCHEDULE%',
  useMonitor: true,
  handler: syncTimerHandler,
});

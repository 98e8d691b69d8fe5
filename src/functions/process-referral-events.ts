/**
 * The queue-triggered worker: each Partner Center event the receiver queued, applied to the lake
 * by an event run that gathers the events of this instance (src/events/worker.ts). Thin on purpose.
 */
import type { InvocationContext } from '@azure/functions';
import { contextLogger, queueFunction } from '../common/azure-functions.js';
import { EVENTS_QUEUE_CONNECTION, EVENTS_QUEUE_NAME_EXPRESSION } from '../config.js';
import { EventWorker } from '../events/worker.js';
import { runSyncJob } from '../sync/job.js';

let worker: EventWorker | undefined;

export async function processEventHandler(message: unknown, context: InvocationContext): Promise<void> {
  worker ??= new EventWorker({
    env: process.env,
    runEvents: (referralIds, logger, onReferralFailed) =>
      runSyncJob(process.env, { mode: 'event', referralIds }, { logger, onReferralFailed }),
  });
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  await worker.handle(message, contextLogger(context), dequeueCount);
}

export const processReferralEvents = queueFunction({
  name: 'processReferralEvents',
  connection: EVENTS_QUEUE_CONNECTION,
  queueName: EVENTS_QUEUE_NAME_EXPRESSION,
  handler: processEventHandler,
});

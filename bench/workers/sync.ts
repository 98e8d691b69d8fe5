/**
 * Bench worker: one full sync with the settings in the environment (a local folder or Azurite, as the
 * settings say), in a process of its own so its peak RSS is the sync's alone; prints the figures as JSON.
 */
import { createLogger } from '../../src/common/log.js';
import { runSyncJob } from '../../src/sync/job.js';

const manifest = await runSyncJob(process.env, { mode: 'full' }, { logger: createLogger(() => {}) });
process.stdout.write(
  `${JSON.stringify({
    referrals: manifest.counts.referrals,
    durationSeconds: manifest.durationSeconds,
    pages: manifest.client.pages,
    timings: manifest.timings,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);

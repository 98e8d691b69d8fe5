/** Bench worker: one full sync with the settings in the environment; prints the figures as JSON. */
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

/**
 * Bench worker (its own process, so its peak RSS is the client's alone): streams every referral
 * through the production client and prints one JSON line with the figures. Settings come from the
 * environment, as in a real run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPartnerCenterConfig } from '../../src/config.js';
import { createPartnerCenterSource } from '../../src/source/create.js';

const work = await mkdtemp(join(tmpdir(), 'bench-fetch-'));
const config = loadPartnerCenterConfig({ ...process.env, PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json') });
const source = createPartnerCenterSource(config);
const top = Number(process.env.BENCH_PAGE_SIZE ?? '100');
const began = performance.now();
let referrals = 0;
let bytes = 0;
for await (const referral of source.client.listReferrals({ top })) {
  referrals++;
  // Touch the object as a consumer would, so the parse cannot be optimised away.
  bytes += (referral as { id: string }).id.length;
}
const seconds = (performance.now() - began) / 1000;
source.close();
await rm(work, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({
    referrals,
    seconds,
    pages: source.client.stats.pages,
    retries: source.client.stats.retries,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    idBytes: bytes,
  })}\n`,
);

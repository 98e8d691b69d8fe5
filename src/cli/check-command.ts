/**
 * `referrals-lake check`: proves settings, sign-in and Partner Center access in one call — takes a
 * token silently from the cache and asks for one referral. Exits 4 when a login is needed.
 */
import type { Command } from 'commander';
import { withPartnerCenterSource } from './partner-center-source.js';

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Sign in from the token cache and fetch one referral (no interaction).')
    .action(() =>
      withPartnerCenterSource(async (source, config) => {
        const pages = source.client.listReferrals({ top: 1 }).pages()[Symbol.asyncIterator]();
        const first = await pages.next();
        const summary = {
          ok: true,
          apiBaseUrl: config.apiBaseUrl,
          firstPageReferrals: first.value?.referrals.length ?? 0,
          requestId: first.value?.requestId,
          tokenAcquisitions: source.tokens.acquisitions,
        };
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      }),
    );
}

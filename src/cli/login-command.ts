/**
 * `referrals-lake login`: signs in once with the device code flow and stores the MSAL cache where
 * PARTNER_CENTER_TOKEN_CACHE says; unattended runs then take their tokens from it.
 */
import type { Command } from 'commander';
import { createLogger, stderrSink } from '../common/log.js';
import { loadPartnerCenterConfig } from '../config.js';

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('Sign in once (device code flow) and store the token cache for unattended runs.')
    .option('--timeout <seconds>', 'how long to wait for the sign-in', '900')
    .action(async (flags: { timeout: string }) => {
      const config = loadPartnerCenterConfig();
      const { configuredTokenCacheStore } = await import('../lake/layout/token-cache-store.js');
      const { loginWithDeviceCode } = await import('../source/auth/login.js');
      const { sameName } = await import('../source/auth/accounts.js');
      const store = configuredTokenCacheStore(config);
      const result = await loginWithDeviceCode(config, store, {
        onCode: (message) => process.stderr.write(`${message}\n`),
        logger: createLogger(stderrSink),
        timeoutSeconds: Number(flags.timeout),
      });
      process.stderr.write(
        `Signed in as ${result.username ?? 'unknown user'}; token cache stored in ${result.cache}.\n`,
      );
      // Runs take only the account PARTNER_CENTER_USERNAME names; say so now rather than at the next run.
      if (config.username && !sameName(result.username, config.username)) {
        process.stderr.write(
          `Note: PARTNER_CENTER_USERNAME is ${config.username}, so unattended runs will not use this account; sign in as that user, or change the setting.\n`,
        );
      }
      process.stdout.write(`${JSON.stringify({ signedIn: true, username: result.username, cache: result.cache })}\n`);
    });
}

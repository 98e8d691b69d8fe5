/**
 * `referrals-lake login`: the one interactive step. The device code flow suits a headless host: it
 * prints a code and a URL, the user signs in anywhere, and the resulting account and refresh token
 * land in the persisted cache, where unattended runs find them.
 */

import { AuthRequiredError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import type { PartnerCenterConfig } from '../../config.js';
import { createPublicClient } from './msal-app.js';
import { createMsalNetworkClient } from './network-client.js';
import { PersistedTokenCachePlugin, type TokenCacheStore } from './token-cache.js';

export interface LoginResult {
  readonly username: string | undefined;
  readonly tenantId: string | undefined;
  readonly cache: string;
}

export async function loginWithDeviceCode(
  config: PartnerCenterConfig,
  store: TokenCacheStore,
  options: { onCode: (message: string) => void; logger?: Logger; timeoutSeconds?: number },
): Promise<LoginResult> {
  const networkClient = createMsalNetworkClient({ caPem: config.caPem, timeoutMs: config.requestTimeoutMs });
  try {
    const app = createPublicClient(config, {
      networkClient,
      cachePlugin: new PersistedTokenCachePlugin(store, options.logger ?? silentLogger),
    });
    const result = await app.acquireTokenByDeviceCode({
      scopes: [config.scope],
      deviceCodeCallback: (response) => options.onCode(response.message),
      timeout: options.timeoutSeconds,
    });
    if (!result?.account) throw new AuthRequiredError('The device code sign-in returned no account');
    return { username: result.account.username, tenantId: result.account.tenantId, cache: store.describe() };
  } catch (error) {
    if (error instanceof AuthRequiredError) throw error;
    const code = (error as { errorCode?: string }).errorCode ?? 'unknown error';
    throw new AuthRequiredError(`The device code sign-in did not complete (${code})`, { cause: error });
  } finally {
    networkClient.close();
  }
}

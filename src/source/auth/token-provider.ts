/**
 * Delegated (app + user) access tokens for Partner Center, from MSAL's persisted cache. Concurrent
 * callers share one acquisition (50 requests that meet an expired token cause one refresh), and a
 * caller that saw its token refused passes it back so only a token still equal to it is refreshed.
 */
import {
  type AccountInfo,
  type AuthenticationResult,
  type ConfidentialClientApplication,
  InteractionRequiredAuthError,
} from '@azure/msal-node';
import { AuthRequiredError, ConfigError, UpstreamError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';

export interface AccessTokenProvider {
  /** A valid access token. `rejected`: a token the API just refused; a different one is returned. */
  getAccessToken(options?: { rejected?: string }): Promise<string>;
}

export interface MsalTokenProviderOptions {
  readonly app: ConfidentialClientApplication;
  readonly scopes: readonly string[];
  /** Bootstrap only: used when the cache has no account yet. */
  readonly bootstrapRefreshToken?: string;
  /** Where the cache lives, for the "run login" message. */
  readonly cacheDescription: string;
  /** The setting that holds the app's credential, named when Entra refuses it. */
  readonly credentialSetting?: 'PARTNER_CENTER_CLIENT_SECRET' | 'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE';
  readonly logger?: Logger;
  /** Renew this long before expiry. */
  readonly refreshMarginMs?: number;
}

export class MsalTokenProvider implements AccessTokenProvider {
  private current: { token: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private readonly logger: Logger;
  /** Acquisitions that went to MSAL (for tests and the run summary). */
  acquisitions = 0;

  constructor(private readonly options: MsalTokenProviderOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async getAccessToken(options: { rejected?: string } = {}): Promise<string> {
    const margin = this.options.refreshMarginMs ?? 120_000;
    const current = this.current;
    if (current && current.token !== options.rejected && current.expiresAt - margin > Date.now()) return current.token;
    const forceRefresh = options.rejected !== undefined && current?.token === options.rejected;
    this.inflight ??= this.acquire(forceRefresh).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async acquire(forceRefresh: boolean): Promise<string> {
    this.acquisitions++;
    const result = await this.acquireFromMsal(forceRefresh);
    if (!result?.accessToken) throw new AuthRequiredError('Entra ID returned no access token');
    this.current = { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 300_000 };
    return result.accessToken;
  }

  private async acquireFromMsal(forceRefresh: boolean): Promise<AuthenticationResult | null> {
    const { app, scopes } = this.options;
    const account = await this.account();
    try {
      if (account) return await app.acquireTokenSilent({ account, scopes: [...scopes], forceRefresh });
      if (this.options.bootstrapRefreshToken) {
        this.logger.info('token cache is empty; signing in with the bootstrap refresh token setting');
        // forceCache: without it MSAL keeps nothing, and the rotated refresh token would be lost.
        return await app.acquireTokenByRefreshToken({
          refreshToken: this.options.bootstrapRefreshToken,
          scopes: [...scopes],
          forceCache: true,
        });
      }
    } catch (error) {
      throw this.mapError(error, account !== undefined);
    }
    throw new AuthRequiredError(`No signed-in account in the token cache (${this.options.cacheDescription})`);
  }

  private async account(): Promise<AccountInfo | undefined> {
    const accounts = await this.options.app.getTokenCache().getAllAccounts();
    if (accounts.length > 1) {
      this.logger.warn('token cache holds several accounts; using the first', { accounts: accounts.length });
    }
    return accounts[0];
  }

  /** MSAL's errors become ours: a clear next step, the MSAL error kept as the cause. */
  private mapError(error: unknown, fromCache: boolean): Error {
    const code = (error as { errorCode?: string }).errorCode ?? '';
    const source = fromCache ? `the cached sign-in (${this.options.cacheDescription})` : 'the bootstrap refresh token';
    if (error instanceof InteractionRequiredAuthError || code === 'invalid_grant' || code === 'no_tokens_found') {
      return new AuthRequiredError(`Entra ID refused ${source} (${code || 'interaction required'})`, { cause: error });
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      const setting = this.options.credentialSetting ?? 'PARTNER_CENTER_CLIENT_SECRET';
      return new ConfigError(
        setting,
        `Entra ID refused the app's credentials (${code}); check PARTNER_CENTER_CLIENT_ID and ${setting}`,
        { cause: error },
      );
    }
    return new UpstreamError(`Could not get a token from Entra ID (${code || 'unknown error'})`, {}, { cause: error });
  }
}

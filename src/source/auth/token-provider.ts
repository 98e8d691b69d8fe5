/**
 * Delegated (app + user) access tokens for Partner Center, from MSAL's persisted cache. Concurrent
 * callers share one acquisition (50 requests that meet an expired token cause one refresh), and a
 * caller that saw its token refused passes it back so only a token still equal to it is refreshed.
 *
 * The account comes from the cache only if it belongs to the configured authority and tenant (and
 * user, when PARTNER_CENTER_USERNAME names one): see accounts.ts. The bootstrap refresh token setting
 * signs in when there is no such account, and once more when Entra refuses the one there is, unless
 * this cache already redeemed that very token.
 */
import {
  type AccountInfo,
  type AuthenticationResult,
  type ConfidentialClientApplication,
  InteractionRequiredAuthError,
} from '@azure/msal-node';
import { AuthRequiredError, ConfigError, ReferralsLakeError, UpstreamError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import { type AccountChoice, type AccountScope, chooseAccount, sameName } from './accounts.js';
import { type BootstrapLedger, bootstrapFingerprint } from './token-cache.js';

export interface AccessTokenProvider {
  /** A valid access token. `rejected`: a token the API just refused; a different one is returned. */
  getAccessToken(options?: { rejected?: string }): Promise<string>;
}

export interface MsalTokenProviderOptions {
  readonly app: ConfidentialClientApplication;
  readonly scopes: readonly string[];
  /** The authority host (host and port) and tenant as configured, and the user to pick if named. */
  readonly authorityHost: string;
  readonly tenant: string;
  readonly username?: string;
  /** The tenant id the configured tenant stands for (undefined: any tenant); asked once. */
  readonly resolveTenantId: () => Promise<string | undefined>;
  /** Signs in when the cache has no account for these settings, or once when Entra refuses it. */
  readonly bootstrapRefreshToken?: string;
  readonly ledger: BootstrapLedger;
  /** Where the cache lives, for messages. */
  readonly cacheDescription: string;
  /** The setting that holds the app's credential, named when Entra refuses it. */
  readonly credentialSetting?: 'PARTNER_CENTER_CLIENT_SECRET' | 'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE';
  readonly logger?: Logger;
  /** Renew this long before expiry. */
  readonly refreshMarginMs?: number;
}

const SIGN_IN_AGAIN =
  'Run `referrals-lake login` to sign in (device code flow), or set PARTNER_CENTER_REFRESH_TOKEN to a refresh token for this tenant.';
const BOOTSTRAP_SPENT =
  'Run `referrals-lake login` to sign in (device code flow), or replace PARTNER_CENTER_REFRESH_TOKEN with a fresh refresh token.';

export class MsalTokenProvider implements AccessTokenProvider {
  private current: { token: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private tenantId: Promise<string | undefined> | undefined;
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
    const choice = await this.choose();
    if (choice.kind === 'found') return this.fromCache(choice.account, forceRefresh);
    if (choice.kind === 'ambiguous') {
      throw new ConfigError(
        'PARTNER_CENTER_USERNAME',
        `the token cache (${this.options.cacheDescription}) holds ${choice.usernames.length} accounts for this tenant (${choice.usernames.join(', ')}); set it to the one to use`,
      );
    }
    const bootstrap = this.options.bootstrapRefreshToken;
    if (!bootstrap) throw this.noAccount(choice);
    const result = await this.redeemBootstrap(bootstrap);
    this.logger.info(
      'signed in with the bootstrap refresh token setting: the token cache had no account for these settings',
      {
        cache: this.options.cacheDescription,
        otherAccounts: choice.kind === 'none' ? choice.elsewhere : choice.usernames.length,
      },
    );
    return result;
  }

  private async choose(): Promise<AccountChoice> {
    const accounts = await this.options.app.getTokenCache().getAllAccounts();
    if (accounts.length === 0) return { kind: 'none', elsewhere: 0 };
    const scope: AccountScope = {
      authorityHost: this.options.authorityHost,
      tenantId: await this.resolvedTenantId(),
      username: this.options.username,
    };
    return chooseAccount(accounts, scope);
  }

  /** Asked once per process; a failed look-up is asked again next time. */
  private resolvedTenantId(): Promise<string | undefined> {
    this.tenantId ??= this.options.resolveTenantId().catch((error: unknown) => {
      this.tenantId = undefined;
      throw error;
    });
    return this.tenantId;
  }

  private async fromCache(account: AccountInfo, forceRefresh: boolean): Promise<AuthenticationResult> {
    const { app, scopes, cacheDescription } = this.options;
    try {
      return await app.acquireTokenSilent({ account, scopes: [...scopes], forceRefresh });
    } catch (error) {
      const refused = `Entra ID refused the cached sign-in (${cacheDescription}) (${errorCode(error)})`;
      if (!isRefusal(error)) throw this.mapError(error, refused);
      const bootstrap = this.options.bootstrapRefreshToken;
      if (!bootstrap) throw new AuthRequiredError(refused, { cause: error, nextStep: SIGN_IN_AGAIN });
      if (this.options.ledger.hasRedeemed(bootstrapFingerprint(bootstrap))) {
        throw new AuthRequiredError(
          `${refused}; PARTNER_CENTER_REFRESH_TOKEN was already redeemed on this cache, so it was not tried again`,
          { cause: error, nextStep: BOOTSTRAP_SPENT },
        );
      }
      this.logger.warn('Entra ID refused the cached sign-in; trying the bootstrap refresh token setting once', {
        cache: cacheDescription,
        code: errorCode(error),
      });
      const result = await this.redeemBootstrap(bootstrap, refused);
      this.logger.info('signed in with the bootstrap refresh token setting', { cache: cacheDescription });
      return result;
    }
  }

  /** `earlier`: what already failed this acquisition, for the message if this fails too. */
  private async redeemBootstrap(token: string, earlier?: string): Promise<AuthenticationResult> {
    const { app, scopes, ledger } = this.options;
    let result: AuthenticationResult | null;
    try {
      // forceCache: without it MSAL keeps nothing, and the rotated refresh token would be lost.
      result = await ledger.redeeming(bootstrapFingerprint(token), () =>
        app.acquireTokenByRefreshToken({ refreshToken: token, scopes: [...scopes], forceCache: true }),
      );
    } catch (error) {
      const refused = `Entra ID refused the bootstrap refresh token (PARTNER_CENTER_REFRESH_TOKEN) (${errorCode(error)})`;
      throw this.mapError(error, earlier ? `${earlier}, then ${refused}` : refused, BOOTSTRAP_SPENT);
    }
    if (!result) throw new AuthRequiredError('Entra ID returned no token for the bootstrap refresh token');
    const wanted = this.options.username;
    const got = result.account?.username;
    if (wanted !== undefined && !sameName(got, wanted)) {
      throw new ConfigError(
        'PARTNER_CENTER_USERNAME',
        `is ${wanted}, but PARTNER_CENTER_REFRESH_TOKEN signed in ${got || 'another user'}; set one to match the other`,
      );
    }
    return result;
  }

  private noAccount(choice: Exclude<AccountChoice, { kind: 'found' | 'ambiguous' }>): AuthRequiredError {
    const { cacheDescription, tenant, authorityHost, username } = this.options;
    if (choice.kind === 'not-named') {
      return new AuthRequiredError(
        `The token cache (${cacheDescription}) holds no account ${username} for tenant ${tenant} (it holds ${choice.usernames.join(', ')})`,
        {
          // The next step may reach an HTTP caller: it names settings, never the user (the message, logged, does).
          nextStep:
            'Run `referrals-lake login` and sign in as the user PARTNER_CENTER_USERNAME names, set PARTNER_CENTER_REFRESH_TOKEN to a refresh token of that user, or set PARTNER_CENTER_USERNAME to one of the accounts held.',
        },
      );
    }
    if (choice.elsewhere === 0) {
      return new AuthRequiredError(`No signed-in account in the token cache (${cacheDescription})`, {
        nextStep: SIGN_IN_AGAIN,
      });
    }
    return new AuthRequiredError(
      `The token cache (${cacheDescription}) holds no account for tenant ${tenant} at ${authorityHost} (its ${choice.elsewhere} account(s) are for another tenant or authority host)`,
      { nextStep: SIGN_IN_AGAIN },
    );
  }

  /** MSAL's errors become ours: a clear next step, the MSAL error kept as the cause. */
  private mapError(error: unknown, refusal: string, nextStep = SIGN_IN_AGAIN): Error {
    if (error instanceof ReferralsLakeError) return error;
    const code = errorCode(error);
    if (isRefusal(error)) return new AuthRequiredError(refusal, { cause: error, nextStep });
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      const setting = this.options.credentialSetting ?? 'PARTNER_CENTER_CLIENT_SECRET';
      return new ConfigError(
        setting,
        `Entra ID refused the app's credentials (${code}); check PARTNER_CENTER_CLIENT_ID and ${setting}`,
        { cause: error },
      );
    }
    return new UpstreamError(`Could not get a token from Entra ID (${code})`, {}, { cause: error });
  }
}

/** Entra's answers that mean "this sign-in is no good any more": a new one is needed. */
function isRefusal(error: unknown): boolean {
  const code = (error as { errorCode?: string }).errorCode;
  return error instanceof InteractionRequiredAuthError || code === 'invalid_grant' || code === 'no_tokens_found';
}

function errorCode(error: unknown): string {
  return (
    (error as { errorCode?: string }).errorCode ||
    (error instanceof InteractionRequiredAuthError ? 'interaction required' : 'unknown error')
  );
}

/**
 * Wires a PartnerCenterClient from configuration: MSAL with the persisted token cache, the HTTPS
 * transport, the retry policy. Every entry point (timer, HTTP function, CLI) builds its client here,
 * and the webhook registration client beside it shares the tokens, transport and retry policy.
 */

import { type Logger, silentLogger } from '../common/log.js';
import { registerSecret } from '../common/redact.js';
import type { PartnerCenterConfig } from '../config.js';
import { tenantIdOf } from './auth/accounts.js';
import { createConfidentialClient } from './auth/msal-app.js';
import { createMsalNetworkClient } from './auth/network-client.js';
import { PersistedTokenCachePlugin, type TokenCacheStore, tokenCacheStoreFor } from './auth/token-cache.js';
import { MsalTokenProvider } from './auth/token-provider.js';
import { PartnerCenterClient } from './client.js';
import type { RetryPolicy } from './http/retry.js';
import { createHttpsTransport, type Transport } from './http/transport.js';
import { WebhookRegistrationClient } from './webhooks-client.js';

export interface PartnerCenterSource {
  readonly client: PartnerCenterClient;
  /** The webhook registration API (PARTNER_CENTER_WEBHOOKS_BASE_URL), with the same sign-in. */
  readonly webhooks: WebhookRegistrationClient;
  readonly tokens: MsalTokenProvider;
  /** Closes idle connections (the process can then exit promptly). */
  close(): void;
}

export interface SourceOptions {
  readonly logger?: Logger;
  readonly correlationId?: string;
  /** Where the token cache lives; by default the file PARTNER_CENTER_TOKEN_CACHE names (`lake` needs the caller's store). */
  readonly tokenCacheStore?: TokenCacheStore;
  /** Overrides parts of the retry policy the settings give (tests use short waits). */
  readonly retry?: Partial<RetryPolicy>;
  /** Test seams: how waits happen, and what carries requests (the Referrals client's GETs only). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly wrapTransport?: (transport: Transport) => Transport;
}

export function createPartnerCenterSource(
  config: PartnerCenterConfig,
  options: SourceOptions = {},
): PartnerCenterSource {
  registerSecret(config.clientSecret);
  registerSecret(config.bootstrapRefreshToken);
  const logger = options.logger ?? silentLogger;
  const store = options.tokenCacheStore ?? tokenCacheStoreFor(config);
  const networkClient = createMsalNetworkClient({ caPem: config.caPem, timeoutMs: config.requestTimeoutMs });
  const cachePlugin = new PersistedTokenCachePlugin(store, logger);
  const app = createConfidentialClient(config, { networkClient, cachePlugin });
  const tokens = new MsalTokenProvider({
    app,
    scopes: [config.scope],
    authorityHost: new URL(config.authorityHost).host,
    tenant: config.tenantId,
    username: config.username,
    resolveTenantId: () => tenantIdOf(config.authorityHost, config.tenantId, networkClient),
    bootstrapRefreshToken: config.bootstrapRefreshToken,
    ledger: cachePlugin,
    cacheDescription: store.describe(),
    credentialSetting: config.clientCertificate
      ? 'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE'
      : 'PARTNER_CENTER_CLIENT_SECRET',
    logger,
  });
  const https = createHttpsTransport({ caPem: config.caPem, timeoutMs: config.requestTimeoutMs });
  const transport = options.wrapTransport ? options.wrapTransport(https) : https;
  const shared = {
    tokens,
    logger,
    correlationId: options.correlationId,
    retry: {
      maxAttempts: config.maxAttempts,
      maxElapsedMs: config.maxRetryMs,
      baseDelayMs: 500,
      maxDelayMs: 60_000,
      ...options.retry,
    },
    sleep: options.sleep,
  };
  const client = new PartnerCenterClient({ apiBaseUrl: config.apiBaseUrl, transport, ...shared });
  const webhooks = new WebhookRegistrationClient({
    webhooksBaseUrl: config.webhooksBaseUrl,
    transport: https,
    ...shared,
  });
  return {
    client,
    webhooks,
    tokens,
    close() {
      https.close();
      networkClient.close();
    },
  };
}

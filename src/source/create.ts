/**
 * Wires a PartnerCenterClient from configuration: MSAL with the persisted token cache, the HTTPS
 * transport, the retry policy. Every entry point (timer, HTTP function, CLI) builds its client here.
 */

import { type Logger, silentLogger } from '../common/log.js';
import { registerSecret } from '../common/redact.js';
import { type LakeConfig, loadLakeConfig, type PartnerCenterConfig } from '../config.js';
import { createStorageTarget } from '../lake/create-target.js';
import { statePath } from '../lake/layout.js';
import type { StorageTarget } from '../lake/storage.js';
import { createConfidentialClient } from './auth/msal-app.js';
import { createMsalNetworkClient } from './auth/network-client.js';
import {
  FileTokenCacheStore,
  PersistedTokenCachePlugin,
  StorageTokenCacheStore,
  type TokenCacheStore,
} from './auth/token-cache.js';
import { MsalTokenProvider } from './auth/token-provider.js';
import { PartnerCenterClient } from './client.js';
import type { RetryPolicy } from './http/retry.js';
import { createHttpsTransport, type Transport } from './http/transport.js';

export interface PartnerCenterSource {
  readonly client: PartnerCenterClient;
  readonly tokens: MsalTokenProvider;
  /** Closes idle connections (the process can then exit promptly). */
  close(): void;
}

export interface SourceOptions {
  readonly logger?: Logger;
  readonly correlationId?: string;
  /** Overrides the store PARTNER_CENTER_TOKEN_CACHE names. */
  readonly tokenCacheStore?: TokenCacheStore;
  /** Overrides parts of the retry policy the settings give (tests use short waits). */
  readonly retry?: Partial<RetryPolicy>;
  /** Test seams: how waits happen, and what carries requests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly wrapTransport?: (transport: Transport) => Transport;
}

/**
 * `lake` keeps the cache in the lake's `_state/` (the function app); anything else is a file path.
 * Without a target from the caller, the LAKE_* settings name the lake.
 */
export function tokenCacheStoreFor(
  config: PartnerCenterConfig,
  lake?: StorageTarget,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TokenCacheStore {
  if (config.tokenCache !== 'lake') return new FileTokenCacheStore(config.tokenCache);
  return lake ? new StorageTokenCacheStore(lake) : new LakeTokenCacheStore(loadLakeConfig(env));
}

/** The cache in the lake of the LAKE_* settings, opened at its first use (createStorageTarget is async). */
class LakeTokenCacheStore implements TokenCacheStore {
  private store: Promise<StorageTokenCacheStore> | undefined;
  private opened: StorageTokenCacheStore | undefined;

  constructor(private readonly lake: LakeConfig) {}

  describe(): string {
    return (
      this.opened?.describe() ??
      `${this.lake.kind === 'local' ? `folder ${this.lake.dir}` : `container ${this.lake.container}`} ${statePath('msal-token-cache.json')}`
    );
  }

  async read(): Promise<{ data: string; etag: string } | undefined> {
    return (await this.open()).read();
  }

  async write(data: string, etag: string | undefined): Promise<{ ok: true; etag: string } | { ok: false }> {
    return (await this.open()).write(data, etag);
  }

  private open(): Promise<StorageTokenCacheStore> {
    this.store ??= createStorageTarget(this.lake).then((target) => {
      this.opened = new StorageTokenCacheStore(target);
      return this.opened;
    });
    return this.store;
  }
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
  const app = createConfidentialClient(config, {
    networkClient,
    cachePlugin: new PersistedTokenCachePlugin(store, logger),
  });
  const tokens = new MsalTokenProvider({
    app,
    scopes: [config.scope],
    bootstrapRefreshToken: config.bootstrapRefreshToken,
    cacheDescription: store.describe(),
    credentialSetting: config.clientCertificate
      ? 'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE'
      : 'PARTNER_CENTER_CLIENT_SECRET',
    logger,
  });
  const https = createHttpsTransport({ caPem: config.caPem, timeoutMs: config.requestTimeoutMs });
  const transport = options.wrapTransport ? options.wrapTransport(https) : https;
  const client = new PartnerCenterClient({
    apiBaseUrl: config.apiBaseUrl,
    transport,
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
  });
  return {
    client,
    tokens,
    close() {
      https.close();
      networkClient.close();
    },
  };
}

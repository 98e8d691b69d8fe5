/**
 * What one function instance shares between invocations: settings parsed once, one Partner Center
 * client and one token provider (50 concurrent calls that meet an expired token share one refresh,
 * and the token cache is written back once), and the continuation codec. Built lazily at the first
 * call; a settings error is not cached, so fixing an app setting needs no restart.
 */
import { createLogger, type Logger, stderrSink } from '../common/log.js';
import { loadPartnerCenterConfig, readSetting } from '../config.js';
import { configuredTokenCacheStore } from '../lake/layout/token-cache-store.js';
import { createPartnerCenterSource, type PartnerCenterSource, type SourceOptions } from '../source/create.js';
import { ContinuationCodec } from './continuation.js';

export interface LiveInstance {
  readonly source: PartnerCenterSource;
  readonly codec: ContinuationCodec;
  /** `$top` of each upstream page (SYNC_PAGE_SIZE: the same page size the sync asks for). */
  readonly pageSize: number;
}

let instance: LiveInstance | undefined;
let overrides: SourceOptions = {};

export function liveInstance(env: Readonly<Record<string, string | undefined>> = process.env): LiveInstance {
  if (instance) return instance;
  const config = loadPartnerCenterConfig(env);
  const pageSize = readSetting(env, 'SYNC_PAGE_SIZE') ?? 100;
  const logger: Logger = createLogger(stderrSink, { fields: { component: 'live-list' } });
  const source = createPartnerCenterSource(config, {
    logger,
    ...overrides,
    tokenCacheStore: overrides.tokenCacheStore ?? configuredTokenCacheStore(config, undefined, env),
  });
  instance = { source, codec: ContinuationCodec.fromConfig(config), pageSize };
  return instance;
}

/** Tests and the bench: drop the instance (closing its connections) and set options for the next one. */
export function resetLiveInstance(options: SourceOptions = {}): void {
  instance?.source.close();
  instance = undefined;
  overrides = options;
}

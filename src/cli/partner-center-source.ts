/**
 * The Partner Center source a CLI command works with: the settings from the environment, the token
 * cache PARTNER_CENTER_TOKEN_CACHE names (a file, or the lake), JSON log lines on stderr. Loaded
 * on first use, since --help and the other commands need none of it; closed when the command ends,
 * so that idle connections do not keep the process alive.
 */
import { createLogger, stderrSink } from '../common/log.js';
import { loadPartnerCenterConfig, type PartnerCenterConfig } from '../config.js';
import type { PartnerCenterSource } from '../source/create.js';

export async function withPartnerCenterSource<T>(
  run: (source: PartnerCenterSource, config: PartnerCenterConfig) => Promise<T>,
): Promise<T> {
  const config = loadPartnerCenterConfig();
  const { createPartnerCenterSource } = await import('../source/create.js');
  const { configuredTokenCacheStore } = await import('../lake/layout/token-cache-store.js');
  const source = createPartnerCenterSource(config, {
    logger: createLogger(stderrSink),
    tokenCacheStore: configuredTokenCacheStore(config),
  });
  try {
    return await run(source, config);
  } finally {
    source.close();
  }
}

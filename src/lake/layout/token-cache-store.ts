/**
 * The token cache as a state file of the lake, and the choice between it and a file: here, with the
 * lake's layout, so that the Partner Center client (source/) never imports the lake.
 */
import { type LakeConfig, loadLakeConfig } from '../../config.js';
import { type TokenCacheStore, tokenCacheStoreFor } from '../../source/auth/token-cache.js';
import { createStorageTarget } from '../storage/create-target.js';
import type { StorageTarget } from '../storage/storage.js';
import { statePath } from './paths.js';

/**
 * The store PARTNER_CENTER_TOKEN_CACHE names, for the entry points where the source meets the lake:
 * a file, or `lake`: the `_state/` of `lake` when given (the sync's own target), else of the lake
 * the LAKE_* settings name.
 */
export function configuredTokenCacheStore(
  config: Parameters<typeof tokenCacheStoreFor>[0],
  lake?: StorageTarget,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TokenCacheStore {
  return tokenCacheStoreFor(config, () =>
    lake ? new StorageTokenCacheStore(lake) : new SettingsLakeTokenCacheStore(loadLakeConfig(env)),
  );
}

/**
 * The cache as a small file in the lake (`_state/msal-token-cache.json`), for the function app.
 * Owner-only, so a folder lake keeps it 0600 like the file store; in Blob, RBAC decides.
 */
export class StorageTokenCacheStore implements TokenCacheStore {
  constructor(
    private readonly target: StorageTarget,
    private readonly path: string = statePath('msal-token-cache.json'),
  ) {}

  describe(): string {
    return `${this.target.describe()} ${this.path}`;
  }

  async read(): Promise<{ data: string; etag: string } | undefined> {
    const file = await this.target.read(this.path);
    return file ? { data: file.body.toString('utf8'), etag: file.etag } : undefined;
  }

  async write(data: string, etag: string | undefined): Promise<{ ok: true; etag: string } | { ok: false }> {
    const body = Buffer.from(data, 'utf8');
    const options = { contentType: 'application/json', ownerOnly: true };
    if (etag === undefined) {
      const created = await this.target.createIfAbsent(this.path, body, options);
      return created.created ? { ok: true, etag: created.etag } : { ok: false };
    }
    const replaced = await this.target.replaceIfMatch(this.path, body, etag, options);
    return replaced.replaced ? { ok: true, etag: replaced.etag } : { ok: false };
  }
}

/** The cache in the lake of the LAKE_* settings, opened at its first use (createStorageTarget is async). */
class SettingsLakeTokenCacheStore implements TokenCacheStore {
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

/**
 * The token cache as a small state file in the lake (`_state/msal-token-cache.json`), for the
 * function app: the source's TokenCacheStore on a storage target. It lives with the lake's layout
 * so that the Partner Center client never imports the lake.
 */
import { loadLakeConfig } from '../../config.js';
import type { TokenCacheStore } from '../../source/auth/token-cache.js';
import { createStorageTarget } from '../storage/create-target.js';
import type { StorageTarget } from '../storage/storage.js';
import { statePath } from './paths.js';

/**
 * The cache as a small file in the lake (`_state/msal-token-cache.json`), for the function app.
 * Owner-only, so a folder lake keeps it 0600 like the file store; in Blob, RBAC decides.
 */
export class StorageTokenCacheStore implements TokenCacheStore {
  constructor(
    private readonly target: StorageTarget,
    private readonly path: string = statePath('msal-token-cache.json'),
  ) {}

  /** The lake the LAKE_* settings name (the live list and the login and check commands). */
  static fromSettings(env: Readonly<Record<string, string | undefined>> = process.env): StorageTokenCacheStore {
    return new StorageTokenCacheStore(createStorageTarget(loadLakeConfig(env)));
  }

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

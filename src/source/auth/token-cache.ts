/**
 * MSAL's token cache, persisted. Refresh tokens rotate, so the cache is written back after every
 * change; the write is guarded by the version read (an ETag), so two instances refreshing at once
 * notice each other instead of silently clobbering. The store is pluggable: a local file for the
 * CLI, a blob in the lake's `_state/` for the function app.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { type Logger, silentLogger } from '../../common/log.js';
import { withFileLock } from '../../lake/file-lock.js';
import { statePath } from '../../lake/layout.js';
import type { StorageTarget } from '../../lake/storage.js';

export interface TokenCacheStore {
  /** Where the cache lives, for messages (no secrets). */
  describe(): string;
  read(): Promise<{ data: string; etag: string } | undefined>;
  /** Writes only if the stored version is still `etag` (undefined: only if nothing is stored). */
  write(data: string, etag: string | undefined): Promise<{ ok: true; etag: string } | { ok: false }>;
}

export class PersistedTokenCachePlugin implements ICachePlugin {
  private etag: string | undefined;

  constructor(
    private readonly store: TokenCacheStore,
    private readonly logger: Logger = silentLogger,
  ) {}

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    const stored = await this.store.read();
    if (!stored) return;
    context.tokenCache.deserialize(stored.data);
    this.etag = stored.etag;
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!context.cacheHasChanged) return;
    const data = context.tokenCache.serialize();
    const first = await this.store.write(data, this.etag);
    if (first.ok) {
      this.etag = first.etag;
      return;
    }
    // Someone else wrote meanwhile (another instance refreshed). Ours holds a refresh token that was
    // just issued and is therefore valid; theirs is too. Keep ours, but say so.
    this.logger.warn('token cache changed under us; writing the newest refresh token over it', {
      cache: this.store.describe(),
    });
    const latest = await this.store.read();
    const second = await this.store.write(data, latest?.etag);
    if (!second.ok) throw new Error(`could not write the token cache at ${this.store.describe()}: it keeps changing`);
    this.etag = second.etag;
  }
}

/** A local file (mode 0600), for the CLI and development. */
export class FileTokenCacheStore implements TokenCacheStore {
  constructor(private readonly path: string) {}

  describe(): string {
    return `file ${this.path}`;
  }

  async read(): Promise<{ data: string; etag: string } | undefined> {
    try {
      const data = await readFile(this.path, 'utf8');
      return { data, etag: digest(data) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(data: string, etag: string | undefined): Promise<{ ok: true; etag: string } | { ok: false }> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    // The lock makes compare-and-rename one step for every process on this machine.
    return withFileLock(`${this.path}.lock`, async () => {
      const current = await this.read();
      if (current?.etag !== etag) return { ok: false } as const;
      const temp = `${this.path}.${process.pid}.tmp`;
      await writeFile(temp, data, { mode: 0o600 });
      await rename(temp, this.path);
      return { ok: true, etag: digest(data) } as const;
    });
  }
}

function digest(data: string): string {
  return createHash('sha256').update(data).digest('base64url');
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

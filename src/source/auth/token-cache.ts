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
import { ConfigError } from '../../common/errors.js';
import { withFileLock } from '../../common/file-lock.js';
import { type Logger, silentLogger } from '../../common/log.js';
import type { PartnerCenterConfig } from '../../config.js';

export interface TokenCacheStore {
  /** Where the cache lives, for messages (no secrets). */
  describe(): string;
  read(): Promise<{ data: string; etag: string } | undefined>;
  /** Writes only if the stored version is still `etag` (undefined: only if nothing is stored). */
  write(data: string, etag: string | undefined): Promise<{ ok: true; etag: string } | { ok: false }>;
}

/**
 * Which bootstrap refresh tokens (PARTNER_CENTER_REFRESH_TOKEN) a cache has redeemed, so a refused
 * cached sign-in falls back to the setting only while it is new to this cache. Kept as fingerprints,
 * never as tokens.
 */
export interface BootstrapLedger {
  /** Whether the cache, as last read, records this fingerprint. */
  hasRedeemed(fingerprint: string): boolean;
  /**
   * Runs `redeem`: a cache write it causes (MSAL storing the account and tokens it got) records the
   * fingerprint in the same write, so it is recorded exactly when the redemption left tokens behind.
   */
  redeeming<T>(fingerprint: string, redeem: () => Promise<T>): Promise<T>;
}

/**
 * A SHA-256 of the token under a label of its own (so it matches no plain hash of the token kept
 * elsewhere). Refresh tokens are long random strings, so it cannot be turned back into one or
 * guessed from, and it is stored only in the cache, which already holds live refresh tokens.
 */
export function bootstrapFingerprint(token: string): string {
  return createHash('sha256').update('referrals-lake bootstrap refresh token\0').update(token).digest('base64url');
}

/** Our notes ride in the cache document under a key MSAL does not use; MSAL never sees them. */
const NOTES_KEY = 'ReferralsLake';
/** Enough for every bootstrap token a cache meets in practice; the oldest go first. */
const MAX_FINGERPRINTS = 16;

interface CacheNotes {
  readonly redeemedBootstrapTokens: readonly string[];
}

export class PersistedTokenCachePlugin implements ICachePlugin, BootstrapLedger {
  private etag: string | undefined;
  private notes: CacheNotes = { redeemedBootstrapTokens: [] };
  private redeemingFingerprint: string | undefined;

  constructor(
    private readonly store: TokenCacheStore,
    private readonly logger: Logger = silentLogger,
  ) {}

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    const stored = await this.store.read();
    if (!stored) return;
    const { msal, notes } = splitNotes(stored.data);
    context.tokenCache.deserialize(msal);
    this.notes = notes;
    this.etag = stored.etag;
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (!context.cacheHasChanged) return;
    const msal = context.tokenCache.serialize();
    const notes = this.notesOver(this.notes);
    const first = await this.store.write(withNotes(msal, notes), this.etag);
    if (first.ok) {
      this.etag = first.etag;
      this.notes = notes;
      return;
    }
    // Someone else wrote meanwhile (another instance refreshed). Ours holds a refresh token that was
    // just issued and is therefore valid; theirs is too. Keep ours, but say so.
    this.logger.warn('token cache changed under us; writing the newest refresh token over it', {
      cache: this.store.describe(),
    });
    const latest = await this.store.read();
    const theirs = latest ? splitNotes(latest.data).notes : this.notes;
    const merged = this.notesOver(theirs, this.notes);
    const second = await this.store.write(withNotes(msal, merged), latest?.etag);
    if (!second.ok) throw new Error(`could not write the token cache at ${this.store.describe()}: it keeps changing`);
    this.etag = second.etag;
    this.notes = merged;
  }

  hasRedeemed(fingerprint: string): boolean {
    return this.notes.redeemedBootstrapTokens.includes(fingerprint);
  }

  async redeeming<T>(fingerprint: string, redeem: () => Promise<T>): Promise<T> {
    this.redeemingFingerprint = fingerprint;
    try {
      return await redeem();
    } finally {
      this.redeemingFingerprint = undefined;
    }
  }

  /** The notes to write: those given, plus the fingerprint of a redemption under way. */
  private notesOver(...bases: CacheNotes[]): CacheNotes {
    const all = [...bases.flatMap((n) => n.redeemedBootstrapTokens), this.redeemingFingerprint];
    const unique = [...new Set(all.filter((f): f is string => f !== undefined))];
    return { redeemedBootstrapTokens: unique.slice(-MAX_FINGERPRINTS) };
  }
}

function splitNotes(data: string): { msal: string; notes: CacheNotes } {
  const none = { redeemedBootstrapTokens: [] };
  // A cache MSAL alone wrote goes to MSAL byte for byte.
  if (!data.includes(`"${NOTES_KEY}"`)) return { msal: data, notes: none };
  const { [NOTES_KEY]: raw, ...msal } = JSON.parse(data) as Record<string, unknown>;
  const list = (raw as { redeemedBootstrapTokens?: unknown } | undefined)?.redeemedBootstrapTokens;
  const fingerprints = Array.isArray(list) ? list.filter((f): f is string => typeof f === 'string') : [];
  return { msal: JSON.stringify(msal), notes: { redeemedBootstrapTokens: fingerprints } };
}

function withNotes(msal: string, notes: CacheNotes): string {
  if (notes.redeemedBootstrapTokens.length === 0) return msal;
  return JSON.stringify({ ...(JSON.parse(msal) as Record<string, unknown>), [NOTES_KEY]: notes });
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
 * The store PARTNER_CENTER_TOKEN_CACHE names: a file path, or `lake` (the function app): the lake's
 * `_state/`. This module does not know the lake; the entry points where the source meets it (the
 * sync job, the live instance, the login and check commands) pass `inLake`.
 */
export function tokenCacheStoreFor(
  config: Pick<PartnerCenterConfig, 'tokenCache'>,
  inLake?: () => TokenCacheStore,
): TokenCacheStore {
  if (config.tokenCache !== 'lake') return new FileTokenCacheStore(config.tokenCache);
  if (inLake) return inLake();
  throw new ConfigError(
    'PARTNER_CENTER_TOKEN_CACHE',
    "is 'lake', but this entry point reads no lake; set it to a file path (the default is .data/msal-token-cache.json)",
  );
}

import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCacheContext } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/common/log.js';
import { StorageTokenCacheStore } from '../../src/lake/layout/token-cache-store.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import {
  bootstrapFingerprint,
  FileTokenCacheStore,
  PersistedTokenCachePlugin,
  type TokenCacheStore,
} from '../../src/source/auth/token-cache.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'token-cache-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** The part of MSAL's cache context the plugin uses. */
function context(serialized: string, changed: boolean) {
  const loaded: string[] = [];
  const ctx = {
    cacheHasChanged: changed,
    tokenCache: { serialize: () => serialized, deserialize: (data: string) => loaded.push(data) },
  } as unknown as TokenCacheContext;
  return { ctx, loaded };
}

describe.each([
  ['file', () => new FileTokenCacheStore(join(work, 'file', 'cache.json'))],
  ['lake', () => new StorageTokenCacheStore(new LocalDirectoryTarget({ root: join(work, 'lake') }))],
] as const)('%s token cache store', (_name, makeStore: () => TokenCacheStore) => {
  it('writes only against the version it read (ETag-guarded)', async () => {
    const store = makeStore();
    expect(await store.read()).toBeUndefined();
    const first = await store.write('{"v":1}', undefined);
    expect(first.ok).toBe(true);
    expect((await store.write('{"v":"racer"}', undefined)).ok).toBe(false);
    const current = await store.read();
    expect(current?.data).toBe('{"v":1}');
    expect((await store.write('{"v":2}', current?.etag)).ok).toBe(true);
    expect((await store.write('{"v":3}', current?.etag)).ok).toBe(false);
    expect((await store.read())?.data).toBe('{"v":2}');
  });

  it('the plugin loads before MSAL reads, writes back only changes, and survives a concurrent writer', async () => {
    const store = makeStore();
    await store.write('{"seed":true}', (await store.read())?.etag);
    const lines: string[] = [];
    const plugin = new PersistedTokenCachePlugin(
      store,
      createLogger((_l, line) => lines.push(line)),
    );
    const read = context('', false);
    await plugin.beforeCacheAccess(read.ctx);
    expect(read.loaded).toEqual(['{"seed":true}']);
    await plugin.afterCacheAccess(context('{"unchanged":true}', false).ctx);
    expect((await store.read())?.data).toBe('{"seed":true}');
    // Another instance rotates the refresh token meanwhile.
    await store.write('{"other":true}', (await store.read())?.etag);
    await plugin.afterCacheAccess(context('{"ours":true}', true).ctx);
    expect((await store.read())?.data).toBe('{"ours":true}');
    expect(lines.join('\n')).toMatch(/changed under us/);
  });
});

it.each([
  [
    'the file store',
    (dir: string) => ({ store: new FileTokenCacheStore(join(dir, 'cache.json')), file: 'cache.json' }),
  ],
  [
    'the lake store on a folder target',
    (dir: string) => ({
      store: new StorageTokenCacheStore(new LocalDirectoryTarget({ root: dir })),
      file: join('_state', 'msal-token-cache.json'),
    }),
  ],
] as const)('%s keeps the cache private (mode 0600), when created and when replaced', async (name, make) => {
  const dir = join(work, `private-${name.length}`);
  const { store, file } = make(dir);
  await store.write('{"v":1}', undefined);
  expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
  await store.write('{"v":2}', (await store.read())?.etag);
  expect((await store.read())?.data).toBe('{"v":2}');
  expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
});

describe('the bootstrap ledger in the cache document', () => {
  const one = bootstrapFingerprint('0.S.first-bootstrap-token');
  const two = bootstrapFingerprint('0.S.second-bootstrap-token');
  const three = bootstrapFingerprint('0.S.third-bootstrap-token');
  const stored = async (store: TokenCacheStore) => JSON.parse((await store.read())?.data ?? '{}');

  /** One MSAL access: read, then write `serialized` if it is given. */
  async function access(plugin: PersistedTokenCachePlugin, serialized?: string) {
    const read = context('', false);
    await plugin.beforeCacheAccess(read.ctx);
    if (serialized !== undefined) await plugin.afterCacheAccess(context(serialized, true).ctx);
    return read.loaded;
  }

  it('records a fingerprint with the write a redemption causes, and only then', async () => {
    const store = new FileTokenCacheStore(join(work, 'ledger', 'record.json'));
    const plugin = new PersistedTokenCachePlugin(store);
    await plugin.redeeming(one, () => access(plugin, '{"Account":{"a":1}}'));
    expect(await stored(store)).toEqual({ Account: { a: 1 }, ReferralsLake: { redeemedBootstrapTokens: [one] } });
    // A refused redemption writes nothing, and the next ordinary write records nothing of it.
    await plugin.redeeming(two, () => access(plugin)).catch(() => undefined);
    await access(plugin, '{"Account":{"a":2}}');
    expect((await stored(store)).ReferralsLake).toEqual({ redeemedBootstrapTokens: [one] });
    expect(plugin.hasRedeemed(one)).toBe(true);
    expect(plugin.hasRedeemed(two)).toBe(false);
  });

  it('keeps the notes through later writes of another process, and never hands them to MSAL', async () => {
    const store = new FileTokenCacheStore(join(work, 'ledger', 'keep.json'));
    const first = new PersistedTokenCachePlugin(store);
    await first.redeeming(one, () => access(first, '{"Account":{"a":1}}'));
    const next = new PersistedTokenCachePlugin(store);
    expect(await access(next, '{"Account":{"a":2}}')).toEqual(['{"Account":{"a":1}}']);
    expect(next.hasRedeemed(one)).toBe(true);
    expect(await stored(store)).toEqual({ Account: { a: 2 }, ReferralsLake: { redeemedBootstrapTokens: [one] } });
  });

  it('merges the notes of a writer that came in between', async () => {
    const store = new FileTokenCacheStore(join(work, 'ledger', 'merge.json'));
    const ours = new PersistedTokenCachePlugin(store);
    await ours.redeeming(one, () => access(ours, '{"Account":{"a":1}}'));
    await ours.beforeCacheAccess(context('', false).ctx);
    const theirs = new PersistedTokenCachePlugin(store);
    await theirs.redeeming(two, () => access(theirs, '{"Account":{"b":1}}'));
    await ours.redeeming(three, () => ours.afterCacheAccess(context('{"Account":{"a":2}}', true).ctx));
    expect(await stored(store)).toEqual({
      Account: { a: 2 },
      ReferralsLake: { redeemedBootstrapTokens: [one, two, three] },
    });
  });

  it('keeps a fingerprint that is not the token nor its plain SHA-256', () => {
    const token = '0.S.first-bootstrap-token';
    const plain = createHash('sha256').update(token).digest();
    expect(one).not.toContain(token);
    expect(one).not.toBe(plain.toString('base64url'));
    expect(one).not.toBe(plain.toString('hex'));
    expect(one).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

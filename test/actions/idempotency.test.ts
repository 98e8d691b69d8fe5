/**
 * Idempotency-Key records (src/actions/idempotency.ts) in a folder lake: a key answers its first
 * answer, failures included (a failed write may have landed), another request with the key is
 * refused, a running first request blocks the key, and a record older than 24 h no longer counts
 * and is deleted by the sync's housekeeping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, RECORD_LIFETIME_MS } from '../../src/actions/idempotency.js';
import { IDEMPOTENCY_FOLDER } from '../../src/lake/layout/paths.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { listAll } from '../../src/lake/storage/storage.js';

let root: string;
let target: LocalDirectoryTarget;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'idempotency-'));
  target = new LocalDirectoryTarget({ root });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('IdempotencyStore', () => {
  it('answers the first answer again, a failure too, and never lets the key run twice', async () => {
    let now = 1_000_000;
    const store = new IdempotencyStore(target, () => now);
    const first = await store.claim('k1', 'key:a', 'accept r1');
    expect(first.kind).toBe('claimed');
    expect(await store.claim('k1', 'key:a', 'accept r1')).toMatchObject({ kind: 'conflict', status: 409 });
    // Still running an hour later: its write may yet land, so the key stays taken.
    now += 60 * 60 * 1000;
    expect(await store.claim('k1', 'key:a', 'accept r1')).toMatchObject({ kind: 'conflict', status: 409 });
    if (first.kind !== 'claimed') throw new Error('not claimed');
    const failed = {
      status: 502,
      body: '{"title":"Partner Center failed"}',
      headers: { 'content-type': 'application/json' },
    };
    await first.finish(failed);
    expect(await store.claim('k1', 'key:a', 'accept r1')).toEqual({ kind: 'replay', answer: failed });
    expect(await store.claim('k1', 'key:a', 'decline r1')).toMatchObject({ kind: 'conflict', status: 422 });
    // Another caller's key of the same text is its own.
    expect((await store.claim('k1', 'key:b', 'accept r1')).kind).toBe('claimed');
    now += RECORD_LIFETIME_MS + 1;
    expect((await store.claim('k1', 'key:a', 'accept r1')).kind).toBe('claimed');
  });

  it('deletes the records past their lifetime and keeps the live ones', async () => {
    const lake = new LocalDirectoryTarget({ root: join(root, 'expiry') });
    let now = Date.now();
    const store = new IdempotencyStore(lake, () => now);
    const old = await store.claim('old', 'key:a', 'accept r1');
    if (old.kind !== 'claimed') throw new Error('not claimed');
    await old.finish({ status: 200, body: '{}', headers: {} });
    await store.claim('unfinished', 'key:a', 'accept r2');
    now += RECORD_LIFETIME_MS + 60_000;
    await store.claim('fresh', 'key:a', 'accept r3');
    expect(await listAll(lake, IDEMPOTENCY_FOLDER)).toHaveLength(3);

    expect(await store.removeExpired()).toBe(2);
    expect(await listAll(lake, IDEMPOTENCY_FOLDER)).toHaveLength(1);
    // The one left is the fresh claim: still running, so its key stays taken.
    expect(await store.claim('fresh', 'key:a', 'accept r3')).toMatchObject({ kind: 'conflict', status: 409 });
    expect(await store.removeExpired()).toBe(0);
  });
});

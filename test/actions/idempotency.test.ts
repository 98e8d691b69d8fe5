/**
 * Idempotency-Key records (src/actions/idempotency.ts) in a folder lake: a key answers its first
 * answer, failures included (a failed write may have landed), another request with the key is
 * refused, a running first request blocks the key, and a record older than 24 h no longer counts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, RECORD_LIFETIME_MS } from '../../src/actions/idempotency.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';

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
});

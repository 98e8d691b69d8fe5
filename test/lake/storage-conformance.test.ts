/**
 * One contract, two targets: the same cases run against a local folder and against Blob Storage on
 * a private Azurite. Anything the pipeline relies on (atomic visibility, conditional writes, listing
 * order, no secrets in descriptions) is asserted here with real values.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/common/errors.js';
import { BlobStorageTarget } from '../../src/lake/storage/blob-storage-target.js';
import { LocalDirectoryTarget } from '../../src/lake/storage/local-directory-target.js';
import { listAll, type StorageTarget, writeWhole } from '../../src/lake/storage/storage.js';
import { LakePathError } from '../../src/lake/storage/storage-keys.js';
import { AZURITE_KEY, type Azurite, startAzurite } from '../helpers/azurite.js';

interface Harness {
  readonly name: string;
  setup(): Promise<StorageTarget>;
  teardown(): Promise<void>;
}

let azurite: Azurite | undefined;
let localRoot: string | undefined;

const harnesses: Harness[] = [
  {
    name: 'LocalDirectoryTarget',
    async setup() {
      localRoot = await mkdtemp(join(tmpdir(), 'lake-local-'));
      return new LocalDirectoryTarget({ root: localRoot });
    },
    async teardown() {
      if (localRoot) await rm(localRoot, { recursive: true, force: true });
    },
  },
  {
    name: 'BlobStorageTarget on Azurite',
    async setup() {
      azurite = await startAzurite();
      // Small blocks so a few-MB file is several staged blocks, as a large file is in production.
      return new BlobStorageTarget({
        connectionString: azurite.connectionString,
        container: 'lake',
        prefix: 'tenant-a/lake',
        blockSize: 1024 * 1024,
        concurrency: 3,
      });
    },
    async teardown() {
      await azurite?.stop();
    },
  },
];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const text = (value: string) => Buffer.from(value, 'utf8');

describe.each(harnesses)('$name', (harness) => {
  let target: StorageTarget;

  beforeAll(async () => {
    target = await harness.setup();
  });
  afterAll(() => harness.teardown());

  it('streams a multi-MB file in chunks and reads back the same bytes', async () => {
    const payload = randomBytes(5 * 1024 * 1024 + 12_345);
    const sink = await target.openWrite('big/part-00000.parquet');
    for (let offset = 0; offset < payload.length; offset += 64 * 1024) {
      await sink.write(payload.subarray(offset, offset + 64 * 1024));
    }
    expect(await target.exists('big/part-00000.parquet')).toBe(false); // nothing visible before commit
    const written = await sink.close();

    expect(written.bytes).toBe(payload.length);
    const back = await target.read('big/part-00000.parquet');
    expect(back?.body.length).toBe(payload.length);
    expect(sha256(back?.body ?? Buffer.alloc(0))).toBe(sha256(payload));
    expect(back?.etag).toBe(written.etag);
    expect(back?.contentType).toBe('application/vnd.apache.parquet');
    // A sink that says it hashes must report exactly the stored bytes' digest (DigestingSink trusts it).
    if (sink.computesSha256) expect(written.sha256).toBe(sha256(payload));
    else expect(written.sha256).toBeUndefined();
  });

  it('streams a file back in chunks, and nothing for a missing one', async () => {
    const payload = randomBytes(3 * 1024 * 1024 + 7);
    await writeWhole(target, 'stream/part-00000.ndjson', payload);
    const stream = await target.openRead('stream/part-00000.ndjson');
    if (!stream) throw new Error('expected a stream');
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
    expect(await target.openRead('stream/missing.ndjson')).toBeUndefined();

    // Stopping early releases the stream (no leaked handle or socket keeps the test alive).
    const again = await target.openRead('stream/part-00000.ndjson');
    for await (const _ of again ?? []) break;
  });

  it('reads a byte range, shorter at the end, empty past it, nothing for a missing file', async () => {
    const payload = randomBytes(64 * 1024 + 3);
    await writeWhole(target, 'range/part-00000.parquet', payload);
    const middle = await target.readRange('range/part-00000.parquet', 1000, 5000);
    expect(middle?.equals(payload.subarray(1000, 6000))).toBe(true);
    const tail = await target.readRange('range/part-00000.parquet', payload.length - 10, 100);
    expect(tail?.equals(payload.subarray(payload.length - 10))).toBe(true);
    expect((await target.readRange('range/part-00000.parquet', payload.length, 8))?.length).toBe(0);
    expect(await target.readRange('range/missing.parquet', 0, 8)).toBeUndefined();
    await expect(target.readRange('range/part-00000.parquet', 0, 0)).rejects.toThrow(RangeError);
  });

  it('writes an empty file', async () => {
    const written = await writeWhole(target, 'empty/part-00000.ndjson', new Uint8Array(0));
    expect(written.bytes).toBe(0);
    const back = await target.read('empty/part-00000.ndjson');
    expect(back?.body.length).toBe(0);
  });

  it('overwrites on a plain write and leaves nothing behind on abort', async () => {
    await writeWhole(target, 'over/a.json', text('{"v":1}'));
    await writeWhole(target, 'over/a.json', text('{"v":2}'));
    expect((await target.read('over/a.json'))?.body.toString()).toBe('{"v":2}');

    const sink = await target.openWrite('over/b.json');
    await sink.write(text('{"partial":'));
    await sink.abort();
    await sink.abort(); // idempotent
    expect(await target.exists('over/b.json')).toBe(false);
    expect((await listAll(target, 'over/')).map((o) => o.path)).toEqual(['over/a.json']);
    await expect(sink.write(text('more'))).rejects.toBeInstanceOf(StorageError);
  });

  it('copies inside the store, replacing the destination, and fails on a missing source', async () => {
    const payload = randomBytes(2 * 1024 * 1024 + 3);
    await writeWhole(target, 'copy/run/part-00000.parquet', payload);
    await writeWhole(target, 'copy/latest/part-00000.parquet', text('old'));

    const copied = await target.copy('copy/run/part-00000.parquet', 'copy/latest/part-00000.parquet');

    expect(copied.bytes).toBe(payload.length);
    const back = await target.read('copy/latest/part-00000.parquet');
    expect(sha256(back?.body ?? Buffer.alloc(0))).toBe(sha256(payload));
    expect(back?.contentType).toBe('application/vnd.apache.parquet');
    expect((await listAll(target, 'copy/')).map((o) => o.path)).toEqual([
      'copy/latest/part-00000.parquet',
      'copy/run/part-00000.parquet',
    ]);
    await expect(target.copy('copy/run/missing.parquet', 'copy/latest/x.parquet')).rejects.toBeInstanceOf(StorageError);
    expect(await target.exists('copy/latest/x.parquet')).toBe(false);
  });

  it('lists by string prefix, in key order, with sizes, and nothing outside the prefix', async () => {
    const keys = [
      'list/t/snapshot_date=2026-11-24/run_id=20261124T060000Z-ab12/part-00000.parquet',
      'list/t/snapshot_date=2026-11-24/run_id=20261124T060000Z-ab12/part-00000.ndjson',
      'list/t/snapshot_date=2026-11-25/run_id=20261125T060000Z-cd34/part-00000.parquet',
      'list/t-c/x.json',
      'list/u/y.json',
    ];
    for (const [index, key] of keys.entries()) await writeWhole(target, key, text('x'.repeat(index + 1)));

    const all = await listAll(target, 'list/');
    expect(all.map((o) => o.path)).toEqual([...keys].sort());
    expect(all.find((o) => o.path === 'list/u/y.json')?.size).toBe(5);
    expect(all.every((o) => o.lastModified instanceof Date && !Number.isNaN(o.lastModified.getTime()))).toBe(true);

    const day = await listAll(target, 'list/t/snapshot_date=2026-11-24/');
    expect(day.map((o) => o.path)).toEqual([keys[1], keys[0]]);
    const partial = await listAll(target, 'list/t/snapshot_date=2026-11-2');
    expect(partial).toHaveLength(3);
    expect(await listAll(target, 'list/t')).toHaveLength(4); // 't' and 't-c': a string prefix, as Blob lists
    expect(await listAll(target, 'nothing-here/')).toEqual([]);
  });

  it('reads, checks and deletes what exists, and reports what does not', async () => {
    expect(await target.read('missing/file.json')).toBeUndefined();
    expect(await target.exists('missing/file.json')).toBe(false);
    expect(await target.delete('missing/file.json')).toBe(false);

    await writeWhole(target, 'gone/file.json', text('{}'));
    expect(await target.exists('gone/file.json')).toBe(true);
    expect(await target.delete('gone/file.json')).toBe(true);
    expect(await target.exists('gone/file.json')).toBe(false);
    expect(await target.read('gone/file.json')).toBeUndefined();
  });

  it('creates if absent exactly once', async () => {
    const first = await target.createIfAbsent('_runs/20261124T060000Z-ab12.json', text('{"run":1}'));
    expect(first.created).toBe(true);
    const second = await target.createIfAbsent('_runs/20261124T060000Z-ab12.json', text('{"run":2}'));
    expect(second).toEqual({ created: false });

    const back = await target.read('_runs/20261124T060000Z-ab12.json');
    expect(back?.body.toString()).toBe('{"run":1}');
    expect(back?.contentType).toBe('application/json');
    if (first.created) expect(back?.etag).toBe(first.etag);
  });

  it('lets exactly one of several racing creators win', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => target.createIfAbsent('_state/race-create.json', text(`{"w":${i}}`))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('replaces only when the ETag still matches', async () => {
    const created = await target.createIfAbsent('_state/watermark.json', text('{"v":1}'));
    if (!created.created) throw new Error('expected to create the watermark');
    const read = await target.read('_state/watermark.json');
    expect(read?.etag).toBe(created.etag);

    const replaced = await target.replaceIfMatch('_state/watermark.json', text('{"v":2}'), created.etag);
    if (!replaced.replaced) throw new Error('expected the replace to succeed');
    expect(replaced.etag).not.toBe(created.etag);

    // The ETag read before the replace is stale now.
    expect(await target.replaceIfMatch('_state/watermark.json', text('{"v":3}'), created.etag)).toEqual({
      replaced: false,
    });
    const now = await target.read('_state/watermark.json');
    expect(now?.body.toString()).toBe('{"v":2}');
    expect(now?.etag).toBe(replaced.etag);

    expect(await target.replaceIfMatch('_state/never-written.json', text('{}'), replaced.etag)).toEqual({
      replaced: false,
    });
    expect(await target.exists('_state/never-written.json')).toBe(false);
  });

  it('deletes only when the ETag still matches', async () => {
    const created = await target.createIfAbsent('_state/idempotency/k.json', text('{"a":1}'));
    if (!created.created) throw new Error('expected to create the record');
    const replaced = await target.replaceIfMatch('_state/idempotency/k.json', text('{"a":2}'), created.etag);
    if (!replaced.replaced) throw new Error('expected the replace to succeed');
    // Judged on the older version: the newer one stays.
    expect(await target.deleteIfMatch('_state/idempotency/k.json', created.etag)).toBe(false);
    expect((await target.read('_state/idempotency/k.json'))?.body.toString()).toBe('{"a":2}');
    expect(await target.deleteIfMatch('_state/idempotency/k.json', replaced.etag)).toBe(true);
    expect(await target.exists('_state/idempotency/k.json')).toBe(false);
    expect(await target.deleteIfMatch('_state/idempotency/k.json', replaced.etag)).toBe(false);
    expect((await listAll(target, '_state/idempotency/')).map((f) => f.path)).toEqual([]);
  });

  it('lets exactly one of several racing replacers with the same ETag win', async () => {
    const created = await target.createIfAbsent('_state/latest.json', text('{"run":"a"}'));
    if (!created.created) throw new Error('expected to create the pointer');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        target.replaceIfMatch('_state/latest.json', text(`{"run":"${i}"}`), created.etag),
      ),
    );
    const winners = results.filter((r) => r.replaced);
    expect(winners).toHaveLength(1);
    const back = await target.read('_state/latest.json');
    expect(winners[0]?.replaced && back?.etag === winners[0].etag).toBe(true);
  });

  it('refuses keys that could escape the root', async () => {
    for (const bad of ['../x.json', '/abs.json', 'a//b.json', 'a/./b.json', 'a\\b.json', 'a/.~tmp-1', '']) {
      await expect(target.openWrite(bad)).rejects.toBeInstanceOf(LakePathError);
      await expect(target.read(bad)).rejects.toBeInstanceOf(LakePathError);
    }
    await expect(listAll(target, '../')).rejects.toBeInstanceOf(LakePathError);
  });

  it('describes itself without secrets', () => {
    const description = target.describe();
    expect(description).not.toContain(AZURITE_KEY);
    expect(description).not.toMatch(/AccountKey|SharedAccessSignature|sig=/i);
    expect(description.length).toBeGreaterThan(5);
  });
});

describe('BlobStorageTarget specifics', () => {
  let server: Azurite;

  beforeAll(async () => {
    server = await startAzurite();
  });
  afterAll(() => server.stop());

  it('names the account, container and prefix in describe()', () => {
    const target = new BlobStorageTarget({
      connectionString: server.connectionString,
      container: 'c1',
      prefix: '/p/q/',
    });
    expect(target.describe()).toBe(`blob account devstoreaccount1 container c1 (${server.blobEndpoint}/c1/p/q)`);
  });

  it('sets content types readers and browsers expect, and no Content-Encoding on .gz', async () => {
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const target = new BlobStorageTarget({ connectionString: server.connectionString, container: 'types' });
    await writeWhole(target, 'raw/part-00000.ndjson.gz', new Uint8Array([0x1f, 0x8b]));
    await writeWhole(target, 't/part-00000.ndjson', text('{}\n'));
    await writeWhole(target, 't/part-00000.parquet', text('PAR1'));
    await writeWhole(target, 't/custom.bin', text('x'), { contentType: 'text/plain' });
    const container = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient('types');
    const props = async (name: string) => container.getBlobClient(name).getProperties();
    const gz = await props('raw/part-00000.ndjson.gz');
    expect(gz.contentType).toBe('application/gzip');
    expect(gz.contentEncoding).toBeUndefined();
    expect((await props('t/part-00000.ndjson')).contentType).toBe('application/x-ndjson');
    expect((await props('t/part-00000.parquet')).contentType).toBe('application/vnd.apache.parquet');
    expect((await props('t/custom.bin')).contentType).toBe('text/plain');
  });

  it('keeps prefixes apart: a sibling prefix is not listed', async () => {
    const a = new BlobStorageTarget({ connectionString: server.connectionString, container: 'shared', prefix: 'lake' });
    const b = new BlobStorageTarget({
      connectionString: server.connectionString,
      container: 'shared',
      prefix: 'lake2',
    });
    await writeWhole(a, 'x.json', text('a'));
    await writeWhole(b, 'x.json', text('b'));
    expect((await listAll(a, '')).map((o) => o.path)).toEqual(['x.json']);
    expect((await a.read('x.json'))?.body.toString()).toBe('a');
  });

  it('fails with a StorageError that carries no key when the key is wrong', async () => {
    const wrongKey = randomBytes(64).toString('base64');
    const connectionString = server.connectionString.replace(AZURITE_KEY, wrongKey);
    const target = new BlobStorageTarget({ connectionString, container: 'denied' });
    const error = await target.createIfAbsent('x.json', text('{}')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    const storage = error as StorageError;
    expect(storage.details).toMatchObject({ operation: 'create', path: 'x.json', status: 403 });
    const everything = `${storage.message} ${String((storage.cause as Error).message)} ${JSON.stringify(storage)}`;
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain(AZURITE_KEY);
    expect(storage.message).toContain('devstoreaccount1');
  });

  it('leaves no uncommitted data visible when a streamed write is aborted', async () => {
    const target = new BlobStorageTarget({
      connectionString: server.connectionString,
      container: 'aborts',
      blockSize: 256 * 1024,
    });
    const sink = await target.openWrite('a/part-00000.parquet');
    await sink.write(randomBytes(1024 * 1024)); // several blocks staged
    await sink.abort();
    expect(await listAll(target, '')).toEqual([]);
  });

  it('writes files side by side through one shared budget of blocks, each whole and in order', async () => {
    const target = new BlobStorageTarget({
      connectionString: server.connectionString,
      container: 'side-by-side',
      blockSize: 64 * 1024,
      concurrency: 2,
    });
    const paths = ['a', 'b', 'c', 'd', 'e'].map((name) => `t/${name}/part-00000.parquet`);
    const sinks = await Promise.all(paths.map((path) => target.openWrite(path)));
    const written = paths.map((): Buffer[] => []);
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        sinks.map(async (sink, i) => {
          // Chunk sizes below, at and above the block size, so blocks are cut across chunks.
          const chunk = randomBytes([1, 5_000, 64 * 1024, 150_000][(round + i) % 4] ?? 1);
          written[i]?.push(chunk);
          await sink.write(chunk);
        }),
      );
    }
    const closed = await Promise.all(sinks.map((sink) => sink.close()));
    for (const [i, path] of paths.entries()) {
      const expected = Buffer.concat(written[i] ?? []);
      expect(closed[i]?.bytes).toBe(expected.length);
      expect(sha256((await target.read(path))?.body ?? Buffer.alloc(0))).toBe(sha256(expected));
    }
  });

  it('fails the file with a StorageError when a block cannot be staged', async () => {
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const target = new BlobStorageTarget({
      connectionString: server.connectionString,
      container: 'vanishing',
      blockSize: 64 * 1024,
    });
    const sink = await target.openWrite('t/part-00000.parquet');
    await sink.write(randomBytes(100 * 1024));
    await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient('vanishing').delete();
    const failure = await (async () => {
      for (let i = 0; i < 20; i++) await sink.write(randomBytes(64 * 1024));
      await sink.close();
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageError);
    expect((failure as StorageError).details).toMatchObject({ path: 't/part-00000.parquet', status: 404 });
    await sink.abort();
  });
});

describe('LocalDirectoryTarget specifics', () => {
  it('leaves no temp or lock files behind', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lake-local-'));
    try {
      const target = new LocalDirectoryTarget({ root });
      const created = await target.createIfAbsent('_state/s.json', text('1'));
      if (created.created) await target.replaceIfMatch('_state/s.json', text('2'), created.etag);
      await target.createIfAbsent('_state/s.json', text('3'));
      const sink = await target.openWrite('_state/t.json');
      await sink.write(text('x'));
      await sink.abort();
      expect(await readdir(join(root, '_state'))).toEqual(['s.json']);
      expect(target.describe()).toBe(`folder ${root}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('writes an owner-only file with mode 0600 by every write path, and any other file as usual', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lake-local-'));
    const mode = async (path: string) => (await stat(join(root, path))).mode & 0o777;
    try {
      const target = new LocalDirectoryTarget({ root });
      const ownerOnly = { ownerOnly: true };
      const created = await target.createIfAbsent('_state/a.json', text('1'), ownerOnly);
      expect(await mode('_state/a.json')).toBe(0o600);
      if (created.created) await target.replaceIfMatch('_state/a.json', text('2'), created.etag, ownerOnly);
      expect(await mode('_state/a.json')).toBe(0o600);
      const sink = await target.openWrite('_state/b.json', ownerOnly);
      await sink.write(text('x'));
      await sink.close();
      expect(await mode('_state/b.json')).toBe(0o600);
      await writeWhole(target, '_state/c.json', text('y'));
      await writeFile(join(root, 'plain.json'), 'z');
      expect(await mode('_state/c.json')).toBe(await mode('plain.json'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * The hand-made Put Block / Put Block List sink against a fake blob that records what it is sent:
 * the properties a real account would only show under load or failure (uploads in flight, slots
 * given back, id shapes, abort while waiting). Azurite runs the same sink in storage-conformance.
 */
import type { BlockBlobClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { BlobWriteSink, BlockBudget, blockId, MAX_BLOCKS } from '../../src/lake/storage/blob-write-sink.js';

interface FakeBlob {
  readonly client: BlockBlobClient;
  readonly staged: Map<string, Buffer>;
  committed: Buffer | undefined;
  committedIds: string[];
  /** Called for every Put Block; resolve, reject or hang as the test likes. */
  onStage: (id: string, signal: AbortSignal | undefined) => Promise<void>;
}

/** Put Blocks in flight, counted across every fake blob that shares it. */
interface InFlight {
  now: number;
  peak: number;
}

function fakeBlob(counter: InFlight = { now: 0, peak: 0 }): FakeBlob {
  const fake: FakeBlob = {
    staged: new Map(),
    committed: undefined,
    committedIds: [],
    onStage: () => new Promise((resolve) => setTimeout(resolve, 1)),
    client: {
      stageBlock: async (id: string, body: Buffer, length: number, options?: { abortSignal?: AbortSignal }) => {
        counter.now++;
        counter.peak = Math.max(counter.peak, counter.now);
        try {
          await fake.onStage(id, options?.abortSignal);
          // Read the body only now, as an upload reads it while it is sent.
          fake.staged.set(id, Buffer.from(body.subarray(0, length)));
          return {};
        } finally {
          counter.now--;
        }
      },
      commitBlockList: async (ids: string[]) => {
        fake.committedIds = ids;
        fake.committed = Buffer.concat(ids.map((id) => fake.staged.get(id) ?? Buffer.alloc(0)));
        return { etag: '"fake"' };
      },
    } as unknown as BlockBlobClient,
  };
  return fake;
}

const settings = (budget: BlockBudget) => ({
  budget,
  contentType: 'application/octet-stream',
  fail: (operation: string, error: unknown) => new Error(`${operation} failed`, { cause: error }),
});

/** Resolves when `signal` aborts, rejecting as a cancelled request does. */
const untilAborted = (signal: AbortSignal | undefined) =>
  new Promise<void>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));

describe('BlobWriteSink', () => {
  it('copies what it is given: a chunk the caller refills at once still arrives as written', async () => {
    const blob = fakeBlob();
    const sink = new BlobWriteSink(blob.client, settings(new BlockBudget(1000, 2)));
    const chunk = Buffer.alloc(700);
    const expected: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      chunk.fill(i);
      expected.push(Buffer.from(chunk));
      await sink.write(chunk);
    }
    const written = await sink.close();
    expect(written.bytes).toBe(14_000);
    expect(blob.committed?.equals(Buffer.concat(expected))).toBe(true);
  });

  it('keeps every file of a target within one limit of uploads in flight', async () => {
    const budget = new BlockBudget(100, 3);
    const counter: InFlight = { now: 0, peak: 0 };
    const blobs = Array.from({ length: 6 }, () => fakeBlob(counter));
    const sinks = blobs.map((blob) => new BlobWriteSink(blob.client, settings(budget)));
    await Promise.all(
      sinks.map(async (sink, i) => {
        for (let n = 0; n < 10; n++) await sink.write(Buffer.alloc(250, i));
        await sink.close();
      }),
    );
    expect(counter.peak).toBe(3);
    for (const [i, blob] of blobs.entries()) expect(blob.committed?.equals(Buffer.alloc(2500, i))).toBe(true);
  });

  it('names blocks with base64 ids of one length, 48 bytes before encoding, in order', async () => {
    const blob = fakeBlob();
    const sink = new BlobWriteSink(blob.client, settings(new BlockBudget(10, 4)));
    await sink.write(Buffer.alloc(1_005, 7));
    await sink.close();
    expect(blob.committedIds).toHaveLength(101);
    for (const id of blob.committedIds) {
      expect(id).toHaveLength(64);
      expect(Buffer.from(id, 'base64')).toHaveLength(48);
    }
    expect(blob.committedIds.map((id) => Number(Buffer.from(id, 'base64').toString().slice(-12)))).toEqual(
      Array.from({ length: 101 }, (_, i) => i),
    );
    expect(blockId('p', 3)).toBe(Buffer.from('p000000000003').toString('base64'));
  });

  it('fails the file on a block that cannot be staged, and gives its slots back to the others', async () => {
    const budget = new BlockBudget(100, 1);
    const broken = fakeBlob();
    broken.onStage = () => Promise.reject(new Error('503 from the service'));
    const sink = new BlobWriteSink(broken.client, settings(budget));
    const failure = await (async () => {
      for (let i = 0; i < 5; i++) await sink.write(Buffer.alloc(100));
      await sink.close();
    })().catch((error: unknown) => error);
    expect(String((failure as Error).cause)).toContain('503 from the service');
    expect(broken.committed).toBeUndefined();
    await sink.abort();

    const healthy = fakeBlob();
    const next = new BlobWriteSink(healthy.client, settings(budget));
    await next.write(Buffer.alloc(300, 1));
    await next.close();
    expect(healthy.committed?.equals(Buffer.alloc(300, 1))).toBe(true);
  });

  it('stops waiting for a slot when the file is aborted, and cancels its uploads in flight', async () => {
    const budget = new BlockBudget(100, 1);
    const hanging = fakeBlob();
    hanging.onStage = (_, signal) => untilAborted(signal);
    const sink = new BlobWriteSink(hanging.client, settings(budget));
    await sink.write(Buffer.alloc(100)); // takes the only slot and hangs there
    const waiting = sink.write(Buffer.alloc(100)).catch((error: unknown) => error);
    await sink.abort();
    expect(String(((await waiting) as Error).cause)).toContain('aborted');

    const healthy = fakeBlob();
    const next = new BlobWriteSink(healthy.client, settings(budget));
    await next.write(Buffer.alloc(200, 2));
    await next.close();
    expect(healthy.committed?.equals(Buffer.alloc(200, 2))).toBe(true);
  });

  it(`refuses a block past the ${MAX_BLOCKS.toLocaleString('en')}th, and keeps refusing`, async () => {
    const blob = fakeBlob();
    blob.onStage = async () => undefined;
    const sink = new BlobWriteSink(blob.client, settings(new BlockBudget(1, 8)));
    await sink.write(Buffer.alloc(MAX_BLOCKS));
    const failure = await sink.write(Buffer.alloc(1)).catch((error: unknown) => error);
    expect(String((failure as Error).cause)).toContain(`at most ${MAX_BLOCKS} blocks`);
    await expect(sink.close()).rejects.toThrow('close failed');
    expect(blob.committed).toBeUndefined();
  });
});

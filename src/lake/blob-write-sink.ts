/**
 * Streamed Blob writes with our own Put Block / Put Block List. Each open file fills one block;
 * a full block is staged while the file goes on filling the next, and the block list is committed
 * at close, so nothing is visible before then and an aborted file leaves only uncommitted blocks
 * (the service drops them, after a week at most).
 *
 * Blocks come from one pool and go out through one limit of uploads in flight, shared by every file
 * of a target: a run's memory is a filling block per open file plus the blocks in flight, however
 * many files are open. The SDK's `uploadStream` keeps a pipeline per file instead (a PassThrough,
 * chunks waiting to be merged, its own pooled blocks): up to five blocks a file, ~20 files a run
 * (docs/performance.md).
 */
import { randomUUID } from 'node:crypto';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { WriteSink, WrittenFile } from './storage.js';

/** Put Block List accepts at most this many blocks (24 GiB a file at 512 KiB blocks). */
const MAX_BLOCKS = 50_000;

/** The blocks and upload slots every file of one target draws from. */
export class BlockBudget {
  private readonly spare: Buffer[] = [];
  private readonly queue: Array<() => void> = [];
  private inFlight = 0;

  constructor(
    readonly blockSize: number,
    /** Put Block calls in flight at once, across all files. */
    readonly maxInFlight: number,
  ) {
    if (!(blockSize > 0) || !(maxInFlight > 0))
      throw new RangeError('block size and uploads in flight must be positive');
  }

  takeBlock(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockSize);
  }

  /** Keeps as many spare blocks as can be in flight; more would only be held, never used at once. */
  returnBlock(block: Buffer): void {
    if (this.spare.length < this.maxInFlight) this.spare.push(block);
  }

  /** Resolves when an upload may start, first come first served. */
  async acquire(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** Hands the slot to the next waiter, if any. */
  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.inFlight--;
  }
}

export interface BlobSinkSettings {
  readonly budget: BlockBudget;
  readonly contentType: string;
  readonly fail: (operation: string, error: unknown) => Error;
}

/** Copies what it is given (the caller may reuse a chunk once `write` resolves). */
export class BlobWriteSink implements WriteSink {
  private readonly controller = new AbortController();
  /** Block ids: one random prefix per file, so two writers of one blob never mix their blocks. */
  private readonly idPrefix = randomUUID();
  private readonly ids: string[] = [];
  private readonly staging = new Set<Promise<void>>();
  private block: Buffer | undefined;
  private filled = 0;
  private bytes = 0;
  private failure: unknown;
  private finished = false;

  constructor(
    private readonly blob: BlockBlobClient,
    private readonly settings: BlobSinkSettings,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.assertWritable('write');
    const { blockSize } = this.settings.budget;
    let offset = 0;
    while (offset < chunk.length) {
      this.block ??= this.settings.budget.takeBlock();
      const end = Math.min(chunk.length, offset + blockSize - this.filled);
      this.block.set(chunk.subarray(offset, end), this.filled);
      this.filled += end - offset;
      this.bytes += end - offset;
      offset = end;
      if (this.filled === blockSize) await this.stageFilled().catch(this.failWith('write'));
    }
  }

  async close(): Promise<WrittenFile> {
    this.assertWritable('close');
    this.finished = true;
    try {
      if (this.filled > 0) await this.stageFilled();
      await Promise.all(this.staging);
      if (this.failure !== undefined) throw this.failure;
      // An empty list commits an empty blob: an empty file is still a file.
      const response = await this.blob.commitBlockList(this.ids, {
        blobHTTPHeaders: { blobContentType: this.settings.contentType },
        abortSignal: this.controller.signal,
      });
      return { bytes: this.bytes, etag: response.etag ?? '' };
    } catch (error) {
      throw this.settings.fail('close', error);
    } finally {
      this.dropBlock();
    }
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.controller.abort();
    await Promise.all(this.staging);
    this.dropBlock();
  }

  private assertWritable(operation: string): void {
    if (this.finished) throw this.settings.fail(operation, new Error('the file is already closed or aborted'));
    if (this.failure !== undefined) throw this.settings.fail(operation, this.failure);
  }

  private failWith(operation: string): (error: unknown) => never {
    return (error) => {
      throw this.settings.fail(operation, error);
    };
  }

  /**
   * Stages the filled block once a slot is free (the wait is the backpressure) and returns without
   * waiting for the upload; a failure is kept and thrown by the next write or the close.
   */
  private async stageFilled(): Promise<void> {
    const block = this.block as Buffer;
    const length = this.filled;
    this.block = undefined;
    this.filled = 0;
    if (this.ids.length >= MAX_BLOCKS) {
      this.settings.budget.returnBlock(block);
      throw new Error(`a blob holds at most ${MAX_BLOCKS} blocks`);
    }
    const id = Buffer.from(`${this.idPrefix}-${String(this.ids.length).padStart(6, '0')}`).toString('base64');
    this.ids.push(id);
    const { budget } = this.settings;
    await budget.acquire();
    if (this.controller.signal.aborted || this.failure !== undefined) {
      budget.release();
      budget.returnBlock(block);
      if (this.failure !== undefined) throw this.failure;
      return;
    }
    const staged = this.blob
      .stageBlock(id, block.subarray(0, length), length, { abortSignal: this.controller.signal })
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= error;
        },
      )
      .finally(() => {
        budget.release();
        budget.returnBlock(block);
        this.staging.delete(staged);
      });
    this.staging.add(staged);
  }

  private dropBlock(): void {
    if (this.block) this.settings.budget.returnBlock(this.block);
    this.block = undefined;
    this.filled = 0;
  }
}

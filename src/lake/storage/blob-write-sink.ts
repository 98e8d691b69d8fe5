/**
 * Streamed Blob writes with our own Put Block / Put Block List. Each open file fills one block;
 * a full block is staged while the file goes on filling the next, and the block list is committed
 * at close, so nothing is visible before then and an aborted file leaves only uncommitted blocks
 * (the service drops them, after a week at most).
 *
 * Blocks come from one pool and go out through one limit of uploads in flight, shared by every file
 * of a target: a run's memory is a filling block per open file plus the blocks in flight, however
 * many files are open. The SDK's `uploadStream` keeps a pipeline per file instead (a PassThrough,
 * chunks waiting to be merged into blocks, its own pooled blocks), and a run has ~20 files open
 * (docs/performance.md).
 */
import { randomUUID } from 'node:crypto';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { WriteSink, WrittenFile } from './storage.js';

/** Put Block List accepts at most this many blocks (24 GiB a file at 512 KiB blocks). */
export const MAX_BLOCKS = 50_000;

/**
 * A block id: the file's random prefix (36 characters) and a 12-digit index, 48 bytes, base64. The
 * service wants every id of a blob the same length, including blocks an earlier, aborted writer left
 * uncommitted at the same path: this is the shape the SDK's `uploadStream` used, so a path written
 * before this code keeps accepting blocks.
 */
export function blockId(prefix: string, index: number): string {
  return Buffer.from(`${prefix}${String(index).padStart(12, '0')}`).toString('base64');
}

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
    if (!(blockSize > 0) || !(maxInFlight > 0)) {
      throw new RangeError('block size and uploads in flight must be positive');
    }
  }

  takeBlock(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockSize);
  }

  /** Keeps as many spare blocks as can be in flight; more would only be held, never used at once. */
  returnBlock(block: Buffer): void {
    if (this.spare.length < this.maxInFlight) this.spare.push(block);
  }

  /**
   * Resolves with true when an upload may start, first come first served; with false, holding no
   * slot, when `signal` aborts first (an aborted file stops waiting for uploads it will not make).
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const granted = () => {
        signal.removeEventListener('abort', gaveUp);
        resolve(true);
      };
      const gaveUp = () => {
        const at = this.queue.indexOf(granted);
        if (at >= 0) this.queue.splice(at, 1);
        resolve(false);
      };
      this.queue.push(granted);
      signal.addEventListener('abort', gaveUp, { once: true });
    });
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
  /** One random prefix per file, so two writers of one blob never mix their blocks. */
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
      if (this.filled === blockSize) {
        await this.stageFilled().catch(this.failWith('write'));
        // A block failed or the file was aborted while this one waited for a slot: it was not taken.
        this.assertWritable('write');
      }
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
      await this.cancelUploads();
      throw this.settings.fail('close', error);
    } finally {
      this.dropBlock();
    }
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.cancelUploads();
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

  /** Stops the file's uploads in flight (and its waits for a slot) and lets them settle. */
  private async cancelUploads(): Promise<void> {
    this.controller.abort();
    await Promise.all(this.staging);
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
    const { budget } = this.settings;
    if (this.ids.length >= MAX_BLOCKS) {
      budget.returnBlock(block);
      this.failure ??= new Error(`a blob holds at most ${MAX_BLOCKS} blocks`);
      throw this.failure;
    }
    const id = blockId(this.idPrefix, this.ids.length);
    this.ids.push(id);
    const slot = await budget.acquire(this.controller.signal);
    if (!slot || this.failure !== undefined) {
      if (slot) budget.release();
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
          // The file is lost anyway: its other uploads would only hold slots other files wait for.
          this.controller.abort();
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

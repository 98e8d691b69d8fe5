/**
 * Lines of text into a storage sink: encoded straight into chunks of about `chunkBytes` (one upload
 * write per chunk, not per line) and optionally through one gzip stream. A single gzip member, not one per
 * chunk: concatenated members are valid gzip but not every reader (older Hadoop codecs) reads past
 * the first.
 *
 * Two chunks take turns: one fills while the other is being written, and a written chunk is filled
 * again. A fresh chunk per write was ~150 MB of 1 MiB buffers to allocate and free per 20,000
 * referrals: garbage-collector pressure and glibc fragmentation (docs/performance.md).
 */
import { createGzip, type Gzip } from 'node:zlib';
import { type Digest, DigestingSink } from '../storage/digesting-sink.js';
import type { WriteSink } from '../storage/storage.js';

export interface LineSinkOptions {
  readonly gzip?: boolean;
  /** Text buffered before a write to storage. Default 256 KiB (the Blob sink fills its own blocks). */
  readonly chunkBytes?: number;
}

interface ByteOutput {
  /** Resolves once the chunk is no longer needed: the caller may then fill it again. */
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<Digest>;
  abort(): Promise<void>;
}

interface ChunkInFlight {
  readonly chunk: Buffer;
  readonly written: Promise<void>;
}

export class LineSink {
  private readonly output: ByteOutput;
  private readonly chunkBytes: number;
  private chunk: Buffer;
  private used = 0;
  private inFlight: ChunkInFlight | undefined;

  constructor(sink: WriteSink, options: LineSinkOptions = {}) {
    const digesting = new DigestingSink(sink);
    this.output = options.gzip ? new GzipOutput(digesting) : plainOutput(digesting);
    this.chunkBytes = options.chunkBytes ?? 256 * 1024;
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Appends one line (the newline is added here), encoded straight into the current chunk. */
  async writeLine(line: string): Promise<void> {
    const worstCase = line.length * 3 + 1;
    if (this.used + worstCase > this.chunk.length) {
      await this.flush();
      if (worstCase > this.chunk.length) this.chunk = Buffer.allocUnsafe(worstCase);
    }
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = 0x0a;
    if (this.used >= this.chunkBytes) await this.flush();
  }

  async close(): Promise<Digest> {
    await this.flush();
    await this.inFlight?.written;
    return this.output.finish();
  }

  /** Aborts the output first: a write in flight may be waiting on an upload that abort cancels. */
  async abort(): Promise<void> {
    this.used = 0;
    await this.output.abort();
    await this.inFlight?.written.catch(() => undefined);
  }

  /**
   * Starts writing the filled chunk and goes on with the other one, once its own write is done
   * (writes stay in order, one at a time). A chunk grown for an oversized line is not kept.
   */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const previous = this.inFlight;
    this.inFlight = undefined;
    await previous?.written;
    const filled = this.chunk;
    const written = this.output.write(filled.subarray(0, this.used));
    written.catch(() => undefined); // surfaced by the next flush or close
    this.inFlight = { chunk: filled, written };
    const reusable = previous && previous.chunk.length === this.chunkBytes ? previous.chunk : undefined;
    this.chunk = reusable ?? Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
  }
}

function plainOutput(sink: DigestingSink): ByteOutput {
  return { write: (chunk) => sink.write(chunk), finish: () => sink.close(), abort: () => sink.abort() };
}

/**
 * Text in, gzip out, with backpressure both ways: a pump forwards compressed chunks to storage one at
 * a time, so a slow upload stops the pump, fills gzip's buffers and holds back the callback that
 * `write` waits for.
 */
class GzipOutput implements ByteOutput {
  // Level 3 (zlib's fast strategy): measured on 56 MB of raw referrals, half level 6's CPU for a
  // file 21% larger (9.5 MB against 7.8 MB); the sync is CPU-bound and the archive is rarely read.
  private readonly gzip: Gzip = createGzip({ level: 3 });
  private readonly pumped: Promise<void>;
  private aborted = false;
  /**
   * Writes gzip has not consumed yet, settled by the pump's end if it comes first. One set rather
   * than a race against the pump per write: each race left a reaction on the pump's promise until
   * the file ended, thousands in a long run.
   */
  private readonly unconsumed = new Set<(reason: unknown) => void>();
  /** Why no write can complete any more, once the pump has ended. */
  private pumpEnd: unknown;

  constructor(private readonly sink: DigestingSink) {
    this.pumped = this.pump();
    // A pump that ends before the writer finished fails the writes still waiting (its error is
    // also surfaced by finish).
    this.pumped.then(
      () => this.endWrites(new Error('the gzip stream ended early')),
      (error: unknown) => this.endWrites(error ?? new Error('the gzip stream failed')),
    );
  }

  /** Resolves when gzip has compressed the chunk (it reads the caller's memory until then). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.pumpEnd !== undefined) throw this.pumpEnd;
    await new Promise<void>((resolve, reject) => {
      this.unconsumed.add(reject);
      this.gzip.write(chunk, (error) => {
        this.unconsumed.delete(reject);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  async finish(): Promise<Digest> {
    this.gzip.end();
    await this.pumped;
    return this.sink.close();
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.gzip.destroy();
    // The sink first: the pump may be waiting on an upload that only the sink's abort cancels.
    await this.sink.abort();
    await this.pumped.catch(() => undefined);
  }

  private endWrites(reason: unknown): void {
    this.pumpEnd = reason;
    for (const reject of this.unconsumed) reject(reason);
    this.unconsumed.clear();
  }

  private async pump(): Promise<void> {
    try {
      for await (const chunk of this.gzip) await this.sink.write(chunk as Buffer);
    } catch (error) {
      if (!this.aborted) throw error;
    }
  }
}

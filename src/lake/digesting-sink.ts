/**
 * Wraps a storage sink to count and hash what goes through it, so every writer reports the same
 * `bytes` and `sha256` for exactly the stored bytes.
 */
import { createHash } from 'node:crypto';
import type { WriteSink } from './storage.js';

export interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

export class DigestingSink {
  private readonly hash = createHash('sha256');
  private count = 0;

  constructor(private readonly sink: WriteSink) {}

  /** Bytes accepted so far: the offset the next chunk starts at. */
  get offset(): number {
    return this.count;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    this.count += chunk.length;
    await this.sink.write(chunk);
  }

  async close(): Promise<Digest> {
    await this.sink.close();
    return { bytes: this.count, sha256: this.hash.digest('hex') };
  }

  abort(): Promise<void> {
    return this.sink.abort();
  }
}

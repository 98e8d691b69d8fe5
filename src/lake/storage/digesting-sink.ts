/**
 * Wraps a storage sink to count and hash what goes through it, so every writer reports the same
 * `bytes` and `sha256` for exactly the stored bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import type { WriteSink } from './storage.js';

export interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

export class DigestingSink {
  /** Undefined when the sink hashes the same bytes itself and reports the digest at close. */
  private readonly hash: Hash | undefined;
  private count = 0;

  constructor(private readonly sink: WriteSink) {
    this.hash = sink.computesSha256 ? undefined : createHash('sha256');
  }

  /** Bytes accepted so far: the offset the next chunk starts at. */
  get offset(): number {
    return this.count;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.hash?.update(chunk);
    this.count += chunk.length;
    await this.sink.write(chunk);
  }

  async close(): Promise<Digest> {
    const written = await this.sink.close();
    if (this.hash) return { bytes: this.count, sha256: this.hash.digest('hex') };
    const { sha256 } = written;
    // Trusted only for exactly the bytes that went through here.
    if (sha256 === undefined || written.bytes !== this.count) {
      throw new Error(
        `the storage sink reported ${written.bytes} bytes and ${sha256 ? 'a' : 'no'} SHA-256 for ${this.count} written`,
      );
    }
    return { bytes: this.count, sha256 };
  }

  abort(): Promise<void> {
    return this.sink.abort();
  }
}

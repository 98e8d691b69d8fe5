/**
 * The raw archive: untouched API objects, one JSON value a line, gzip-compressed as it streams
 * (`.ndjson.gz`). Whatever the normalizer later makes of a referral, the original stays readable.
 */

import type { WriteSink } from '../storage/storage.js';
import { LineSink } from './line-sink.js';
import type { FileSummary, FileWriter } from './table-writer.js';

export interface RawNdjsonGzipOptions {
  /** Text buffered before it goes through gzip to storage. Default 256 KiB. */
  readonly chunkBytes?: number;
}

export class RawNdjsonGzipWriter implements FileWriter<unknown> {
  private readonly lines: LineSink;
  private rows = 0;

  constructor(sink: WriteSink, options: RawNdjsonGzipOptions = {}) {
    this.lines = new LineSink(sink, { gzip: true, chunkBytes: options.chunkBytes });
  }

  /** One value, one line. A value JSON cannot represent (undefined, a function) is a TypeError. */
  async write(value: unknown): Promise<void> {
    const line = JSON.stringify(value);
    if (line === undefined) throw new TypeError(`raw archive: cannot write ${typeof value} as JSON`);
    this.rows++;
    await this.lines.writeLine(line);
  }

  async close(): Promise<FileSummary> {
    const { bytes, sha256 } = await this.lines.close();
    return { rows: this.rows, bytes, sha256 };
  }

  abort(): Promise<void> {
    return this.lines.abort();
  }
}

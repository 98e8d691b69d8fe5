/**
 * Snappy, the codec of our Parquet pages (except a column it hardly shrinks: column-writer.ts), from the `snappyjs` package. It returns an
 * exactly-sized copy (`slice`), which matters: a page is held until its row group is written.
 */
import SnappyJS from 'snappyjs';

export function snappyCompress(input: Uint8Array): Buffer {
  const compressed = SnappyJS.compress(input);
  return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}

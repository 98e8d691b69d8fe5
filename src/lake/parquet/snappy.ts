/**
 * Snappy from the `snappyjs` package: the codec of our Parquet pages, except in a column it hardly
 * shrinks (column-writer.ts). It returns an exactly-sized copy (`slice`), which matters: a page is
 * held until its row group is written.
 */
import SnappyJS from 'snappyjs';

export function snappyCompress(input: Uint8Array): Buffer {
  const compressed = SnappyJS.compress(input);
  return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
}

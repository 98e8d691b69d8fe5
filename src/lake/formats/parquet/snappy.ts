/**
 * Snappy from the `snappyjs` package: the codec of our Parquet pages, except in a column it hardly
 * shrinks (column-writer.ts). Its compressor writes into one scratch buffer sized for the largest
 * page and the result is copied out at its exact size: `SnappyJS.compress` allocates the worst-case
 * size for every page and then copies it anyway, twice the garbage for the same bytes. The copy
 * matters: a page is held until its row group is written.
 */
import { SnappyCompressor } from 'snappyjs/snappy_compressor.js';
import { ownedCopy } from './byte-buffer.js';

let scratch = new Uint8Array(0);

export function snappyCompress(input: Uint8Array): Buffer {
  const compressor = new SnappyCompressor(input);
  const worstCase = compressor.maxCompressedLength();
  if (scratch.length < worstCase) scratch = new Uint8Array(worstCase);
  const length = compressor.compressToBuffer(scratch);
  return ownedCopy(scratch.subarray(0, length));
}

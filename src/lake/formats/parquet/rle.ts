/**
 * Parquet's RLE / bit-packed hybrid, for definition levels (bit width 1) and dictionary indices.
 * Runs of 8 or more equal values become RLE runs (one header and one value: an all-present page of
 * levels is a few bytes); everything else is bit-packed in groups of 8, LSB first. Only the final
 * group may be padded past the end; readers stop at the page's value count.
 */
import type { ByteBuffer } from './byte-buffer.js';

/** Encodes `values[start..end)` (each below 2^bitWidth) onto `out`. */
export function writeRleHybrid(
  out: ByteBuffer,
  values: ArrayLike<number>,
  start: number,
  end: number,
  bitWidth: number,
): void {
  let i = start;
  while (i < end) {
    const run = runLength(values, i, end);
    if (run >= 8) {
      writeRleRun(out, values[i] ?? 0, run, bitWidth);
      i += run;
      continue;
    }
    // Bit-pack groups of 8 until a long run starts at a group boundary (or the end).
    let groups = 0;
    let j = i;
    do {
      groups++;
      j += 8;
    } while (j < end && runLength(values, j, Math.min(end, j + 8)) < 8);
    writeBitPacked(out, values, i, Math.min(j, end), groups, bitWidth);
    i = Math.min(j, end);
  }
}

function runLength(values: ArrayLike<number>, start: number, end: number): number {
  const first = values[start];
  let i = start + 1;
  while (i < end && values[i] === first) i++;
  return i - start;
}

function writeRleRun(out: ByteBuffer, value: number, count: number, bitWidth: number): void {
  out.varint(count * 2);
  const byteWidth = Math.ceil(bitWidth / 8);
  for (let b = 0; b < byteWidth; b++) out.byte(Math.floor(value / 2 ** (8 * b)) & 0xff);
}

function writeBitPacked(
  out: ByteBuffer,
  values: ArrayLike<number>,
  start: number,
  end: number,
  groups: number,
  bitWidth: number,
): void {
  out.varint(groups * 2 + 1);
  if (bitWidth === 1) {
    writeBitPackedBits(out, values, start, end, groups);
    return;
  }
  const total = groups * 8;
  let buffer = 0; // pending bits, at most 7 + bitWidth (bitWidth <= 24 here)
  let bits = 0;
  for (let k = 0; k < total; k++) {
    const value = start + k < end ? (values[start + k] ?? 0) : 0;
    buffer += value * 2 ** bits;
    bits += bitWidth;
    while (bits >= 8) {
      out.byte(buffer & 0xff);
      buffer = Math.floor(buffer / 256);
      bits -= 8;
    }
  }
}

/** Bit width 1 (definition levels of flat columns): one byte per group of 8. */
function writeBitPackedBits(
  out: ByteBuffer,
  values: ArrayLike<number>,
  start: number,
  end: number,
  groups: number,
): void {
  for (let g = 0; g < groups; g++) {
    let byte = 0;
    const base = start + g * 8;
    for (let b = 0; b < 8 && base + b < end; b++) byte |= ((values[base + b] ?? 0) & 1) << b;
    out.byte(byte);
  }
}

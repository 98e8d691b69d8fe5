/**
 * A growable little-endian byte buffer: the encoders append to one of these instead of building
 * arrays of JS values, so a row group in memory is about its encoded size.
 */
const TWO_POW_32 = 4_294_967_296;
/**
 * Buffer.write costs ~0.3 µs a call whatever the length; most values (ids, codes, names) are short
 * ASCII, which a plain loop copies several times faster. Longer or non-ASCII text goes to Buffer.write.
 */
const SHORT_STRING = 64;

/** Copies an all-ASCII string byte for byte; -1 (and nothing promised about the bytes) when it is not. */
function writeAscii(target: Buffer, value: string, offset: number): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return -1;
    target[offset + i] = code;
  }
  return value.length;
}

/**
 * A copy in an ArrayBuffer of its own. `Buffer.from(small)` slices Node's shared 8 KiB pool, and one
 * slice kept alive keeps its whole slab alive: the min/max statistics of every row group live until
 * the footer is written, and as pool slices they held ~8 KiB each instead of a few bytes.
 */
export function ownedCopy(view: Uint8Array): Buffer {
  const copy = new Uint8Array(view);
  return Buffer.from(copy.buffer, 0, copy.byteLength);
}

export class ByteBuffer {
  private data: Buffer;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.data = Buffer.allocUnsafe(initialCapacity);
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(start = 0, end = this.length): Buffer {
    return this.data.subarray(start, end);
  }

  byteAt(offset: number): number {
    return this.data[offset] ?? 0;
  }

  /** Compares bytes [start, end) with `other` as unsigned bytes: <0, 0 or >0 like Buffer.compare. */
  compareTo(start: number, end: number, other: Buffer): number {
    return this.data.compare(other, 0, other.length, start, end);
  }

  reset(): void {
    this.length = 0;
  }

  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.data.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.data.length * 2));
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.data[this.length++] = value;
  }

  bytes(value: Uint8Array): void {
    this.ensure(value.length);
    this.data.set(value, this.length);
    this.length += value.length;
  }

  int32(value: number): void {
    this.ensure(4);
    this.data.writeInt32LE(value, this.length);
    this.length += 4;
  }

  uint32At(offset: number, value: number): void {
    this.data.writeUInt32LE(value, offset);
  }

  /** A safe integer as INT64 without BigInt: high and low 32-bit words (two's complement via floor). */
  int64(value: number): void {
    this.ensure(8);
    const high = Math.floor(value / TWO_POW_32);
    this.data.writeUInt32LE(value - high * TWO_POW_32, this.length);
    this.data.writeInt32LE(high, this.length + 4);
    this.length += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.data.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  /** PLAIN BYTE_ARRAY: 4-byte length, then the UTF-8 bytes. Returns the UTF-8 byte length. */
  lengthPrefixedUtf8(value: string): number {
    this.ensure(4 + value.length * 3);
    const start = this.length + 4;
    const written = value.length <= SHORT_STRING ? writeAscii(this.data, value, start) : -1;
    const length = written >= 0 ? written : this.data.write(value, start, 'utf8');
    this.data.writeUInt32LE(length, this.length);
    this.length = start + length;
    return length;
  }

  /** Unsigned LEB128 (Thrift compact and RLE headers); values here are below 2^53. */
  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.byte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.byte(rest);
  }
}

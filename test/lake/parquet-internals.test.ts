/**
 * The Parquet writer's building blocks, checked against independent decoders written here from the
 * format descriptions (snappy, the RLE/bit-packed hybrid, Thrift compact). DuckDB reading whole
 * files (table-writers.test.ts) is the end-to-end check; these pin the edge cases.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { epochDays, microsToIso } from '../../src/common/time.js';
import { wellFormed } from '../../src/lake/formats/cells.js';
import { ByteBuffer } from '../../src/lake/formats/parquet/byte-buffer.js';
import type { PageValues } from '../../src/lake/formats/parquet/column-writer.js';
import { writeRleHybrid } from '../../src/lake/formats/parquet/rle.js';
import { snappyCompress } from '../../src/lake/formats/parquet/snappy.js';
import { StringEncoder } from '../../src/lake/formats/parquet/string-column.js';
import { i32, list, serialize, struct, text } from '../../src/lake/formats/parquet/thrift.js';

describe('snappy', () => {
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['short', Buffer.from('abcabcabcabc')],
    ['random (incompressible)', randomBytes(200_000)],
    ['zeros (long copies)', new Uint8Array(300_000)],
    ['text', Buffer.from('Contoso Fabrikam Northwind München 東京 '.repeat(20_000))],
    ['exactly one block', randomBytes(65_536)],
    ['block + 1', Buffer.concat([Buffer.alloc(65_536, 1), Buffer.from([2])])],
    [
      'mixed',
      Buffer.concat([randomBytes(70_000), Buffer.alloc(70_000, 9), randomBytes(1_000), Buffer.from('x'.repeat(5000))]),
    ],
  ];

  it.each(cases)('round-trips %s', (_, input) => {
    const compressed = snappyCompress(input);
    expect(compressed.length).toBeLessThanOrEqual(32 + input.length + Math.floor(input.length / 6));
    expect(Buffer.from(snappyDecompress(compressed)).equals(Buffer.from(input))).toBe(true);
  });

  it('compresses repetitive data', () => {
    expect(snappyCompress(new Uint8Array(300_000)).length).toBeLessThan(20_000);
  });
});

describe('RLE / bit-packed hybrid', () => {
  const cases: [string, number[], number][] = [
    ['all ones', Array(1000).fill(1), 1],
    ['alternating', Array.from({ length: 1001 }, (_, i) => i % 2), 1],
    ['runs and noise', [...Array(20).fill(1), 0, 1, 0, 0, 1, ...Array(9).fill(0), 1, 1, 0], 1],
    ['short', [1, 0, 1], 1],
    ['dictionary indices', Array.from({ length: 777 }, (_, i) => (i * 7919) % 300), 9],
    ['wide indices with runs', [...Array(50).fill(70_000), ...Array.from({ length: 30 }, (_, i) => i * 2000)], 17],
  ];

  it.each(cases)('decodes back: %s', (_, values, bitWidth) => {
    const out = new ByteBuffer();
    writeRleHybrid(out, values, 0, values.length, bitWidth);
    expect(decodeRleHybrid(out.view(), bitWidth, values.length)).toEqual(values);
  });

  it('encodes a sub-range only', () => {
    const values = [5, 5, 1, 2, 3, 3, 3];
    const out = new ByteBuffer();
    writeRleHybrid(out, values, 2, 6, 3);
    expect(decodeRleHybrid(out.view(), 3, 4)).toEqual([1, 2, 3, 3]);
  });

  it('keeps an all-present page of levels tiny', () => {
    const out = new ByteBuffer();
    writeRleHybrid(out, new Uint8Array(20_000).fill(1), 0, 20_000, 1);
    expect(out.length).toBeLessThanOrEqual(4);
  });
});

describe('string encoder paths', () => {
  const plainValues = (page: PageValues | undefined) => {
    const bytes = Buffer.from(page?.bytes ?? new Uint8Array());
    const values: string[] = [];
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      values.push(bytes.subarray(at + 4, at + 4 + length).toString('utf8'));
      at += 4 + length;
    }
    return values;
  };
  const copy = (pages: readonly PageValues[]) =>
    pages.map((p) => ({ encoding: p.encoding, bytes: Buffer.from(p.bytes) }));

  it('holds dictionary pages until the row group ends, then hands over dictionary + indices', () => {
    const encoder = new StringEncoder();
    for (let i = 0; i < 100; i++) encoder.append(i % 2 ? 'b' : 'a');
    expect(encoder.endPage()).toEqual([]);
    for (let i = 0; i < 50; i++) encoder.append('c');
    expect(encoder.endPage()).toEqual([]);
    const finished = encoder.finish();
    expect(finished.dictionary?.entries).toBe(3);
    expect(plainValues({ encoding: 'PLAIN', bytes: finished.dictionary?.bytes ?? new Uint8Array() })).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(finished.pages.map((p) => p.encoding)).toEqual(['PLAIN_DICTIONARY', 'PLAIN_DICTIONARY']);
    // bit width 2, then the indices: 100 alternating 0/1 are bit-packed, 50 × 2 is one RLE run.
    expect(finished.pages[0]?.bytes[0]).toBe(2);
    expect(decodeRleHybrid((finished.pages[1]?.bytes ?? new Uint8Array()).subarray(1), 2, 50)).toEqual(
      Array(50).fill(2),
    );
    expect([Buffer.from(finished.min ?? []).toString(), Buffer.from(finished.max ?? []).toString()]).toEqual([
      'a',
      'c',
    ]);
  });

  it('rewrites held pages PLAIN when the dictionary outgrows 1 MiB, keeping page order', () => {
    const encoder = new StringEncoder();
    const first = ['x', 'y', 'x'];
    for (const v of first) encoder.append(v);
    expect(encoder.endPage()).toEqual([]);
    const big = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(300_000));
    for (const v of big) encoder.append(v);
    const pages = copy(encoder.endPage());
    expect(pages.map((p) => p.encoding)).toEqual(['PLAIN', 'PLAIN']);
    expect(plainValues(pages[0])).toEqual(first);
    expect(plainValues(pages[1])).toEqual(big);
    encoder.append('after');
    expect(plainValues(copy(encoder.endPage())[0])).toEqual(['after']);
    const finished = encoder.finish();
    expect(finished.dictionary).toBeUndefined();
    expect(finished.pages).toEqual([]);
    expect(finished.min).toBeUndefined(); // a value longer than 512 bytes: no bounds
  });

  it('stops building the dictionary for a mostly distinct column after sampling', () => {
    const encoder = new StringEncoder();
    for (let i = 0; i < 2048; i++) encoder.append(`id-${i}`);
    encoder.append('id-again');
    const pages = copy(encoder.endPage());
    expect(pages).toHaveLength(1);
    expect(plainValues(pages[0])).toHaveLength(2049);
    expect(plainValues(pages[0])[2047]).toBe('id-2047');
  });

  it('writes held pages PLAIN at the end when the dictionary would not pay', () => {
    const encoder = new StringEncoder();
    encoder.append('one');
    expect(encoder.endPage()).toEqual([]);
    encoder.append('two');
    expect(encoder.endPage()).toEqual([]);
    const finished = encoder.finish();
    expect(finished.dictionary).toBeUndefined();
    expect(finished.pages.map(plainValues)).toEqual([['one'], ['two']]);
  });
});

describe('byte buffer', () => {
  it('writes INT64 little-endian for the whole safe range without BigInt', () => {
    for (const value of [
      0,
      1,
      -1,
      2 ** 32,
      -(2 ** 32) - 1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1_604_091_780_123_456,
    ]) {
      const out = new ByteBuffer(1);
      out.int64(value);
      expect(out.view().readBigInt64LE(0)).toBe(BigInt(value));
    }
  });

  it('writes length-prefixed UTF-8, ASCII fast path or not', () => {
    for (const value of ['', 'abc', 'é', '👩‍💻', 'x'.repeat(64), `${'x'.repeat(63)}é`, 'a\ud800b']) {
      const out = new ByteBuffer(1);
      const length = out.lengthPrefixedUtf8(value);
      const expected = Buffer.from(value, 'utf8');
      expect(length).toBe(expected.length);
      expect(out.view().readUInt32LE(0)).toBe(expected.length);
      expect(out.view(4).equals(expected)).toBe(true);
    }
  });
});

describe('thrift compact', () => {
  it('encodes field deltas, long jumps, lists and nested structs', () => {
    const bytes = serialize(struct([1, i32(-1)], [4, text('ab')], [20, list('i32', [i32(1), i32(2)])], [21, struct()]));
    // 0x15 = delta 1, i32; zigzag(-1) = 1; 0x38 = delta 3, binary; 0x09 = long form list, id zigzag(20)=40;
    // 0x25 = 2 elements of i32; 0x1c = delta 1, struct; 0x00 stops.
    expect([...bytes]).toEqual([0x15, 0x01, 0x38, 0x02, 0x61, 0x62, 0x09, 40, 0x25, 0x02, 0x04, 0x1c, 0x00, 0x00]);
  });
});

describe('cells', () => {
  it('counts days like the calendar does, from year 1 to 9999', () => {
    for (const date of [
      '0001-01-01',
      '0099-12-31',
      '1582-10-15',
      '1900-02-28',
      '1969-12-31',
      '1970-01-01',
      '2000-02-29',
      '2024-02-29',
      '9999-12-31',
    ]) {
      const at = new Date(0);
      at.setUTCFullYear(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
      expect(epochDays(date), date).toBe(Math.round(at.getTime() / 86_400_000));
    }
    for (const bad of [
      '2023-02-29',
      '1900-02-29',
      '2026-13-01',
      '2026-00-10',
      '2026-04-31',
      '0000-01-01',
      '2026-1-01',
      '20260101',
      '2026-01-01T00:00:00Z',
      '2026-01-0x',
    ]) {
      expect(epochDays(bad), bad).toBeUndefined();
    }
  });

  it('prints microseconds as ISO-8601 UTC, before 1970 too', () => {
    expect(microsToIso(1_604_091_780_123_456)).toBe('2020-10-30T21:03:00.123456Z');
    expect(microsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(-1)).toBe('1969-12-31T23:59:59.999999Z');
    expect(microsToIso(-1_000_001)).toBe('1969-12-31T23:59:58.999999Z');
    expect(microsToIso(Number.MAX_SAFE_INTEGER)).toBe('2255-06-05T23:47:34.740991Z');
    expect(microsToIso(Number.MIN_SAFE_INTEGER)).toBe('1684-07-28T00:12:25.259009Z');
  });

  it('agrees with Date.toISOString on every day of a leap-year-crossing span', () => {
    for (let day = -800; day < 800; day++) {
      const micros = day * 86_400_000_000 + 45_296_789_012; // 12:34:56.789012 each day
      const viaDate = `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 23)}012Z`;
      expect(microsToIso(micros)).toBe(viaDate);
    }
    for (let year = 1700; year <= 2250; year += 7) {
      const micros = Date.UTC(year, 1, 28, 23, 59, 59) * 1000 + 1_999_999;
      expect(microsToIso(micros)).toBe(`${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 23)}999Z`);
    }
  });

  it('replaces lone surrogates only', () => {
    expect(wellFormed('a\ud800b')).toBe('a\uFFFDb');
    expect(wellFormed('👩‍💻')).toBe('👩‍💻');
  });
});

/** Snappy decoder from the format description (literals and 1/2/4-byte-offset copies). */
function snappyDecompress(input: Uint8Array): Uint8Array {
  let ip = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = input[ip++] ?? 0;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  const out = new Uint8Array(length);
  let op = 0;
  while (ip < input.length) {
    const tag = input[ip++] ?? 0;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let b = 0; b < bytes; b++) n += (input[ip++] ?? 0) * 256 ** b;
      }
      out.set(input.subarray(ip, ip + n + 1), op);
      ip += n + 1;
      op += n + 1;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | (input[ip++] ?? 0);
    } else if (kind === 2) {
      len = (tag >>> 2) + 1;
      offset = (input[ip] ?? 0) | ((input[ip + 1] ?? 0) << 8);
      ip += 2;
    } else {
      len = (tag >>> 2) + 1;
      offset = new DataView(input.buffer, input.byteOffset + ip, 4).getUint32(0, true);
      ip += 4;
    }
    if (offset === 0 || offset > op) throw new Error(`bad copy offset ${offset} at ${op}`);
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset] ?? 0;
  }
  if (op !== length) throw new Error(`decoded ${op} bytes, expected ${length}`);
  return out;
}

/** RLE/bit-packed hybrid decoder from the Parquet encoding spec. */
function decodeRleHybrid(bytes: Uint8Array, bitWidth: number, count: number): number[] {
  const values: number[] = [];
  let ip = 0;
  while (values.length < count) {
    let header = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[ip++] ?? 0;
      header += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    if (header % 2 === 0) {
      const run = header / 2;
      let value = 0;
      for (let b = 0; b < Math.ceil(bitWidth / 8); b++) value += (bytes[ip++] ?? 0) * 256 ** b;
      for (let i = 0; i < run; i++) values.push(value);
    } else {
      const total = ((header - 1) / 2) * 8;
      let bitPos = 0;
      const start = ip;
      for (let i = 0; i < total; i++) {
        let value = 0;
        for (let b = 0; b < bitWidth; b++, bitPos++) {
          const bit = ((bytes[start + (bitPos >>> 3)] ?? 0) >>> (bitPos & 7)) & 1;
          value += bit * 2 ** b;
        }
        if (values.length < count) values.push(value);
      }
      ip = start + Math.ceil((total * bitWidth) / 8);
    }
  }
  return values;
}

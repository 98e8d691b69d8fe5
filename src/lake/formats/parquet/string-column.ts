/**
 * UTF-8 string values, dictionary-encoded while that pays. Referral tables repeat a lot (status,
 * country, currency, product names): a dictionary page plus small indices is smaller, and faster to
 * compress, than the strings again and again. Distinct values collect in a PLAIN-encoded
 * dictionary and pages hold indices until the row group ends (their bit width depends on the final
 * dictionary size). A column that turns out mostly distinct (ids, emails, free text), or whose
 * dictionary passes 1 MiB, falls back: the held pages are rewritten PLAIN and the rest of the row
 * group is PLAIN. At the end the dictionary is kept only if it is smaller than PLAIN would be.
 *
 * Statistics compare UTF-8 bytes (the order readers use, not JS's UTF-16 order) and are left out
 * for a chunk holding a value longer than 512 bytes rather than written truncated.
 */
import { ByteBuffer, ownedCopy } from './byte-buffer.js';
import type { FinishedValues, PageValues, ValueEncoder } from './column-writer.js';
import { writeRleHybrid } from './rle.js';
import { Int32List } from './typed-list.js';

const DICTIONARY_LIMIT = 1024 * 1024;
/**
 * After this many values a column that is mostly distinct stops building the dictionary: inserting
 * unique strings in a Map is the writer's most expensive step, and the dictionary would not pay.
 * Repetitive columns are well below the ratio by then.
 */
const SAMPLE_VALUES = 2_048;
const DISTINCT_RATIO_LIMIT = 0.75;
const STATISTICS_LIMIT = 512;

export class StringEncoder implements ValueEncoder {
  /** Value → index while dictionary-encoding this row group; undefined once PLAIN. */
  private dictionary: Map<string, number> | undefined = new Map();
  /** The distinct values, PLAIN-encoded (length + bytes), in index order. */
  private entries = new ByteBuffer(16 * 1024);
  private entryStarts: number[] = [];
  /** Indices of every value since the row group started (dictionary mode). */
  private indices = new Int32List();
  /** Index count at the end of each held page. */
  private heldPageEnds: number[] = [];
  /** What the values would take PLAIN: the yardstick for keeping the dictionary. */
  private plainSize = 0;
  /** The current page's values, PLAIN mode. */
  private readonly page = new ByteBuffer(64 * 1024);
  /** Held pages rewritten PLAIN by a fallback, handed over at the next page end. */
  private rewritten: PageValues[] = [];
  private min: Buffer | undefined;
  private max: Buffer | undefined;
  private tooLongForStatistics = false;

  append(cell: string | number | boolean): number {
    const value = cell as string;
    const dictionary = this.dictionary;
    if (!dictionary) return this.appendPlain(value);
    let index = dictionary.get(value);
    const isNew = index === undefined;
    if (index === undefined) index = this.addEntry(dictionary, value);
    this.indices.push(index);
    const size = this.entrySize(index);
    this.plainSize += size;
    if ((isNew && this.entries.length > DICTIONARY_LIMIT) || this.mostlyDistinct(dictionary)) this.fallBackToPlain();
    return size;
  }

  get bufferedBytes(): number {
    if (this.dictionary) return this.entries.length + this.indices.length * 4;
    return this.page.length + this.rewritten.reduce((sum, p) => sum + p.bytes.length, 0);
  }

  endPage(): readonly PageValues[] {
    if (this.dictionary) {
      this.heldPageEnds.push(this.indices.length);
      return [];
    }
    const ready = [...this.rewritten, { encoding: 'PLAIN', bytes: this.page.view() } as const];
    this.rewritten = [];
    this.page.reset(); // the view stays valid until the next append
    return ready;
  }

  finish(): FinishedValues {
    const { min, max } = this;
    const bounds = this.tooLongForStatistics || !min || !max ? {} : { min: ownedCopy(min), max: ownedCopy(max) };
    let finished: FinishedValues;
    const dictionary = this.dictionary;
    if (dictionary && this.dictionaryPays(dictionary)) {
      const bitWidth = bitWidthFor(dictionary.size);
      finished = {
        dictionary: { entries: dictionary.size, bytes: Buffer.from(this.entries.view()) },
        pages: this.heldPages().map(([start, end]) => this.indexPage(start, end, bitWidth)),
        ...bounds,
      };
    } else {
      finished = {
        pages: this.dictionary ? this.heldPages().map(([start, end]) => this.plainPage(start, end)) : [],
        ...bounds,
      };
    }
    this.reset();
    return finished;
  }

  private appendPlain(value: string): number {
    const start = this.page.length;
    const length = this.page.lengthPrefixedUtf8(value);
    this.observe(this.page, start + 4, length);
    return 4 + length;
  }

  private addEntry(dictionary: Map<string, number>, value: string): number {
    const index = dictionary.size;
    const start = this.entries.length;
    const length = this.entries.lengthPrefixedUtf8(value);
    this.entryStarts.push(start);
    dictionary.set(value, index);
    this.observe(this.entries, start + 4, length);
    return index;
  }

  private entrySize(index: number): number {
    const start = this.entryStarts[index] ?? 0;
    return (this.entryStarts[index + 1] ?? this.entries.length) - start;
  }

  private mostlyDistinct(dictionary: Map<string, number>): boolean {
    return this.indices.length === SAMPLE_VALUES && dictionary.size > SAMPLE_VALUES * DISTINCT_RATIO_LIMIT;
  }

  /** Dictionary page + bit-packed indices against the values PLAIN. */
  private dictionaryPays(dictionary: Map<string, number>): boolean {
    return this.entries.length + (this.indices.length * bitWidthFor(dictionary.size)) / 8 < this.plainSize;
  }

  /** [start, end) index ranges of the held pages. */
  private heldPages(): [number, number][] {
    return this.heldPageEnds.map((end, i) => [this.heldPageEnds[i - 1] ?? 0, end]);
  }

  /** One dictionary-encoded page's values: bit width, then the RLE/bit-packed indices. */
  private indexPage(start: number, end: number, bitWidth: number): PageValues {
    const out = new ByteBuffer(16 + (end - start));
    out.byte(bitWidth);
    writeRleHybrid(out, this.indices.values, start, end, bitWidth);
    return { encoding: 'PLAIN_DICTIONARY', bytes: out.view() };
  }

  /** The values of indices [start, end) PLAIN, in a buffer of their own. */
  private plainPage(start: number, end: number): PageValues {
    const out = new ByteBuffer(64);
    this.copyPlain(out, start, end);
    return { encoding: 'PLAIN', bytes: out.view() };
  }

  private copyPlain(out: ByteBuffer, start: number, end: number): void {
    const entries = this.entries.view();
    const indices = this.indices.values;
    for (let i = start; i < end; i++) {
      const index = indices[i] ?? 0;
      const from = this.entryStarts[index] ?? 0;
      out.bytes(entries.subarray(from, from + this.entrySize(index)));
    }
  }

  /** Rewrites held pages PLAIN (handed over at the next page end) and continues the row group PLAIN. */
  private fallBackToPlain(): void {
    this.rewritten = this.heldPages().map(([start, end]) => this.plainPage(start, end));
    this.page.reset();
    this.copyPlain(this.page, this.heldPageEnds.at(-1) ?? 0, this.indices.length);
    this.dictionary = undefined;
    this.entries = new ByteBuffer(16);
    this.entryStarts = [];
    this.indices = new Int32List();
    this.heldPageEnds = [];
  }

  private observe(buffer: ByteBuffer, start: number, length: number): void {
    if (this.tooLongForStatistics) return;
    if (length > STATISTICS_LIMIT) {
      this.tooLongForStatistics = true;
      return;
    }
    // The first byte settles most comparisons without a call into Buffer.compare.
    const first = length > 0 ? buffer.byteAt(start) : -1;
    const { min, max } = this;
    if (min === undefined || (first <= (min[0] ?? -1) && buffer.compareTo(start, start + length, min) < 0)) {
      this.min = Buffer.from(buffer.view(start, start + length));
    }
    if (max === undefined || (first >= (max[0] ?? -1) && buffer.compareTo(start, start + length, max) > 0)) {
      this.max = Buffer.from(buffer.view(start, start + length));
    }
  }

  private reset(): void {
    this.dictionary = new Map();
    this.entries = new ByteBuffer(16 * 1024);
    this.entryStarts = [];
    this.indices = new Int32List();
    this.heldPageEnds = [];
    this.plainSize = 0;
    this.page.reset();
    this.rewritten = [];
    this.min = undefined;
    this.max = undefined;
    this.tooLongForStatistics = false;
  }
}

/** Bits per dictionary index; at least 1, since some readers mishandle width 0. */
function bitWidthFor(entries: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(entries, 1))));
}

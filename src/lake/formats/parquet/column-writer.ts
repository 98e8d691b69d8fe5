/**
 * One column of the current row group. Cells arrive a row at a time; values are cut into pages of
 * about 256 KiB or 20,000 rows, and a page is compressed as soon as it is complete, so what a row
 * group holds in memory is mostly compressed pages. Dictionary-encoded pages are the exception:
 * their index bit width is known only when the row group ends, so they wait (as 4-byte indices).
 *
 * Data Page V1: [4-byte length + RLE/bit-packed definition levels, if nullable][values], the whole
 * body SNAPPY-compressed. V1 rather than V2 because every reader reads V1 (V2 support in Synapse
 * serverless and Power BI is not confirmed). The codec is a column chunk's: a column whose last
 * chunk shrank by less than a fifth (random ids, timestamps, bit-packed indices) stores the next
 * ones UNCOMPRESSED, trying Snappy again after four such row groups. Those pages took ~40% of the
 * Snappy time for ~25% of the bytes, and saved little.
 *
 * Values are held by a ValueEncoder per type (fixed-columns.ts, string-column.ts). One ColumnWriter
 * class serves every type so the per-cell path stays monomorphic for V8: a subclass per type
 * measured several times slower.
 */
import type { Cell, ColumnSpec } from '../../../schema/table.js';
import { ByteBuffer, ownedCopy } from './byte-buffer.js';
import { type Codec, dataPageHeader, dictionaryPageHeader, type Encoding } from './metadata.js';
import { writeRleHybrid } from './rle.js';
import { snappyCompress } from './snappy.js';
import { Uint8List } from './typed-list.js';

// 256 KiB, not the usual 1 MiB: a run fills ~150 columns at once, and Snappy works in 64 KiB blocks anyway.
const PAGE_BYTES = 256 * 1024;
const PAGE_ROWS = 20_000;
/** Compressed over uncompressed above which a column's next chunks skip Snappy. */
const POOR_RATIO = 0.8;
/** UNCOMPRESSED row groups before Snappy is tried again on a column that compressed poorly. */
const PLAIN_CHUNKS_BEFORE_RETRY = 4;
/**
 * One page body is assembled at a time (synchronously, then compressed out of it), so every column
 * of every writer shares this scratch instead of each keeping a page-sized buffer alive.
 */
const pageBody = new ByteBuffer(PAGE_BYTES + 64 * 1024);

/** A page's encoded values (without levels). `bytes` is valid until the encoder's next append. */
export interface PageValues {
  readonly encoding: Encoding;
  readonly bytes: Uint8Array;
}

/** What an encoder hands over when the row group ends. */
export interface FinishedValues {
  /** PLAIN-encoded dictionary entries, when the held pages are dictionary indices. */
  readonly dictionary?: { readonly entries: number; readonly bytes: Uint8Array };
  /** The pages still held, in order. */
  readonly pages: readonly PageValues[];
  /** PLAIN-encoded bounds for the statistics; absent when unknown. */
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

/** The type-specific half of a column: how non-null values are held, paged and bounded. */
export interface ValueEncoder {
  /** Adds a non-null value (already checked); returns its PLAIN size, which sizes the pages. */
  append(cell: string | number | boolean): number;
  readonly bufferedBytes: number;
  /**
   * The current page is complete. Returns the values of the oldest held pages that can be written
   * now, in order (usually just this one; none while dictionary-encoding; several after falling
   * back from a dictionary).
   */
  endPage(): readonly PageValues[];
  /** The row group is complete: the held pages (and their dictionary). Then forget everything. */
  finish(): FinishedValues;
}

export interface EncodedChunk {
  /** Page headers and compressed bodies, in file order (a dictionary page first, if any). */
  readonly buffers: readonly Buffer[];
  /** Bytes of the dictionary page (header + body) at the start; 0 when there is none. */
  readonly dictionaryPageBytes: number;
  readonly encodings: readonly Encoding[];
  readonly numValues: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  readonly codec: Codec;
  readonly nullCount: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

interface PageRows {
  readonly rowStart: number;
  readonly rowEnd: number;
}

export class ColumnWriter {
  private readonly definitions: Uint8List | undefined;
  /** Pages cut but not yet written, oldest first (dictionary pages wait here). */
  private readonly waiting: PageRows[] = [];
  private buffers: Buffer[] = [];
  private encodings = new Set<Encoding>();
  private uncompressedSize = 0;
  private compressedSize = 0;
  private rows = 0;
  private nulls = 0;
  private pageRowStart = 0;
  private pageBytes = 0;
  private codec: Codec = 'SNAPPY';
  /** Row groups written UNCOMPRESSED since Snappy last compressed this column poorly. */
  private plainChunks = 0;

  constructor(
    readonly column: ColumnSpec,
    private readonly encoder: ValueEncoder,
  ) {
    this.definitions = column.nullable ? new Uint8List() : undefined;
  }

  /** Appends a cell already checked against the column (cells.ts). */
  append(cell: Cell): void {
    if (cell === null) {
      this.definitions?.push(0);
      this.nulls++;
    } else {
      this.definitions?.push(1);
      this.pageBytes += this.encoder.append(cell);
    }
    this.rows++;
    if (this.pageBytes >= PAGE_BYTES || this.rows - this.pageRowStart >= PAGE_ROWS) this.cutPage();
  }

  /** Memory held for the row group so far, roughly: compressed pages, levels, pending values. */
  get bufferedBytes(): number {
    return this.compressedSize + this.rows + this.encoder.bufferedBytes;
  }

  /** Writes the remaining pages and hands over the chunk; the writer is then ready for the next row group. */
  finish(): EncodedChunk {
    if (this.rows > this.pageRowStart) this.cutPage();
    const finished = this.encoder.finish();
    let dictionaryPageBytes = 0;
    if (finished.dictionary) {
      const { entries, bytes } = finished.dictionary;
      // Dictionary-encoded pages are held from the row group's start, so nothing precedes this page.
      if (this.buffers.length > 0) throw new Error(`${this.column.name}: a dictionary after data pages`);
      dictionaryPageBytes = this.addPage((u, c) => dictionaryPageHeader(entries, u, c), bytes);
    }
    for (const values of finished.pages) this.writePage(values);
    const chunk: EncodedChunk = {
      buffers: this.buffers,
      dictionaryPageBytes,
      encodings: this.definitions ? [...this.encodings, 'RLE'] : [...this.encodings],
      numValues: this.rows,
      uncompressedSize: this.uncompressedSize,
      compressedSize: this.compressedSize,
      codec: this.codec,
      nullCount: this.nulls,
      min: finished.min,
      max: finished.max,
    };
    this.chooseNextCodec();
    this.reset();
    return chunk;
  }

  private chooseNextCodec(): void {
    if (this.codec === 'SNAPPY') {
      const poor = this.compressedSize > POOR_RATIO * this.uncompressedSize;
      this.codec = poor ? 'UNCOMPRESSED' : 'SNAPPY';
      this.plainChunks = 0;
    } else if (++this.plainChunks >= PLAIN_CHUNKS_BEFORE_RETRY) {
      this.codec = 'SNAPPY';
    }
  }

  private cutPage(): void {
    this.waiting.push({ rowStart: this.pageRowStart, rowEnd: this.rows });
    for (const values of this.encoder.endPage()) this.writePage(values);
    this.pageRowStart = this.rows;
    this.pageBytes = 0;
  }

  /** Levels + values of the oldest waiting page, compressed, with its header. */
  private writePage(values: PageValues): void {
    const page = this.waiting.shift();
    if (!page) throw new Error(`${this.column.name}: an encoder returned more pages than were cut`);
    const body = pageBody;
    body.reset();
    if (this.definitions) {
      body.int32(0); // the levels' byte length, filled in below
      writeRleHybrid(body, this.definitions.values, page.rowStart, page.rowEnd, 1);
      body.uint32At(0, body.length - 4);
    }
    body.bytes(values.bytes);
    const numValues = page.rowEnd - page.rowStart;
    this.encodings.add(values.encoding);
    this.addPage((u, c) => dataPageHeader(numValues, values.encoding, u, c), body.view());
  }

  private addPage(header: (uncompressed: number, compressed: number) => Buffer, body: Uint8Array): number {
    // A copy either way: `body` may be the shared scratch page.
    const compressed = this.codec === 'SNAPPY' ? snappyCompress(body) : ownedCopy(body);
    const head = header(body.length, compressed.length);
    this.buffers.push(head, compressed);
    this.uncompressedSize += head.length + body.length;
    this.compressedSize += head.length + compressed.length;
    return head.length + compressed.length;
  }

  private reset(): void {
    if (this.waiting.length > 0)
      throw new Error(`${this.column.name}: ${this.waiting.length} pages were never written`);
    this.definitions?.reset();
    this.buffers = [];
    this.encodings = new Set();
    this.uncompressedSize = 0;
    this.compressedSize = 0;
    this.rows = 0;
    this.nulls = 0;
    this.pageRowStart = 0;
    this.pageBytes = 0;
  }
}

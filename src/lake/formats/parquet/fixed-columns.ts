/**
 * Encoders for fixed-width PLAIN values: INT64 (int64 and timestamp micros), DOUBLE, INT32 (date as
 * days since 1970-01-01) and BOOLEAN (bit-packed, LSB first). A page's values are encoded as they
 * arrive and handed over when the page ends; only min/max outlive the page.
 */
import { epochDays } from '../../../common/time.js';
import { ByteBuffer, ownedCopy } from './byte-buffer.js';
import type { FinishedValues, PageValues, ValueEncoder } from './column-writer.js';
import { Uint8List } from './typed-list.js';

type NumberKind = 'int64' | 'double' | 'date';

const WIDTH: Record<NumberKind, number> = { int64: 8, double: 8, date: 4 };

/** INT64, DOUBLE or INT32 values with min/max; one class, so V8 sees one shape. */
export class NumberEncoder implements ValueEncoder {
  private readonly page = new ByteBuffer(64 * 1024);
  private readonly width: number;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(private readonly kind: NumberKind) {
    this.width = WIDTH[kind];
  }

  append(cell: string | number | boolean): number {
    const value = this.kind === 'date' ? (epochDays(cell as string) ?? 0) : (cell as number);
    this.write(this.page, value);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    return this.width;
  }

  get bufferedBytes(): number {
    return this.page.length;
  }

  endPage(): readonly PageValues[] {
    const values = { encoding: 'PLAIN', bytes: this.page.view() } as const;
    this.page.reset(); // the view stays valid until the next append
    return [values];
  }

  finish(): FinishedValues {
    const bounds = this.min <= this.max ? { min: this.bound(this.lowest()), max: this.bound(this.highest()) } : {};
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    return { pages: [], ...bounds };
  }

  /** The spec's rule for zeros: a min of ±0 is written -0 and a max of ±0 is written +0. */
  private lowest(): number {
    return this.kind === 'double' && this.min === 0 ? -0 : this.min;
  }

  private highest(): number {
    return this.kind === 'double' && this.max === 0 ? 0 : this.max;
  }

  private write(out: ByteBuffer, value: number): void {
    if (this.kind === 'int64') out.int64(value);
    else if (this.kind === 'double') out.double(value);
    else out.int32(value);
  }

  private bound(value: number): Uint8Array {
    const out = new ByteBuffer(8);
    this.write(out, value);
    return ownedCopy(out.view());
  }
}

export class BooleanEncoder implements ValueEncoder {
  private values = new Uint8List();
  private readonly packed = new ByteBuffer(4096);
  private seenTrue = false;
  private seenFalse = false;

  append(cell: string | number | boolean): number {
    if (cell === true) {
      this.values.push(1);
      this.seenTrue = true;
    } else {
      this.values.push(0);
      this.seenFalse = true;
    }
    return 1;
  }

  get bufferedBytes(): number {
    return this.values.length;
  }

  /** PLAIN BOOLEAN: the page's values bit-packed, LSB first, no header. */
  endPage(): readonly PageValues[] {
    const values = this.values.values;
    const count = this.values.length;
    this.packed.reset();
    for (let i = 0; i < count; i += 8) {
      let byte = 0;
      for (let b = 0; b < 8 && i + b < count; b++) byte |= (values[i + b] ?? 0) << b;
      this.packed.byte(byte);
    }
    this.values = new Uint8List();
    return [{ encoding: 'PLAIN', bytes: this.packed.view() }];
  }

  finish(): FinishedValues {
    const seen = this.seenTrue || this.seenFalse;
    const bounds = seen
      ? { min: Uint8Array.of(this.seenFalse ? 0 : 1), max: Uint8Array.of(this.seenTrue ? 1 : 0) }
      : {};
    this.seenTrue = false;
    this.seenFalse = false;
    return { pages: [], ...bounds };
  }
}

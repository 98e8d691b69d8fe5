import { describe, expect, it } from 'vitest';
import { createRandom } from '../../sandbox/random.js';
import { canonicalTextMicros, canonicalTimestamp, timestampMicros } from '../../src/common/time.js';
import { CONVERTERS, Rejection } from '../../src/normalize/coerce.js';
import { previewValue, VALUE_PREVIEW_CHARS } from '../../src/normalize/quarantine.js';
import type { ColumnType } from '../../src/schema/table.js';

/** The cell, or `reject:<code>` for a rejection. */
function convert(type: ColumnType, raw: unknown): unknown {
  const cell = CONVERTERS[type](raw);
  return cell instanceof Rejection ? `reject:${cell.reason.split(':')[0]}` : cell;
}

describe('converters', () => {
  it.each<[ColumnType, unknown, unknown]>([
    ['string', 'text', 'text'],
    ['string', '', ''],
    ['string', 5, '5'],
    ['string', 0.1, '0.1'],
    ['string', -0, '0'],
    ['string', 1e21, '1e+21'],
    ['string', true, 'true'],
    ['string', { a: 1 }, 'reject:wrong_type'],
    ['string', ['a'], 'reject:wrong_type'],
    ['string', Number.NaN, 'reject:wrong_type'],
    ['string', 'a\udc00b', 'reject:repaired_text'],
    ['double', 10000, 10000],
    ['double', '10000', 10000],
    ['double', ' +1.5E3 ', 1500],
    ['double', '.5', 0.5],
    ['double', '5.', 5],
    ['double', '10,000.50', 'reject:unparseable_number'],
    ['double', '10 000', 'reject:unparseable_number'],
    ['double', '0x10', 'reject:unparseable_number'],
    ['double', 'Infinity', 'reject:unparseable_number'],
    ['double', 'NaN', 'reject:unparseable_number'],
    ['double', '', 'reject:unparseable_number'],
    ['double', Number.POSITIVE_INFINITY, 'reject:wrong_type'],
    ['double', false, 'reject:wrong_type'],
    ['int64', 3, 3],
    ['int64', '42', 42],
    ['int64', 1.5, 'reject:unparseable_integer'],
    ['int64', 2 ** 53, 'reject:unparseable_integer'],
    ['boolean', true, true],
    ['boolean', ' True ', true],
    ['boolean', 'FALSE', false],
    ['boolean', 'yes', 'reject:unparseable_boolean'],
    ['boolean', 0, 'reject:wrong_type'],
    ['timestamp', '2020-10-30T21:03:00.0000000Z', 1_604_091_780_000_000],
    ['timestamp', '2020-10-30T21:03:00Z', 1_604_091_780_000_000],
    ['timestamp', '2020-10-30T21:03:00.1234567Z', 1_604_091_780_123_456],
    ['timestamp', '2020-10-30T21:03:00.1234567', 1_604_091_780_123_456],
    ['timestamp', '2020-10-30T22:03:00+01:00', 1_604_091_780_000_000],
    ['timestamp', '2020-10-30T21:03:00.Z', 'reject:unparseable_timestamp'],
    ['timestamp', '2020-10-30T21:03:60Z', 'reject:unparseable_timestamp'],
    ['timestamp', '2021-02-29T00:00:00Z', 'reject:unparseable_timestamp'],
    ['timestamp', '2020-00-10T00:00:00Z', 'reject:unparseable_timestamp'],
    ['timestamp', '0099-12-31T23:00:00Z', 'reject:unparseable_timestamp'],
    ['timestamp', '2300-01-01T00:00:00Z', 'reject:unparseable_timestamp'],
    ['timestamp', 1_604_091_780, 'reject:wrong_type'],
    ['date', '2020-02-29', '2020-02-29'],
    ['date', '2021-02-29', 'reject:unparseable_date'],
    ['date', ' 2020-02-29 ', '2020-02-29'],
    // Year 0 has no place in Parquet's date (the writers refuse it): refused here, never at the write.
    ['date', '0000-01-01', 'reject:unparseable_date'],
    ['date', '2020-2-29', 'reject:unparseable_date'],
  ])('%s %j → %j', (type, raw, expected) => {
    expect(convert(type, raw)).toEqual(expected);
  });

  it('gives null for absent and null values of every type, without rejecting', () => {
    for (const type of Object.keys(CONVERTERS) as ColumnType[]) {
      expect(CONVERTERS[type](undefined)).toBeNull();
      expect(CONVERTERS[type](null)).toBeNull();
    }
  });

  it('keeps the repaired text of a lone surrogate as the replacement', () => {
    const cell = CONVERTERS.string('a\ud83d');
    expect(cell).toBeInstanceOf(Rejection);
    expect((cell as Rejection).replacement).toBe('a\ufffd');
  });
});

describe('timestamp fast path', () => {
  it('agrees with canonicalTimestamp on 20,000 random timestamps of every UTC shape', () => {
    const random = createRandom(42);
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ms = random.int(-2_000_000_000, 7_000_000_000) * 1000 + random.int(0, 999);
      const base = new Date(ms).toISOString().slice(0, 19);
      const digits = String(random.int(0, 999_999_999)).padStart(9, '0').slice(0, random.int(0, 9));
      const text = `${base}${digits === '' ? '' : `.${digits}`}Z`;
      const fast = timestampMicros(text);
      const slow = canonicalTextMicros(canonicalTimestamp(text));
      if (fast !== slow && disagreements.length < 10) disagreements.push(`${text}: ${fast} ≠ ${slow}`);
    }
    expect(disagreements).toEqual([]);
  });

  it('falls back to canonicalTimestamp for other shapes and rejects what it rejects', () => {
    for (const text of ['2020-10-30 21:03:00', '2020-10-30T21:03Z', '2020-10-30', '2020-10-30T21:03:00.5-07:30']) {
      expect(timestampMicros(text), text).toBe(canonicalTextMicros(canonicalTimestamp(text)));
      expect(timestampMicros(text), text).toBeTypeOf('number');
    }
    for (const text of ['2020-02-30T00:00:00Z', '2020-10-30T25:00:00Z', 'soon', '2020-10-30T21:03:00.1234567890Z']) {
      expect(timestampMicros(text), text).toBeUndefined();
    }
  });
});

describe('quarantine value preview', () => {
  it('is JSON text, cut with a note beyond the limit', () => {
    expect(previewValue('abc')).toBe('"abc"');
    expect(previewValue({ a: [1] })).toBe('{"a":[1]}');
    expect(previewValue(undefined)).toBeNull();
    const long = previewValue('x'.repeat(5000)) ?? '';
    expect(long.startsWith(`"${'x'.repeat(VALUE_PREVIEW_CHARS - 1)}`)).toBe(true);
    expect(long.endsWith('…[cut; 5000 characters in all]')).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(previewValue(cyclic)).toBeNull();
  });
});

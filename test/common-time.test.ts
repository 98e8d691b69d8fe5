import { describe, expect, it } from 'vitest';
import { canonicalTimestamp, formatTimestamp, timestampToEpochMs } from '../src/common/time.js';

describe('canonicalTimestamp', () => {
  it.each([
    ['2020-10-30T21:03:00.0000000Z', '2020-10-30T21:03:00.0000000Z'],
    ['2019-02-23T02:05:23.2931817Z', '2019-02-23T02:05:23.2931817Z'],
    ['2020-12-01T00:00:00Z', '2020-12-01T00:00:00.0000000Z'],
    ['2020-10-30T21:03:00.5', '2020-10-30T21:03:00.5000000Z'],
    ['2020-10-31T01:03:00+04:00', '2020-10-30T21:03:00.0000000Z'],
    ['2020-10-30T18:33:00-0230', '2020-10-30T21:03:00.0000000Z'],
    ['2020-10-30', '2020-10-30T00:00:00.0000000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.0000000Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(canonicalTimestamp(input)).toBe(expected);
  });

  it.each([
    'yesterday',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T10:61:00Z',
    '',
  ])('refuses %s', (input) => {
    expect(canonicalTimestamp(input)).toBeUndefined();
  });

  it('sorts as the instants do', () => {
    const a = canonicalTimestamp('2020-10-30T21:03:00.1234566Z') ?? '';
    const b = canonicalTimestamp('2020-10-30T21:03:00.1234567Z') ?? '';
    expect(a < b).toBe(true);
  });

  it('formats with seven digits and reads back to the millisecond', () => {
    const text = formatTimestamp(Date.UTC(2020, 9, 30, 21, 3, 0, 123), 4567);
    expect(text).toBe('2020-10-30T21:03:00.1234567Z');
    expect(timestampToEpochMs(text)).toBe(Date.UTC(2020, 9, 30, 21, 3, 0, 123));
  });
});

describe('timestampToEpochMs', () => {
  // The hand-read UTC shapes must agree with the canonical path on every input, valid or not.
  const slow = (text: string) => {
    const canonical = canonicalTimestamp(text);
    return canonical === undefined ? undefined : Date.parse(`${canonical.slice(0, 23)}Z`);
  };

  it.each([
    '2019-02-23T02:05:23.2931817Z',
    '2020-12-01T00:00:00Z',
    '2020-12-01T00:00:00.1Z',
    '2020-12-01T00:00:00.12345Z',
    '1969-12-31T23:59:59.9999999Z',
    '9999-12-31T23:59:59.9999999Z',
    '0050-01-01T00:00:00Z',
    '2024-02-29T12:00:00Z',
    '2026-02-29T12:00:00Z',
    '2026-02-30T00:00:00.0000000Z',
    '2026-04-31T00:00:00Z',
    '2026-01-01T24:00:00.0000000Z',
    '2026-01-01T00:00:60Z',
    '2026-01-01T00:00:00.Z',
    '2026-13-01T00:00:00Z',
  ])('reads %s as the canonical path does', (text) => {
    expect(timestampToEpochMs(text)).toBe(slow(text));
  });

  it('agrees with the canonical path over random instants and fractions', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor((Math.random() - 0.5) * 2 * 8e12);
      const digits = Math.floor(Math.random() * 8);
      const iso = new Date(ms).toISOString().slice(0, 19);
      const fraction = digits === 0 ? '' : `.${String(Math.floor(Math.random() * 10 ** digits)).padStart(digits, '0')}`;
      const text = `${iso}${fraction}Z`;
      expect(timestampToEpochMs(text), text).toBe(slow(text));
    }
  });
});

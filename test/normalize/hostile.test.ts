/**
 * Odd and hostile input: the normalizer never throws, and nothing is lost. Every input is either a
 * `referrals` row or a whole-referral quarantine entry; every value it could not keep is in the
 * quarantine list with a reason; every unknown key is in an `_extra_json`.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateReferrals } from '../../sandbox/generator.js';
import { type NormalizeResult, normalizeReferral, normalizeReferrals } from '../../src/normalize/normalize.js';
import { isWholeReferral, type QuarantineEntry, VALUE_PREVIEW_CHARS } from '../../src/normalize/quarantine.js';
import type { Row } from '../../src/schema/table.js';
import { TABLES, type TableName } from '../../src/schema/tables.js';
import { deepFreeze, isoMicros, quarantineProblems, rowProblems } from './conformance.js';

const LINEAGE = { runId: 'run-hostile', extractedAtMicros: isoMicros('2020-11-11T06:00:00Z') };
const example = (
  JSON.parse(readFileSync(new URL('../fixtures/list-referrals.example.json', import.meta.url), 'utf8')) as {
    value: Record<string, unknown>[];
  }
).value[0] as Record<string, unknown>;

/** The docs example with `changes` merged in at the top level. */
function referral(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(example), ...changes };
}

function details(changes: Record<string, unknown>): Record<string, unknown> {
  return { ...(structuredClone(example.details) as Record<string, unknown>), ...changes };
}

function only(input: unknown): { row: Row; result: NormalizeResult } {
  const result = normalizeReferral(input, LINEAGE);
  const row = result.rows.referrals[0];
  if (!row || result.rows.referrals.length !== 1) throw new Error('expected exactly one referrals row');
  expect(rowProblems(result)).toEqual([]);
  expect(quarantineProblems(result.quarantine)).toEqual([]);
  return { row, result };
}

function entry(result: NormalizeResult, source: string): QuarantineEntry | undefined {
  return result.quarantine.find((e) => e.source === source);
}

const MB_NOTE = `${'Lorem ipsum 🚀 שלום مرحبا\n'.repeat(40_000)}end`;

describe('odd values are coerced when lossless, else null plus a quarantine entry', () => {
  it('keeps a referral whose every field is null', () => {
    const nulls = Object.fromEntries(Object.keys(example).map((k) => [k, k === 'id' ? example.id : null]));
    const { row, result } = only(nulls);
    expect(result.quarantine).toEqual([]);
    const nonNull = Object.entries(row)
      .filter(([, v]) => v !== null)
      .map(([k]) => k);
    expect(nonNull.sort()).toEqual(['_extracted_at', '_run_id', 'is_expired_risk', 'referral_id']);
    expect(row.is_expired_risk).toBe(false);
    for (const table of TABLES.slice(1)) expect(result.rows[table.name], table.name).toEqual([]);
  });

  it('keeps a referral with nothing but an id', () => {
    const { row, result } = only({ id: 'bare' });
    expect(result.quarantine).toEqual([]);
    expect(row).toMatchObject({ referral_id: 'bare', created_date_time: null, respond_by: null, age_days: null });
  });

  it('coerces losslessly: number to text, numeric string to double, "true" to boolean', () => {
    const { row, result } = only(
      referral({ status: 5, name: false, favorite: 'TRUE', details: details({ dealValue: ' 2.5e3 ', currency: 978 }) }),
    );
    expect(result.quarantine).toEqual([]);
    expect(row).toMatchObject({
      status: '5',
      name: 'false',
      favorite: true,
      details_deal_value: 2500,
      details_currency: '978',
    });
    expect(only(referral({ details: details({ dealValue: '10000' }) })).row.details_deal_value).toBe(10000);
    expect(only(referral({ details: details({ dealValue: '-0.01' }) })).row.details_deal_value).toBe(-0.01);
  });

  it.each([
    ['"abc"', 'abc', 'unparseable_number'],
    ['grouped', '10,000.50', 'unparseable_number'],
    ['localised', '10.000,50', 'unparseable_number'],
    ['currency sign', '$5', 'unparseable_number'],
    ['empty text', '', 'unparseable_number'],
    ['object', {}, 'wrong_type'],
    ['array', [10000], 'wrong_type'],
    ['boolean', true, 'wrong_type'],
    ['beyond double', '1e999', 'unparseable_number'],
  ])('quarantines dealValue %s', (_label, dealValue, code) => {
    const { row, result } = only(referral({ details: details({ dealValue }) }));
    expect(row.details_deal_value).toBeNull();
    expect(result.quarantine).toEqual([
      {
        referral_id: example.id,
        table: 'referrals',
        column: 'details_deal_value',
        source: 'details/dealValue',
        reason: expect.stringMatching(new RegExp(`^${code}: `)),
        value: JSON.stringify(dealValue),
      },
    ]);
  });

  it.each([
    ['yesterday', 'unparseable_timestamp'],
    ['2023-02-29T00:00:00Z', 'unparseable_timestamp'],
    ['2020-13-01T00:00:00Z', 'unparseable_timestamp'],
    ['0001-01-01T00:00:00Z', 'unparseable_timestamp'],
    ['1500-01-01T00:00:00Z', 'unparseable_timestamp'],
    [1604091780, 'wrong_type'],
  ])('quarantines createdDateTime %s, and derives what it still can', (createdDateTime, code) => {
    const { row, result } = only(referral({ createdDateTime }));
    expect(row).toMatchObject({ created_date_time: null, respond_by: null, age_days: null, is_expired_risk: false });
    expect(result.quarantine).toHaveLength(1);
    expect(result.quarantine[0]).toMatchObject({ column: 'created_date_time', source: 'createdDateTime' });
    expect(result.quarantine[0]?.reason).toMatch(new RegExp(`^${code}: `));
    // With a deadline sent, respond_by does not need the creation time.
    const expiring = only(referral({ createdDateTime, expirationDateTime: '2020-11-12T00:00:00Z' })).row;
    expect(expiring.respond_by).toBe(isoMicros('2020-11-12T00:00:00Z'));
  });

  it('reads timestamps in every ISO shape as UTC, dropping the 7th fractional digit', () => {
    const cases: [string, number][] = [
      ['2020-10-30T21:03:00.1234567Z', isoMicros('2020-10-30T21:03:00.123Z') + 456],
      ['2020-10-30T21:03:00.1234567', isoMicros('2020-10-30T21:03:00.123Z') + 456], // no offset: UTC
      ['2020-10-30T23:03:00.5+02:00', isoMicros('2020-10-30T21:03:00.500Z')],
      ['2020-10-30 21:03:00z', isoMicros('2020-10-30T21:03:00Z')],
      ['2020-10-30T21:03:00.999999999Z', isoMicros('2020-10-30T21:03:00.999Z') + 999],
      ['2024-02-29T00:00:00Z', isoMicros('2024-02-29T00:00:00Z')],
      ['2020-12-01', isoMicros('2020-12-01T00:00:00Z')],
      ['1969-12-31T23:59:59.9999999Z', -1],
    ];
    for (const [text, micros] of cases) {
      const { row, result } = only(referral({ updatedDateTime: text }));
      expect(result.quarantine, text).toEqual([]);
      expect(row.updated_date_time, text).toBe(micros);
      expect(row._source_updated_date_time, text).toBe(micros);
    }
  });

  it('quarantines favorite "yes" and 1 but reads "False"', () => {
    for (const favorite of ['yes', 1]) {
      const { row, result } = only(referral({ favorite }));
      expect(row.favorite).toBeNull();
      expect(result.quarantine[0]).toMatchObject({
        column: 'favorite',
        source: 'favorite',
        value: JSON.stringify(favorite),
      });
    }
    expect(only(referral({ favorite: 'False' })).row.favorite).toBe(false);
  });

  it('quarantines an object that is not one once, with nulls in its columns', () => {
    const { row, result } = only(referral({ details: [], customerProfile: 'Fabrikam', links: 7 }));
    const bySource = [...result.quarantine].sort((a, b) => a.source.localeCompare(b.source));
    expect(bySource.map((e) => [e.table, e.column, e.source, e.reason, e.value])).toEqual([
      ['referrals', null, 'customerProfile', 'not_an_object: got a string', '"Fabrikam"'],
      ['referrals', null, 'details', 'not_an_object: got an array', '[]'],
      ['referrals', null, 'links', 'not_an_object: got a number', '7'],
    ]);
    expect(row).toMatchObject({
      customer_name: null,
      customer_address_country: null,
      details_deal_value: null,
      details_notes: null,
      links_self_uri: null,
      product_ids: null,
      customer_contact_count: null,
    });
    expect(result.rows.referral_products).toEqual([]);
  });

  it('quarantines an array that is not one, and reads {} as empty', () => {
    const cp = { ...(example.customerProfile as object), ids: {}, team: { 0: { firstName: 'A' } } };
    const { row, result } = only(referral({ team: 'x', customerProfile: cp }));
    expect(result.quarantine.map((e) => [e.table, e.column, e.source, e.value])).toEqual([
      ['referral_team_members', null, 'team', '"x"'],
      ['referral_customer_contacts', null, 'customerProfile/team', '{"0":{"firstName":"A"}}'],
    ]);
    expect(result.quarantine.every((e) => e.reason.startsWith('not_an_array: '))).toBe(true);
    expect(row).toMatchObject({ team_member_count: null, customer_contact_count: null });
    expect(result.rows.referral_customer_ids).toEqual([]);
    expect(only(referral({ customerProfile: { ids: {} } })).result.quarantine).toEqual([]);
  });

  it('skips array items that are not objects, keeping the others at their position', () => {
    const team = [null, 'x', { firstName: 'Ada', contactPreference: { disableNotifications: 'true' } }, 42];
    const { row, result } = only(referral({ team }));
    expect(
      result.rows.referral_team_members.map((r) => [
        r.ordinal,
        r.first_name,
        r.contact_preference_disable_notifications,
      ]),
    ).toEqual([[2, 'Ada', true]]);
    expect(row.team_member_count).toBe(1);
    expect(result.quarantine.map((e) => [e.table, e.source, e.reason])).toEqual([
      ['referral_team_members', 'team/0', 'not_an_object: array item is null'],
      ['referral_team_members', 'team/1', 'not_an_object: array item is a string'],
      ['referral_team_members', 'team/3', 'not_an_object: array item is a number'],
    ]);
  });

  it('names the item in the source of a quarantined child value', () => {
    const targets = [
      { type: 'SolutionProfile', id: 'A' },
      { type: ['x'], id: 'B' },
    ];
    const { result } = only(referral({ target: targets }));
    expect(result.quarantine).toEqual([
      {
        referral_id: example.id,
        table: 'referral_targets',
        column: 'target_type',
        source: 'target/1/type',
        reason: 'wrong_type: expected a string, got an array',
        value: '["x"]',
      },
    ]);
    expect(result.rows.referral_targets.map((r) => [r.ordinal, r.target_type, r.target_id])).toEqual([
      [0, 'SolutionProfile', 'A'],
      [1, null, 'B'],
    ]);
  });
});

describe('text survives as sent', () => {
  it('keeps a 1 MB note, emoji, right-to-left text and control characters exactly', () => {
    const name = '🚀 Rocket \u200d👩‍💻 שלום עולם مرحبا \u202eevil\u202c \u0000\u0007\u001b[31m\ttab\r\n';
    const { row, result } = only(referral({ name, details: details({ notes: MB_NOTE }) }));
    expect(result.quarantine).toEqual([]);
    expect(row.name).toBe(name);
    expect(row.details_notes).toBe(MB_NOTE);
    expect(String(row.details_notes).length).toBeGreaterThan(1_000_000);
  });

  it('cuts the quarantined value preview, not the kept value', () => {
    const { result } = only(referral({ details: details({ dealValue: MB_NOTE }) }));
    const value = entry(result, 'details/dealValue')?.value ?? '';
    expect(value.length).toBeLessThan(VALUE_PREVIEW_CHARS + 60);
    expect(value.startsWith(JSON.stringify(MB_NOTE.slice(0, 100)).slice(0, -1))).toBe(true);
    expect(value).toContain(`${MB_NOTE.length} characters in all`);
  });

  it('repairs lone surrogates (not UTF-8 encodable) and reports the repair', () => {
    const { row, result } = only(referral({ name: 'bad \ud800 text' }));
    expect(row.name).toBe('bad \ufffd text');
    expect(result.quarantine).toEqual([
      {
        referral_id: example.id,
        table: 'referrals',
        column: 'name',
        source: 'name',
        reason: expect.stringMatching(/^repaired_text: /),
        value: '"bad \\ud800 text"',
      },
    ]);
  });
});

describe('unknown fields are kept in _extra_json', () => {
  it('keeps top-level and nested unknown keys, with their nesting, in the table of their record', () => {
    const input = referral({
      isMatchingComplete: true,
      registrations: [{ id: 'REG-1', status: 'Approved' }],
      customerProfile: {
        ...(example.customerProfile as Record<string, unknown>),
        newThing: { a: 1 },
        address: { country: 'US', geo: { lat: 47.6, lon: -122.1 } },
        team: [{ firstName: 'Ann', badge: 'gold', contactPreference: { locale: 'en-US', channel: 'sms' } }],
      },
      details: details({ requirements: { products: [{ id: 'Azure', tier: 2 }], newList: ['x'] } }),
      links: { self: { uri: 'u', method: 'GET', rel: 'self' }, relatedReferal: { uri: 'typo' } },
      inviteContext: null,
    });
    const { row, result } = only(input);
    expect(result.quarantine).toEqual([]);
    expect(JSON.parse(String(row._extra_json))).toEqual({
      isMatchingComplete: true,
      registrations: [{ id: 'REG-1', status: 'Approved' }],
      customerProfile: { newThing: { a: 1 }, address: { geo: { lat: 47.6, lon: -122.1 } } },
      details: { requirements: { newList: ['x'] } },
      links: { self: { rel: 'self' }, relatedReferal: { uri: 'typo' } },
    });
    expect(JSON.parse(String(result.rows.referral_customer_contacts[0]?._extra_json))).toEqual({
      badge: 'gold',
      contactPreference: { channel: 'sms' },
    });
    expect(JSON.parse(String(result.rows.referral_products[0]?._extra_json))).toEqual({ tier: 2 });
    expect(row.customer_address_country).toBe('US');
  });

  it('copies a __proto__ key like any other, polluting nothing', () => {
    const input = JSON.parse('{"id":"p","__proto__":{"polluted":true},"customerProfile":{"__proto__":[1]}}');
    const { row } = only(input);
    expect(row._extra_json).toBe('{"__proto__":{"polluted":true},"customerProfile":{"__proto__":[1]}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports an unknown value with no JSON text (only possible from a hand-built object)', () => {
    const { row, result } = only({ id: 'b', big: 10n, fine: 1 });
    expect(row._extra_json).toBe('{"fine":1}');
    expect(result.quarantine).toEqual([
      {
        referral_id: 'b',
        table: 'referrals',
        column: '_extra_json',
        source: 'big',
        reason: expect.stringMatching(/^not_json: /),
        value: '10',
      },
    ]);
  });
});

describe('every input is accounted for', () => {
  const corpus: unknown[] = [
    null,
    undefined,
    42,
    'str',
    [],
    [referral()],
    true,
    {},
    { id: null },
    { id: 42 },
    { id: '' },
    { name: 'no id at all' },
    referral({ id: 'dup' }),
    referral({ id: 'dup', status: 'Closed' }),
    referral({ status: 5, team: 'x', details: [], favorite: 'yes', createdDateTime: 'yesterday' }),
    referral({ details: details({ dealValue: 'abc', notes: MB_NOTE }), unknownTop: { deep: [1, { x: null }] } }),
    referral({ customerProfile: { name: 'عربي 🚀', ids: {}, team: [null, { email: ['x'] }], mystery: 1 } }),
    {
      get id(): string {
        throw new Error('getter says no');
      },
    },
    {
      id: 'proxy',
      details: new Proxy(
        {},
        {
          get: () => {
            throw new Error('trap');
          },
        },
      ),
    },
  ];

  it('never throws, and inputs = referrals rows + whole-referral entries', () => {
    const result = normalizeReferrals(corpus, LINEAGE);
    const whole = result.quarantine.filter(isWholeReferral);
    expect(result.rows.referrals.length + whole.length).toBe(corpus.length);
    expect(result.rows.referrals.map((r) => r.referral_id)).toEqual([
      'dup',
      'dup', // both kept: deduplication is the sync stage's job
      example.id,
      example.id,
      example.id,
    ]);
    expect(whole.map((e) => [e.referral_id, e.reason.split(':')[0]])).toEqual([
      ...Array.from({ length: 7 }, () => [null, 'not_an_object']),
      ...Array.from({ length: 5 }, () => [null, 'missing_id']),
      [null, 'internal_error'], // the id getter throws
      ['proxy', 'internal_error'], // a proxy throws while its rows are made: none are kept
    ]);
    expect(result.rows.referrals.some((r) => r.referral_id === 'proxy')).toBe(false);
    const extras = result.rows.referrals.map((r) =>
      r._extra_json === null ? null : JSON.parse(String(r._extra_json)),
    );
    expect(extras).toContainEqual({ unknownTop: { deep: [1, { x: null }] } });
    expect(extras).toContainEqual({ customerProfile: { mystery: 1 } });
    // Every value set aside is named with a reason: the wrong types of the fifth referral, say.
    const sources = result.quarantine.filter((e) => e.referral_id === example.id).map((e) => e.source);
    expect(sources).toEqual(
      expect.arrayContaining(['team', 'details', 'favorite', 'createdDateTime', 'details/dealValue']),
    );
    expect(sources).toEqual(expect.arrayContaining(['customerProfile/team/0', 'customerProfile/team/1/email']));
    expect(rowProblems(result)).toEqual([]);
    expect(quarantineProblems(result.quarantine)).toEqual([]);
  });

  it('quarantines each single input the same way as in a batch', () => {
    const batch = normalizeReferrals(corpus, LINEAGE);
    const merged = corpus.map((input) => normalizeReferral(input, LINEAGE));
    for (const table of TABLES) {
      expect(merged.flatMap((r) => r.rows[table.name])).toEqual(batch.rows[table.name as TableName]);
    }
    expect(merged.flatMap((r) => r.quarantine)).toEqual(batch.quarantine);
  });
});

describe('purity', () => {
  const lineage = { runId: 'run-pure', extractedAtMicros: isoMicros('2026-11-24T06:00:00Z') };

  it('gives deep-equal output for the same input and lineage, without touching the frozen input', () => {
    const inputs = deepFreeze([
      ...generateReferrals({ count: 300, seed: 7 }),
      referral({ team: 'x', details: [], extra: { a: [1, 2] } }),
      referral({ customerProfile: { ids: {}, team: [null] } }),
      42,
    ]);
    const snapshot = JSON.stringify(inputs);
    const first = normalizeReferrals(inputs, lineage);
    const second = normalizeReferrals(inputs, lineage);
    expect(second).toStrictEqual(first);
    expect(JSON.stringify(inputs)).toBe(snapshot);
    expect(first.rows.referrals).toHaveLength(302);
  });

  it('does not share row objects between calls', () => {
    const a = normalizeReferral(example, lineage);
    const b = normalizeReferral(example, lineage);
    expect(a.rows.referrals[0]).not.toBe(b.rows.referrals[0]);
    expect(a).toStrictEqual(b);
  });

  it('rejects malformed lineage (a caller bug), whatever the input', () => {
    expect(() => normalizeReferral(example, { runId: '', extractedAtMicros: 0 })).toThrow(TypeError);
    expect(() => normalizeReferral(example, { runId: 'r', extractedAtMicros: 1.5 })).toThrow(TypeError);
  });
});

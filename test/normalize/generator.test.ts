/**
 * The sandbox generator's realistic data through the normalizer, checked cell by cell against an
 * oracle that reads the source JSON itself: it walks each column's source path, converts the value
 * with its own few lines (timestamps through canonicalTimestamp), and derives the unknown fields
 * from the resource model (REFERRAL_FIELDS), not from the table declaration.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { generateReferrals } from '../../sandbox/generator.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { type NormalizeResult, normalizeReferrals } from '../../src/normalize/normalize.js';
import {
  type Field,
  REFERRAL_FIELDS,
  RESPONSE_WINDOW_DAYS,
  type Referral,
} from '../../src/schema/referral-resource.js';
import type { Cell, ColumnType, Row } from '../../src/schema/table.js';
import { EXPIRY_RISK_DAYS, isPathSource, resolveArrayField, TABLES } from '../../src/schema/tables.js';
import { isoMicros, quarantineProblems, rowProblems } from './conformance.js';

const COUNT = 5000;
const EXTRACTED_AT = isoMicros('2026-11-24T06:00:00Z'); // the generator's default "now"
const LINEAGE = { runId: 'run-generator-seed-1', extractedAtMicros: EXTRACTED_AT };
const DAY = 86_400_000_000;

// ---------------------------------------------------------------------------------------------
// The oracle

function walk(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function micros(text: string): number | null {
  const canonical = canonicalTimestamp(text);
  if (canonical === undefined) return null;
  return Date.parse(`${canonical.slice(0, 23)}Z`) * 1000 + Number(canonical.slice(23, 26));
}

function expectedCell(type: ColumnType, raw: unknown): Cell {
  if (raw === undefined || raw === null) return null;
  switch (type) {
    case 'string':
      return typeof raw === 'number' ? String(raw) : (raw as string);
    case 'double':
      return typeof raw === 'string' ? Number(raw) : (raw as number);
    case 'timestamp':
      return micros(raw as string);
    default:
      return raw as Cell;
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Keys not in the resource model, nested under their parents; arrays are left to their items. */
function unknownKeys(value: unknown, fields: readonly Field[]): Record<string, unknown> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fields.find((f) => f.name === key);
    if (!field) out[key] = v;
    else if (field.kind === 'object') {
      const nested = unknownKeys(v, field.fields);
      if (nested) out[key] = nested;
    }
  }
  return Object.keys(out).length > 0 ? out : null;
}

function expectedRespondBy(r: Referral): number | null {
  if (r.direction !== 'Incoming' || r.status !== 'New') return null;
  if (r.expirationDateTime) return micros(r.expirationDateTime);
  const created = micros(r.createdDateTime);
  return created === null ? null : created + RESPONSE_WINDOW_DAYS * DAY;
}

function joined(items: unknown[]): string | null {
  const ids = items.map((item) => walk(item, ['id'])).filter((id): id is string => typeof id === 'string' && id !== '');
  return ids.length > 0 ? ids.join(',') : null;
}

// ---------------------------------------------------------------------------------------------

describe('generator data (5,000 referrals, seed 1)', () => {
  let referrals: Referral[];
  let result: NormalizeResult;
  const byId = new Map<string, Referral>();

  beforeAll(() => {
    referrals = generateReferrals({ count: COUNT, seed: 1 });
    for (const r of referrals) byId.set(r.id, r);
    result = normalizeReferrals(referrals, LINEAGE);
  });

  it('keeps every referral, with conforming rows and nothing quarantined', () => {
    expect(byId.size).toBe(COUNT);
    expect(result.rows.referrals).toHaveLength(COUNT);
    expect(rowProblems(result)).toEqual([]);
    expect(result.quarantine, 'generator data is well-formed or losslessly coercible').toEqual([]);
  });

  it('makes one child row per array item', () => {
    for (const table of TABLES.slice(1)) {
      const path = (table.arrayPath ?? '').split('/');
      const items = referrals.reduce((sum, r) => sum + asArray(walk(r, path)).length, 0);
      expect(result.rows[table.name].length, table.name).toBe(items);
    }
    // The data must exercise every table for the cell checks below to mean anything.
    for (const table of TABLES) expect(result.rows[table.name].length, table.name).toBeGreaterThan(0);
  });

  it('equals the source JSON in every path column of every row', () => {
    const mismatches: string[] = [];
    const check = (table: string, row: Row, source: unknown, columns: (typeof TABLES)[number]['columns']) => {
      for (const column of columns.filter((c) => isPathSource(c.source))) {
        const expected = expectedCell(column.type, walk(source, column.source.split('/')));
        if (!Object.is(row[column.name], expected) && mismatches.length < 20) {
          mismatches.push(`${table}.${column.name} of ${String(row.referral_id)}: ${row[column.name]} ≠ ${expected}`);
        }
      }
    };
    const [main, ...children] = TABLES;
    for (const [i, row] of result.rows.referrals.entries()) check('referrals', row, referrals[i], main?.columns ?? []);
    for (const table of children) {
      const path = (table.arrayPath ?? '').split('/');
      for (const row of result.rows[table.name]) {
        const item = asArray(walk(byId.get(String(row.referral_id)), path))[Number(row.ordinal)];
        check(table.name, row, item, table.columns);
      }
    }
    expect(mismatches).toEqual([]);
    const numericStrings = referrals.filter((r) => typeof r.details?.dealValue === 'string').length;
    expect(numericStrings, 'the data has dealValue as a string, read as a number').toBeGreaterThan(0);
  });

  it('puts every unknown field in _extra_json, parsing back equal', () => {
    let withExtras = 0;
    for (const [i, row] of result.rows.referrals.entries()) {
      const expected = unknownKeys(referrals[i], REFERRAL_FIELDS);
      if (expected) withExtras++;
      expect(row._extra_json === null ? null : JSON.parse(String(row._extra_json))).toEqual(expected);
    }
    expect(withExtras, 'the generator adds undocumented fields').toBeGreaterThan(COUNT / 4);
    expect(result.rows.referrals.some((r) => String(r._extra_json).includes('"isMatchingComplete"'))).toBe(true);
    for (const table of TABLES.slice(1)) {
      const items = resolveArrayField(table.arrayPath ?? '')?.items ?? [];
      const path = (table.arrayPath ?? '').split('/');
      for (const row of result.rows[table.name]) {
        const item = asArray(walk(byId.get(String(row.referral_id)), path))[Number(row.ordinal)];
        expect(row._extra_json === null ? null : JSON.parse(String(row._extra_json))).toEqual(unknownKeys(item, items));
      }
    }
  });

  it('derives lineage, id lists, counts and the response deadline as specified', () => {
    const problems: string[] = [];
    for (const [i, row] of result.rows.referrals.entries()) {
      const r = referrals[i];
      if (!r) continue;
      const respondBy = expectedRespondBy(r);
      const created = micros(r.createdDateTime);
      const expected = {
        _run_id: LINEAGE.runId,
        _extracted_at: EXTRACTED_AT,
        _source_updated_date_time: micros(r.updatedDateTime),
        product_ids: joined(asArray(r.details?.requirements?.products)),
        solution_ids: joined(asArray(r.details?.requirements?.solutions)),
        service_ids: joined(asArray(r.details?.requirements?.services)),
        industry_ids: joined(asArray(r.details?.requirements?.industries)),
        team_member_count: Array.isArray(r.team) ? r.team.length : null,
        customer_contact_count: Array.isArray(r.customerProfile?.team) ? r.customerProfile.team.length : null,
        respond_by: respondBy,
        days_to_respond: respondBy === null ? null : Math.floor((respondBy - EXTRACTED_AT) / DAY),
        is_expired_risk: respondBy !== null && respondBy <= EXTRACTED_AT + EXPIRY_RISK_DAYS * DAY,
        age_days: created === null ? null : Math.floor((EXTRACTED_AT - created) / DAY),
      };
      for (const [name, value] of Object.entries(expected)) {
        if (!Object.is(row[name], value) && problems.length < 20)
          problems.push(`${r.id}.${name}: ${row[name]} ≠ ${value}`);
      }
    }
    expect(problems).toEqual([]);
    const pending = result.rows.referrals.filter((r) => r.respond_by !== null);
    expect(pending.length, 'some referrals are pending').toBeGreaterThan(0);
    expect(pending.some((r) => r.is_expired_risk) && pending.some((r) => !r.is_expired_risk)).toBe(true);
    for (const table of TABLES.slice(1)) {
      for (const row of result.rows[table.name]) {
        const parent = byId.get(String(row.referral_id));
        expect(row._source_updated_date_time).toBe(parent ? micros(parent.updatedDateTime) : 'missing parent');
      }
    }
  });

  it('has well-formed quarantine entries when there are some', () => {
    expect(quarantineProblems(result.quarantine)).toEqual([]);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGeneratorContext,
  createReferral,
  DEFAULT_NOW,
  DEFAULT_USERS,
  generateReferrals,
  withFastHex,
} from '../../sandbox/generator.js';
import { updateReferral } from '../../sandbox/mutations.js';
import { createRandom } from '../../sandbox/random.js';
import { loadReferralsFile } from '../../sandbox/referrals-file.js';
import { EXAMPLE_SELLER_EMAIL, MICROSOFT_ORGANIZATION } from '../../sandbox/seed-data.js';
import { canonicalTimestamp, formatTimestamp, formatTimestampFast, timestampToEpochMs } from '../../src/common/time.js';
import {
  type Field,
  REFERRAL_FIELDS,
  RESPONSE_WINDOW_DAYS,
  type Referral,
  SUBSTATUS_BY_STATUS,
} from '../../src/schema/referral-resource.js';

const DAY_MS = 86_400_000;
const SEVEN_DIGITS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STATUS_RANK: Record<string, number> = { None: 0, New: 1, Active: 2, Closed: 3 };
const SUBSTATUS_RANK: Record<string, number> = { Pending: 0, Received: 1 };

// One book shared by the property tests: the size and seed the docs' example 3 is promised on.
const book = generateReferrals({ count: 5000, seed: 1 });

function canonical(text: string | null | undefined): string {
  const value = typeof text === 'string' ? canonicalTimestamp(text) : undefined;
  if (value === undefined) throw new Error(`not a timestamp: ${String(text)}`);
  return value;
}

function epoch(text: string | null | undefined): number {
  const value = typeof text === 'string' ? timestampToEpochMs(text) : undefined;
  if (value === undefined) throw new Error(`not a timestamp: ${String(text)}`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(predicate: (r: Referral) => boolean): number {
  return book.filter(predicate).length;
}

/** Every scalar path of the model, `/` between levels and `[]` after an array. */
function scalarPaths(fields: readonly Field[], prefix = ''): string[] {
  return fields.flatMap((field) => {
    const path = prefix + field.name;
    if (field.kind === 'object') return scalarPaths(field.fields, `${path}/`);
    if (field.kind === 'array') return scalarPaths(field.items, `${path}[]/`);
    return [path];
  });
}

/** Walks a value along the model and reports each non-null scalar with its path and declared kind. */
function visitScalars(
  fields: readonly Field[],
  value: unknown,
  visit: (path: string, kind: string, scalar: unknown) => void,
  prefix = '',
): void {
  if (!isRecord(value)) return;
  for (const field of fields) {
    const v = value[field.name];
    const path = prefix + field.name;
    if (v === null || v === undefined) continue;
    if (field.kind === 'object') visitScalars(field.fields, v, visit, `${path}/`);
    else if (field.kind === 'array') {
      if (Array.isArray(v)) for (const item of v) visitScalars(field.items, item, visit, `${path}[]/`);
    } else visit(path, field.kind, v);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('generateReferrals: determinism and size', () => {
  it('gives deep-equal data for the same options and different data for another seed', () => {
    const a = generateReferrals({ count: 400, seed: 42 });
    const b = generateReferrals({ count: 400, seed: 42 });
    const c = generateReferrals({ count: 400, seed: 43 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(c.map((r) => r.id)).not.toEqual(a.map((r) => r.id));
  });

  it('does not depend on the clock: the default now is fixed', () => {
    const implicit = generateReferrals({ count: 50, seed: 9 });
    const explicit = generateReferrals({ count: 50, seed: 9, now: DEFAULT_NOW });
    expect(explicit).toEqual(implicit);
    const later = generateReferrals({ count: 50, seed: 9, now: new Date(DEFAULT_NOW.getTime() + 30 * DAY_MS) });
    expect(later).not.toEqual(implicit);
  });

  it('honours count and gives unique GUID ids', () => {
    expect(generateReferrals({ count: 0, seed: 1 })).toEqual([]);
    expect(generateReferrals({ count: 1, seed: 1 })).toHaveLength(1);
    expect(book).toHaveLength(5000);
    expect(new Set(book.map((r) => r.id)).size).toBe(5000);
    for (const r of book) {
      expect(r.id).toMatch(GUID);
      expect(r.engagementId).toMatch(GUID);
    }
    expect(() => generateReferrals({ count: -1, seed: 1 })).toThrow(/count/);
    expect(() => generateReferrals({ count: 1.5, seed: 1 })).toThrow(/count/);
  });

  it('uses the given organization and users', () => {
    const organization = { id: '11111111-2222-4333-8444-555555555555', name: 'Fabrikam Partner Ltd' };
    const users = { admin: 'boss@fabrikam.example', user: 'rep@fabrikam.example' };
    const data = generateReferrals({ count: 1000, seed: 5, organization, users });
    expect(new Set(data.map((r) => r.organizationId))).toEqual(new Set([organization.id]));
    expect(new Set(data.map((r) => r.organizationName))).toEqual(new Set([organization.name]));
    const emails = new Set(data.flatMap((r) => (r.team ?? []).map((m) => m.email)));
    expect(emails.has(users.admin)).toBe(true);
    expect(emails.has(users.user)).toBe(true);
    expect(emails.has(DEFAULT_USERS.admin)).toBe(false);
  });
});

describe('generateReferrals: rules the real API keeps', () => {
  it('pairs every status with an allowed substatus', () => {
    const bad = book.filter((r) => !(SUBSTATUS_BY_STATUS[r.status ?? ''] ?? []).includes(r.substatus ?? ''));
    expect(bad.map((r) => `${r.status}/${r.substatus}`)).toEqual([]);
  });

  it('keeps no unanswered incoming referral older than the response window', () => {
    const cutoff = canonical(formatTimestamp(DEFAULT_NOW.getTime() - RESPONSE_WINDOW_DAYS * DAY_MS));
    const stale = book.filter(
      (r) => r.direction === 'Incoming' && r.status === 'New' && canonical(r.createdDateTime) < cutoff,
    );
    expect(stale.map((r) => r.createdDateTime)).toEqual([]);
    // …while the recent ones still wait (the docs' example 2 needs them).
    expect(count((r) => r.direction === 'Incoming' && r.substatus === 'Pending')).toBeGreaterThan(10);
    expect(count((r) => r.substatus === 'Expired')).toBeGreaterThan(100);
  });

  it('orders timestamps: created <= updated <= now, all in the seven-digit format', () => {
    const now = canonical(DEFAULT_NOW.toISOString());
    const earliest = canonical(new Date(DEFAULT_NOW.getTime() - 731 * DAY_MS).toISOString());
    for (const r of book) {
      expect(r.createdDateTime).toMatch(SEVEN_DIGITS);
      expect(r.updatedDateTime).toMatch(SEVEN_DIGITS);
      expect(canonical(r.updatedDateTime) >= canonical(r.createdDateTime)).toBe(true);
      expect(canonical(r.updatedDateTime) <= now).toBe(true);
      expect(canonical(r.createdDateTime) >= earliest).toBe(true);
      for (const value of [r.expirationDateTime, r.acceptedDateTime]) {
        if (value !== null) expect(value).toMatch(SEVEN_DIGITS);
      }
      const closing = r.details?.closingDateTime;
      if (closing) expect(closing).toMatch(/^\d{4}-\d\d-\d\dT00:00:00Z$/);
    }
    // Sub-millisecond ticks appear, and so do whole-second stamps like the docs' example.
    expect(count((r) => !r.createdDateTime.endsWith('0000Z'))).toBeGreaterThan(1000);
    expect(count((r) => r.createdDateTime.endsWith('.0000000Z'))).toBeGreaterThan(50);
  });

  it('sets expiration to created + 14 days on incoming referrals, and acceptance = creation on outgoing ones', () => {
    for (const r of book) {
      if (r.direction === 'Incoming' && r.expirationDateTime !== null) {
        expect(epoch(r.expirationDateTime) - epoch(r.createdDateTime)).toBe(RESPONSE_WINDOW_DAYS * DAY_MS);
        expect(r.expirationDateTime?.slice(-5)).toBe(r.createdDateTime.slice(-5));
      }
      if (r.direction === 'Outgoing') {
        expect(r.acceptedDateTime).toBe(r.createdDateTime);
        expect(r.expirationDateTime).toBeNull();
      }
      if (r.status === 'Active') expect(r.acceptedDateTime).not.toBeNull();
    }
    expect(count((r) => r.direction === 'Incoming' && r.expirationDateTime === null)).toBeGreaterThan(50);
  });

  it('gives shared referrals an invite context and independent ones null', () => {
    for (const r of book) {
      if (r.type === 'Shared') {
        expect(r.inviteContext?.invitedBy?.organizationId).toBeTruthy();
        expect(r.inviteContext?.assistanceRequestCode).toBeTruthy();
      } else expect(r.inviteContext).toBeNull();
    }
    const inviters = new Set(book.map((r) => r.inviteContext?.invitedBy?.organizationName).filter(Boolean));
    expect(inviters.has(MICROSOFT_ORGANIZATION.name)).toBe(true);
    expect(inviters.size).toBeGreaterThan(3);
  });

  it('keeps eTags quoted, links pointing at the referral and its engagement, and one organization', () => {
    for (const r of book) {
      expect(r.eTag).toMatch(/^"0000[0-9a-f]{4}-0000-0000-0000-[0-9a-f]{8}0000"$/);
      expect(r.links?.self?.uri).toBe(`https://api.partner.microsoft.com/v1.0/engagements/referrals/${r.id}`);
      expect(r.links?.relatedReferrals?.uri).toBe(
        `https://api.partner.microsoft.com/v1.0/engagements/referrals?$filter=engagementId eq '${r.engagementId}'`,
      );
    }
    expect(new Set(book.map((r) => r.organizationId)).size).toBe(1);
    expect(new Set(book.map((r) => r.eTag)).size).toBeGreaterThan(4990);
  });

  it('never shares an object between two referrals', () => {
    const owner = new Map<object, string>();
    const clashes: string[] = [];
    const walk = (value: unknown, id: string): void => {
      if (typeof value !== 'object' || value === null) return;
      const seen = owner.get(value);
      if (seen !== undefined && seen !== id) clashes.push(`${seen} / ${id}`);
      owner.set(value, id);
      for (const child of Object.values(value)) walk(child, id);
    };
    for (const r of book) walk(r, r.id);
    expect(clashes.slice(0, 5)).toEqual([]);
  });
});

describe('generateReferrals: the whole model is exercised', () => {
  it('carries every documented top-level key on every referral', () => {
    const missing = book.flatMap((r) => REFERRAL_FIELDS.filter((f) => !(f.name in r)).map((f) => `${r.id}:${f.name}`));
    expect(missing).toEqual([]);
  });

  it('has every scalar path non-null somewhere, with the declared kind', () => {
    const seen = new Set<string>();
    const wrongKind = new Set<string>();
    for (const r of book) {
      visitScalars(REFERRAL_FIELDS, r, (path, kind, value) => {
        seen.add(path);
        const ok =
          kind === 'number'
            ? typeof value === 'number'
            : kind === 'boolean'
              ? typeof value === 'boolean'
              : kind === 'datetime'
                ? typeof value === 'string' && canonicalTimestamp(value) !== undefined
                : typeof value === 'string';
        if (!ok) wrongKind.add(path);
      });
    }
    expect(scalarPaths(REFERRAL_FIELDS).filter((p) => !seen.has(p))).toEqual([]);
    // The one documented type quirk: dealValue sometimes arrives as a string.
    expect([...wrongKind]).toEqual(['details/dealValue']);
  });

  it('mixes directions, types and qualifications like a real book', () => {
    const incoming = count((r) => r.direction === 'Incoming') / book.length;
    expect(incoming).toBeGreaterThan(0.62);
    expect(incoming).toBeLessThan(0.78);
    const shared = count((r) => r.type === 'Shared') / book.length;
    expect(shared).toBeGreaterThan(0.3);
    expect(shared).toBeLessThan(0.7);
    expect(new Set(book.map((r) => r.qualification))).toEqual(
      new Set(['None', 'Direct', 'MarketingQualified', 'SalesQualified']),
    );
    const outgoingQualified = book.filter((r) => r.direction === 'Outgoing');
    const usual = outgoingQualified.filter((r) => r.qualification === 'None' || r.qualification === 'Direct');
    expect(usual.length / outgoingQualified.length).toBeGreaterThan(0.8);
    const pairs = new Set(book.map((r) => `${r.status}/${r.substatus}`));
    for (const pair of ['New/Pending', 'New/Received', 'Active/Accepted', 'Closed/Won', 'Closed/Lost']) {
      expect(pairs).toContain(pair);
    }
    expect(pairs).toContain('Closed/Declined');
    expect(pairs).toContain('Closed/Expired');
  });

  it('has matches for the docs example 3 query (r2d2, active outgoing co-sell)', () => {
    const matches = count(
      (r) =>
        r.status === 'Active' &&
        r.direction === 'Outgoing' &&
        r.type === 'Shared' &&
        (r.team ?? []).some((m) => m.email === EXAMPLE_SELLER_EMAIL),
    );
    expect(matches).toBeGreaterThanOrEqual(3);
    const seeded = (email: string) => count((r) => (r.team ?? []).some((m) => m.email === email));
    expect(seeded(DEFAULT_USERS.admin)).toBeGreaterThan(50);
    expect(seeded(DEFAULT_USERS.user)).toBeGreaterThan(50);
    expect(count((r) => (r.team ?? []).length === 0)).toBeGreaterThan(50);
  });

  it('carries the real API quirks: ids as {}, dealValue as a string, undocumented fields', () => {
    expect(
      count((r) => isRecord(r.customerProfile?.ids) && Object.keys(r.customerProfile.ids).length === 0),
    ).toBeGreaterThan(50);
    expect(count((r) => Array.isArray(r.customerProfile?.ids) && r.customerProfile.ids.length === 0)).toBeGreaterThan(
      3000,
    );
    expect(
      count((r) => Array.isArray(r.customerProfile?.ids) && r.customerProfile.ids[0]?.profileType === 'Duns'),
    ).toBeGreaterThan(50);
    const stringValues = book.map((r) => r.details?.dealValue).filter((v) => typeof v === 'string');
    expect(stringValues.length).toBeGreaterThan(10);
    expect(stringValues.length).toBeLessThan(150);
    for (const v of stringValues) expect(v).toMatch(/^\d+(\.\d+)?$/);
    const documented = new Set(REFERRAL_FIELDS.map((f) => f.name));
    const extras = new Set(book.flatMap((r) => Object.keys(r).filter((k) => !documented.has(k))));
    for (const key of [
      'isMatchingComplete',
      'title',
      'incentiveLevel',
      'dealSensitivity',
      'createdVia',
      'trackingInfo',
    ]) {
      expect(extras).toContain(key);
    }
    const withExtras = count((r) => Object.keys(r).some((k) => !documented.has(k)));
    expect(withExtras).toBeGreaterThan(1000);
    expect(withExtras).toBeLessThan(4000);
  });

  it('has exact createdDateTime ties and shared engagements', () => {
    const byCreated = new Map<string, number>();
    for (const r of book) byCreated.set(r.createdDateTime, (byCreated.get(r.createdDateTime) ?? 0) + 1);
    expect([...byCreated.values()].filter((n) => n > 1).length).toBeGreaterThan(5);
    expect(byCreated.size).toBeGreaterThan(4900);
    const byUpdated = new Map<string, number>();
    for (const r of book) byUpdated.set(r.updatedDateTime, (byUpdated.get(r.updatedDateTime) ?? 0) + 1);
    expect([...byUpdated.values()].filter((n) => n > 1).length).toBeGreaterThan(5);
    const byEngagement = new Map<string, Referral[]>();
    for (const r of book)
      byEngagement.set(r.engagementId ?? '', [...(byEngagement.get(r.engagementId ?? '') ?? []), r]);
    const related = [...byEngagement.values()].filter((group) => group.length > 1);
    expect(related.length).toBeGreaterThan(50);
    // Related referrals are about one customer.
    for (const group of related) expect(new Set(group.map((r) => r.customerProfile?.name)).size).toBe(1);
  });

  it('has unicode, long notes and the nulls and gaps the real API sends', () => {
    const names = book.map((r) => r.customerProfile?.name ?? '');
    expect(names.some((n) => /[àâçéèêëîïôûùüÿñæœäöüßåø]/i.test(n))).toBe(true);
    expect(names.some((n) => /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}/u.test(n))).toBe(true);
    expect(names.some((n) => /\p{Script=Arabic}/u.test(n))).toBe(true);
    expect(names.some((n) => /\p{Script=Hebrew}/u.test(n))).toBe(true);
    expect(names.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
    const notes = book.map((r) => r.details?.notes);
    expect(notes.some((n) => typeof n === 'string' && n.length > 1500 && n.includes('\n\n'))).toBe(true);
    expect(notes.every((n) => n === null || n === undefined || n.length < 8000)).toBe(true);
    expect(notes.some((n) => n === null)).toBe(true);
    expect(count((r) => r.details?.requirements === null)).toBeGreaterThan(10);
    expect(count((r) => r.consent === null)).toBeGreaterThan(10);
    expect(
      count((r) => isRecord(r.customerProfile?.address) && !('region' in r.customerProfile.address)),
    ).toBeGreaterThan(50);
    expect(count((r) => r.customerProfile?.address?.addressLine2 === '')).toBeGreaterThan(500);
    expect(count((r) => r.details?.closingDateTime === null)).toBeGreaterThan(100);
    expect(
      count((r) => (r.target ?? []).some((t) => t.type === 'SolutionProfile' && t.id === 'SOL-34104-EBB')),
    ).toBeGreaterThan(0);
    const countries = new Set(book.map((r) => r.customerProfile?.address?.country));
    expect(countries.size).toBeGreaterThan(10);
    expect(count((r) => r.customerProfile?.address?.country === 'US') / book.length).toBeGreaterThan(0.3);
    const currencies = new Set(book.map((r) => r.details?.currency));
    for (const c of ['USD', 'EUR', 'GBP', 'JPY']) expect(currencies).toContain(c);
  });
});

describe('speed helpers give the same results as the shared ones', () => {
  it('formatTimestampFast matches formatTimestamp', () => {
    const random = createRandom(4);
    const from = Date.parse('1999-12-31T23:59:59.999Z');
    for (let i = 0; i < 20_000; i++) {
      const ms = from + Math.floor(random.next() * 40 * 365 * DAY_MS);
      const ticks = i % 5 === 0 ? 0 : random.int(0, 9999);
      expect(formatTimestampFast(ms, ticks)).toBe(formatTimestamp(ms, ticks));
    }
    expect(formatTimestampFast(Date.parse('2024-02-29T23:59:59.999Z'), 9999)).toBe('2024-02-29T23:59:59.9999999Z');
  });

  it('withFastHex draws the same stream and hex text as createRandom', () => {
    const plain = createRandom(77);
    const fast = withFastHex(createRandom(77));
    for (const length of [32, 4, 7, 12, 1, 9, 32, 16]) {
      expect(fast.hex(length)).toBe(plain.hex(length));
      expect(fast.next()).toBe(plain.next());
      expect(fast.int(1, 100)).toBe(plain.int(1, 100));
    }
  });
});

describe('createReferral', () => {
  const ctx = createGeneratorContext({ seed: 3 });

  it('creates a referral at `at`: incoming ones wait, outgoing ones start accepted', () => {
    const random = createRandom(11);
    const at = new Date('2026-11-20T10:00:00.123Z');
    const made = Array.from({ length: 200 }, (_, i) => createReferral(random, i, at, ctx));
    for (const r of made) {
      expect(r.createdDateTime.startsWith('2026-11-20T10:00:00.123')).toBe(true);
      expect(r.updatedDateTime).toBe(r.createdDateTime);
      for (const f of REFERRAL_FIELDS) expect(f.name in r).toBe(true);
      if (r.direction === 'Incoming') expect([r.status, r.substatus]).toEqual(['New', 'Pending']);
      else expect([r.status, r.substatus]).toEqual(['Active', 'Accepted']);
    }
    expect(new Set(made.map((r) => r.direction))).toEqual(new Set(['Incoming', 'Outgoing']));
  });

  it('makes related referrals on the same engagement and customer, and honours ticks', () => {
    const random = createRandom(12);
    const first = createReferral(random, 0, new Date('2026-01-01T00:00:00Z'), ctx);
    const second = createReferral(random, 1, new Date('2026-01-02T00:00:00Z'), ctx, { related: first, ticks: 1234 });
    expect(second.engagementId).toBe(first.engagementId);
    expect(second.customerProfile).toEqual(first.customerProfile);
    expect(second.customerProfile).not.toBe(first.customerProfile);
    expect(second.createdDateTime).toBe('2026-01-02T00:00:00.0001234Z');
  });

  it('works without a context (the default one)', () => {
    const r = createReferral(createRandom(1), 0, new Date('2026-06-01T00:00:00Z'));
    expect(r.organizationName).toBe('Contoso Company');
  });
});

describe('updateReferral', () => {
  it('moves forward only, with a later updatedDateTime, a new eTag and a fitting substatus', () => {
    const random = createRandom(99);
    const start = generateReferrals({ count: 600, seed: 21 });
    const statusesSeen = new Set<string>();
    for (const original of start) {
      let current = deepFreeze(original);
      let at = epoch(current.updatedDateTime);
      for (let step = 0; step < 8; step++) {
        // Some steps ask for a time not after the last update: the result must still be later.
        at += step % 3 === 2 ? -DAY_MS : random.int(1, 20) * DAY_MS;
        const next = deepFreeze(updateReferral(current, random, new Date(at)));
        expect(canonical(next.updatedDateTime) > canonical(current.updatedDateTime)).toBe(true);
        expect(next.updatedDateTime).toMatch(SEVEN_DIGITS);
        expect(next.eTag).not.toBe(current.eTag);
        expect(next.id).toBe(current.id);
        expect(next.createdDateTime).toBe(current.createdDateTime);
        expect(next.engagementId).toBe(current.engagementId);
        expect(next.direction).toBe(current.direction);
        const before = STATUS_RANK[current.status ?? ''] ?? -1;
        const after = STATUS_RANK[next.status ?? ''] ?? -1;
        expect(after).toBeGreaterThanOrEqual(before);
        if (current.status === 'Closed') expect(next.substatus).toBe(current.substatus);
        if (current.status === 'New' && next.status === 'New') {
          expect(SUBSTATUS_RANK[next.substatus ?? ''] ?? 0).toBeGreaterThanOrEqual(
            SUBSTATUS_RANK[current.substatus ?? ''] ?? 0,
          );
        }
        expect(SUBSTATUS_BY_STATUS[next.status ?? '']).toContain(next.substatus);
        if (next.status === 'Active') expect(next.acceptedDateTime).not.toBeNull();
        statusesSeen.add(`${current.status}->${next.status}`);
        current = next;
        at = Math.max(at, epoch(current.updatedDateTime));
      }
    }
    for (const move of ['New->Active', 'New->Closed', 'Active->Closed', 'Active->Active', 'Closed->Closed']) {
      expect(statusesSeen).toContain(move);
    }
  });

  it('expires an unanswered incoming referral at its deadline, stamped exactly at `at`', () => {
    const random = createRandom(5);
    const ctx = createGeneratorContext({ seed: 5 });
    let incoming: Referral | undefined;
    for (let i = 0; !incoming; i++) {
      const r = createReferral(random, i, new Date('2026-03-01T08:00:00Z'), ctx);
      if (r.direction === 'Incoming') incoming = r;
    }
    const at = new Date('2026-03-16T02:00:00Z');
    const expired = updateReferral(incoming, random, at);
    expect([expired.status, expired.substatus]).toEqual(['Closed', 'Expired']);
    expect(expired.updatedDateTime).toBe('2026-03-16T02:00:00.0000000Z');
    expect(incoming.status).toBe('New');
  });

  it('copes with a minimal referral from a file and keeps its unknown fields', () => {
    const minimal: Referral = {
      id: 'x-1',
      createdDateTime: '2026-01-01T00:00:00Z',
      updatedDateTime: '2026-01-02T00:00:00.5Z',
      somethingNew: { nested: [1, 2] },
    };
    const next = updateReferral(minimal, createRandom(1), new Date('2026-01-01T00:00:00Z'));
    expect(next.somethingNew).toEqual({ nested: [1, 2] });
    expect(canonical(next.updatedDateTime) > canonical(minimal.updatedDateTime)).toBe(true);
    expect(next.id).toBe('x-1');
  });
});

describe('loadReferralsFile', () => {
  let dir = '';
  const sample = generateReferrals({ count: 120, seed: 8 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'referrals-generator-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text, 'utf8');
    return path;
  }

  it('reads a JSON array', async () => {
    expect(await loadReferralsFile(await file('array.json', JSON.stringify(sample, null, 2)))).toEqual(sample);
  });

  it('reads an OData envelope, pretty or on one line, with a BOM', async () => {
    const envelope = { '@odata.context': 'x', '@odata.count': sample.length, value: sample };
    expect(await loadReferralsFile(await file('envelope.json', JSON.stringify(envelope, null, 2)))).toEqual(sample);
    expect(await loadReferralsFile(await file('one-line.txt', `\ufeff${JSON.stringify(envelope)}`))).toEqual(sample);
  });

  it('reads NDJSON by extension or by sniffing, ignoring blank lines and CRLF', async () => {
    const lines = sample.map((r) => JSON.stringify(r));
    const text = `${lines.slice(0, 60).join('\n')}\n\n   \n${lines.slice(60).join('\r\n')}\r\n`;
    expect(await loadReferralsFile(await file('book.ndjson', text))).toEqual(sample);
    expect(await loadReferralsFile(await file('book.jsonl', text))).toEqual(sample);
    expect(await loadReferralsFile(await file('book.data', text))).toEqual(sample);
    expect(await loadReferralsFile(await file('empty.ndjson', '\n'))).toEqual([]);
  });

  it('names the file and line of a broken NDJSON line', async () => {
    const lines = sample.slice(0, 4).map((r) => JSON.stringify(r));
    lines[2] = '{"id": "broken", ';
    const path = await file('broken.ndjson', lines.join('\n'));
    await expect(loadReferralsFile(path)).rejects.toThrow(/broken\.ndjson: line 3\b/);
  });

  it('names the line of a syntax error in a JSON document', async () => {
    const text =
      '[\n  {"id": "a", "createdDateTime": "2026-01-01T00:00:00Z", "updatedDateTime": "2026-01-01T00:00:00Z"}\n  {"id": "b"}\n]';
    await expect(loadReferralsFile(await file('bad.json', text))).rejects.toThrow(/bad\.json: line 3, column 3/);
  });

  it('names the item that lacks a required field', async () => {
    const items = [
      { id: 'a', createdDateTime: '2026-01-01T00:00:00Z', updatedDateTime: '2026-01-01T00:00:00Z' },
      { createdDateTime: '2026-01-01T00:00:00Z', updatedDateTime: '2026-01-01T00:00:00Z' },
    ];
    await expect(loadReferralsFile(await file('no-id.json', JSON.stringify(items)))).rejects.toThrow(
      /no-id\.json: item 1: "id" must be a string/,
    );
    const ndjson = items.map((i) => JSON.stringify(i)).join('\n');
    await expect(loadReferralsFile(await file('no-id.ndjson', ndjson))).rejects.toThrow(/item 1 \(line 2\)/);
    const badTime = [{ id: 'a', createdDateTime: 'yesterday', updatedDateTime: '2026-01-01T00:00:00Z' }];
    await expect(loadReferralsFile(await file('bad-time.json', JSON.stringify(badTime)))).rejects.toThrow(
      /item 0: "createdDateTime" is not an ISO-8601 timestamp/,
    );
    await expect(loadReferralsFile(await file('scalar.json', '[1]'))).rejects.toThrow(/item 0: expected a JSON object/);
    await expect(loadReferralsFile(await file('object.json', '{\n"items": []\n}'))).rejects.toThrow(/"value" array/);
  });
});

describe('generateReferrals: speed', () => {
  it('makes 200,000 referrals (time logged, not asserted)', () => {
    const started = performance.now();
    const big = generateReferrals({ count: 200_000, seed: 2 });
    const ms = performance.now() - started;
    console.log(`generateReferrals: 200,000 referrals in ${Math.round(ms)} ms`);
    expect(big).toHaveLength(200_000);
  });
});

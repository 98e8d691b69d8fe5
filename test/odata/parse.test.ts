import { describe, expect, it } from 'vitest';
import { matches } from '../../sandbox/odata-eval.js';
import { BadQueryError } from '../../src/common/errors.js';
import { formatFilter, formatListQuery } from '../../src/odata/format.js';
import { parseFilter, parseListQuery, parseOrderBy } from '../../src/odata/parse.js';
import { thrownBy } from '../helpers/errors.js';

const EXAMPLE_FILTERS = [
  "(type eq 'Shared' and direction eq 'Incoming')",
  "(direction eq 'Incoming' and substatus eq 'Pending')",
  "status eq 'Active' and direction eq 'Outgoing' and type eq 'Shared' and team/any(t:t/email eq 'r2d2@contoso.com')",
  "engagementId eq '65edc0b5-3485-41b7-a17e-dfa9ef4706e2'",
  "status eq 'New' and qualification eq 'SalesQualified'",
  "customerProfile/address/country eq 'US' and direction eq 'Incoming'",
];

const badQuery = (fn: () => unknown) => thrownBy(BadQueryError, fn);

describe('parseFilter', () => {
  it.each(EXAMPLE_FILTERS)('parses the documented filter %s and formats it back to an equivalent one', (text) => {
    const expr = parseFilter(text);
    expect(parseFilter(formatFilter(expr))).toEqual(expr);
  });

  it('maps the lambda of example 3 onto a relative path', () => {
    const expr = parseFilter("team/any(t:t/email eq 'r2d2@contoso.com')");
    expect(expr).toEqual({
      kind: 'lambda',
      quantifier: 'any',
      path: ['team'],
      variable: 't',
      predicate: { kind: 'compare', op: 'eq', path: ['email'], value: { type: 'string', value: 'r2d2@contoso.com' } },
    });
  });

  it('unescapes doubled quotes and keeps unicode', () => {
    const expr = parseFilter("customerProfile/name eq 'O''Brien 😀 شركة'");
    expect(expr).toMatchObject({ value: { type: 'string', value: "O'Brien 😀 شركة" } });
    expect(formatFilter(expr)).toBe("customerProfile/name eq 'O''Brien 😀 شركة'");
  });

  it('binds not tighter than and/or, as OData requires', () => {
    const expr = parseFilter("not status eq 'New' and direction eq 'Incoming'");
    expect(expr.kind).toBe('and');
    const row = { status: 'Active', direction: 'Incoming' };
    expect(matches(expr, row)).toBe(true);
    expect(matches(expr, { status: 'New', direction: 'Incoming' })).toBe(false);
    expect(matches(parseFilter("not (status eq 'New' and direction eq 'Outgoing')"), row)).toBe(true);
  });

  it('canonicalises date-time literals to seven fractional digits in UTC', () => {
    const expr = parseFilter('updatedDateTime ge 2020-10-30T23:03:00.5+02:00');
    expect(expr).toMatchObject({ value: { type: 'datetime', value: '2020-10-30T21:03:00.5000000Z' } });
  });

  it('mirrors a literal on the left', () => {
    expect(parseFilter("'US' eq customerProfile/address/country")).toEqual(
      parseFilter("customerProfile/address/country eq 'US'"),
    );
    expect(parseFilter('2020-01-01T00:00:00Z lt createdDateTime')).toMatchObject({ op: 'gt' });
  });

  it.each([
    ['unknown property', "nope eq 'x'", "'nope' is not a property"],
    ['function', "contains(name,'a')", "function 'contains'"],
    ['substringof', "substringof('a', name)", 'substringof'],
    ['type mismatch', "createdDateTime eq 'yesterday'", 'is a datetime'],
    ['literal vs literal', "status eq 'New' or 1 eq 1", 'two literals'],
    ['property vs property', 'status eq substatus', 'one property with one literal'],
    ['unbalanced', "(status eq 'New'", 'not valid OData'],
    ['unterminated string', "status eq 'New", 'not valid OData'],
    ['object compared', "customerProfile eq 'x'", 'is a object'],
    ['any over a non-collection', "status/any(s:s eq 'x')", 'not'],
    ['ordering on boolean', 'favorite gt true', 'only eq and ne'],
    ['control character', "status eq 'a\u0001'", 'control character'],
    ['has operator', "status has 'x'", "'has'"],
    ['arithmetic', 'details/dealValue add 1 eq 2', 'not supported'],
    ['date literal', 'createdDateTime ge 2020-01-01', 'is a date'],
  ])('rejects %s', (_label, text, fragment) => {
    const error = badQuery(() => parseFilter(text));
    expect(error.target).toBe('$filter');
    expect(error.message).toContain(fragment);
  });

  it('rejects a filter longer than the limit', () => {
    const long = `status eq '${'x'.repeat(10_000)}'`;
    expect(badQuery(() => parseFilter(long)).message).toMatch(/at most 4096/);
  });
});

describe('parseListQuery', () => {
  it('parses the documented example request', () => {
    const query = parseListQuery({
      $top: '10',
      $filter: "(type eq 'Shared' and direction eq 'Incoming')",
      $orderby: 'createdDateTime desc',
    });
    expect(query.top).toBe(10);
    expect(query.orderBy).toEqual({ field: 'createdDateTime', direction: 'desc' });
    expect(formatListQuery(query)).toEqual({
      $filter: "type eq 'Shared' and direction eq 'Incoming'",
      $orderby: 'createdDateTime desc',
      $top: '10',
    });
  });

  it.each([
    [{ $top: '-1' }, '$top'],
    [{ $top: 'ten' }, '$top'],
    [{ $skip: '1.5' }, '$skip'],
    [{ $select: 'id,nope' }, '$select'],
    [{ $count: 'yes' }, '$count'],
    [{ $orderby: 'name asc' }, '$orderby'],
    [{ $orderby: 'createdDateTime sideways' }, '$orderby'],
  ])('rejects %j naming %s', (params, target) => {
    expect(badQuery(() => parseListQuery(params)).target).toBe(target);
  });

  it('accepts both order-by fields in both directions', () => {
    expect(parseOrderBy('updatedDateTime')).toEqual({ field: 'updatedDateTime', direction: 'asc' });
    expect(parseOrderBy('updatedDateTime DESC')).toEqual({ field: 'updatedDateTime', direction: 'desc' });
  });
});

describe('matches (sandbox evaluation)', () => {
  const referral = {
    id: 'a',
    status: 'Active',
    createdDateTime: '2020-10-30T21:03:00.1234567Z',
    details: { dealValue: '10000' },
    customerProfile: { address: { country: 'US' } },
    team: [{ email: 'r2d2@contoso.com' }, { email: 'c3po@contoso.com' }],
  };

  it('compares date-times at seven-digit precision', () => {
    expect(matches(parseFilter('createdDateTime gt 2020-10-30T21:03:00.1234566Z'), referral)).toBe(true);
    expect(matches(parseFilter('createdDateTime gt 2020-10-30T21:03:00.1234567Z'), referral)).toBe(false);
    expect(matches(parseFilter('createdDateTime ge 2020-10-30T21:03:00.1234567Z'), referral)).toBe(true);
  });

  it('compares a numeric string as a number and treats missing values as null', () => {
    expect(matches(parseFilter('details/dealValue gt 9999.5'), referral)).toBe(true);
    expect(matches(parseFilter('expirationDateTime eq null'), referral)).toBe(true);
    expect(matches(parseFilter("substatus ne 'Pending'"), referral)).toBe(true);
    expect(matches(parseFilter("substatus eq 'Pending'"), referral)).toBe(false);
  });

  it('evaluates any and all over collections', () => {
    expect(matches(parseFilter("team/any(t:t/email eq 'c3po@contoso.com')"), referral)).toBe(true);
    expect(matches(parseFilter("team/all(t:t/email eq 'c3po@contoso.com')"), referral)).toBe(false);
    expect(matches(parseFilter("customerProfile/team/any(t:t/email eq 'x')"), referral)).toBe(false);
  });
});

/**
 * The list endpoint's query parameters, declared once as data: the handler accepts exactly these
 * (anything else is a 400 naming it), and the OpenAPI description is generated from the same
 * declarations, so the two cannot drift apart.
 *
 * Friendly parameters build FilterExpr nodes (src/odata/ast.ts), the same tree the `$filter` parser
 * produces; a value is always a literal in that tree, never query text, so `New' or status ne 'x`
 * is just a status nothing has.
 */
import { BadQueryError } from '../common/errors.js';
import { canonicalTimestamp } from '../common/time.js';
import { compare, type FilterExpr } from '../odata/ast.js';
import {
  DIRECTION,
  REFERRAL_QUALIFICATION,
  REFERRAL_STATUS,
  REFERRAL_SUBSTATUS,
  REFERRAL_TYPE,
} from '../schema/referral-resource.js';

/** Longest value accepted for a friendly parameter (a status, a country code, an e-mail address). */
export const MAX_FRIENDLY_VALUE_LENGTH = 320;

export interface FriendlyParam {
  readonly name: string;
  /** Short label Power Automate shows (`x-ms-summary`), in title case. */
  readonly summary: string;
  readonly description: string;
  readonly format?: 'date-time';
  /** Known values (documented; the API is not bound to them, so they are not enforced here). */
  readonly values?: readonly string[];
  /** A value to show (`x-example`) where there are no known values; a test sends it live. */
  readonly example?: string;
  /** The filter clause for a value already checked for length and control characters. */
  build(value: string): FilterExpr;
}

const str = (value: string) => ({ type: 'string' as const, value });

function equals(path: string): (value: string) => FilterExpr {
  return (value) => compare(path, 'eq', str(value));
}

function dateBound(param: string, path: string, op: 'ge' | 'lt'): (value: string) => FilterExpr {
  return (value) => {
    // A bare date means its midnight UTC, so createdFrom=2026-11-01&createdTo=2026-12-01 is November.
    const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
    const canonical = canonicalTimestamp(text);
    if (!canonical) {
      throw new BadQueryError(param, `${param} must be a date-time such as 2026-11-01T00:00:00Z or a date 2026-11-01`);
    }
    return compare(path, op, { type: 'datetime', value: canonical });
  };
}

export const FRIENDLY_PARAMS: readonly FriendlyParam[] = [
  {
    name: 'status',
    summary: 'Status',
    description: 'Referral status (status eq …).',
    values: REFERRAL_STATUS,
    build: equals('status'),
  },
  {
    name: 'substatus',
    summary: 'Substatus',
    description: 'Referral substatus (substatus eq …); Pending = not yet responded to.',
    values: REFERRAL_SUBSTATUS,
    build: equals('substatus'),
  },
  {
    name: 'type',
    summary: 'Type',
    description: 'Independent (one partner) or Shared (co-sell).',
    values: REFERRAL_TYPE,
    build: equals('type'),
  },
  {
    name: 'direction',
    summary: 'Direction',
    description: 'Incoming (sent to you) or Outgoing (your organisation started it).',
    values: DIRECTION,
    build: equals('direction'),
  },
  {
    name: 'qualification',
    summary: 'Qualification',
    description: 'Where the referral comes from (qualification eq …).',
    values: REFERRAL_QUALIFICATION,
    build: equals('qualification'),
  },
  {
    name: 'country',
    summary: 'Customer Country',
    description: "Customer's country, ISO code such as US (customerProfile/address/country eq …).",
    example: 'US',
    build: equals('customerProfile/address/country'),
  },
  {
    name: 'createdFrom',
    summary: 'Created From',
    description: 'Created at or after this instant (UTC; a bare date means its midnight).',
    format: 'date-time',
    example: '2026-11-01T00:00:00Z',
    build: dateBound('createdFrom', 'createdDateTime', 'ge'),
  },
  {
    name: 'createdTo',
    summary: 'Created Before',
    description: 'Created before this instant (exclusive; UTC; a bare date means its midnight).',
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
    build: dateBound('createdTo', 'createdDateTime', 'lt'),
  },
  {
    name: 'updatedFrom',
    summary: 'Updated From',
    description: 'Updated at or after this instant (UTC; a bare date means its midnight).',
    format: 'date-time',
    example: '2026-11-01T00:00:00Z',
    build: dateBound('updatedFrom', 'updatedDateTime', 'ge'),
  },
  {
    name: 'updatedTo',
    summary: 'Updated Before',
    description: 'Updated before this instant (exclusive; UTC; a bare date means its midnight).',
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
    build: dateBound('updatedTo', 'updatedDateTime', 'lt'),
  },
  {
    name: 'assignedTo',
    summary: 'Assigned to (E-mail)',
    description: "E-mail of a member of the partner's sales team (team/any(t:t/email eq …)).",
    example: 'r2d2@contoso.com',
    build: (value) => ({
      kind: 'lambda',
      quantifier: 'any',
      path: ['team'],
      variable: 't',
      predicate: compare('email', 'eq', str(value)),
    }),
  },
];

export const FORMATS = ['json', 'ndjson', 'csv'] as const;
export type OutputFormat = (typeof FORMATS)[number];
export const SHAPES = ['flat', 'raw'] as const;
export type OutputShape = (typeof SHAPES)[number];

export const DEFAULT_MAX_ITEMS = 1000;
/** One answer stops here and hands back a continuation: the front end cuts a response at 230 s. */
export const MAX_MAX_ITEMS = 50_000;
export const MAX_TOP = 1_000_000;

export interface OptionParam {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly type: 'string' | 'integer';
  readonly values?: readonly string[];
  /** A value to show (`x-example`) where there are no values or default; a test sends it live. */
  readonly example?: string | number;
  readonly default?: string | number;
  readonly maximum?: number;
  /** Shown in Power Automate's advanced options only. */
  readonly advanced?: boolean;
  /** Not shown to flow authors at all (the connector fills it). */
  readonly internal?: boolean;
}

/** The raw OData options and the output options, in the order the OpenAPI lists them. */
export const OPTION_PARAMS: readonly OptionParam[] = [
  {
    name: '$filter',
    summary: 'Filter (OData)',
    description:
      "OData $filter on referral fields: eq ne gt ge lt le, and or not, parentheses, team/any(t:t/email eq '…'); " +
      'parsed and checked against the referral model, combined with the other filters by and.',
    type: 'string',
    example: "status eq 'Active' and direction eq 'Incoming'",
    advanced: true,
  },
  {
    name: '$orderby',
    summary: 'Order By',
    description: 'createdDateTime or updatedDateTime, asc or desc.',
    type: 'string',
    values: ['createdDateTime asc', 'createdDateTime desc', 'updatedDateTime asc', 'updatedDateTime desc'],
    advanced: true,
  },
  {
    name: '$top',
    summary: 'Top',
    description: 'Return at most this many referrals in all (across pages).',
    type: 'integer',
    example: 10,
    maximum: MAX_TOP,
    advanced: true,
  },
  {
    name: '$select',
    summary: 'Select',
    description:
      "Comma-separated names. shape=flat (default): columns of the lake's referrals row, answered in the order " +
      'named (the csv header too), such as referral_id, status, created_date_time, customer_name. shape=raw: ' +
      'top-level referral properties, such as id, status, createdDateTime.',
    type: 'string',
    example: 'referral_id,status,created_date_time',
    advanced: true,
  },
  {
    name: 'format',
    summary: 'Format',
    description: 'json ({ value, count, nextLink }), ndjson (one object a line) or csv (shape=flat only).',
    type: 'string',
    values: FORMATS,
    default: 'json',
    advanced: true,
  },
  {
    name: 'shape',
    summary: 'Shape',
    description:
      "flat: the lake's referrals row (scalar columns; the team, products and other arrays are in the lake's " +
      'child tables, not here); raw: the referral as Partner Center sends it.',
    type: 'string',
    values: SHAPES,
    default: 'flat',
    advanced: true,
  },
  {
    name: 'maxItems',
    summary: 'Page Size',
    description: `Referrals in one answer at most; more come through nextLink (at most ${MAX_MAX_ITEMS}).`,
    type: 'integer',
    default: DEFAULT_MAX_ITEMS,
    maximum: MAX_MAX_ITEMS,
    advanced: true,
  },
  {
    name: 'continuation',
    summary: 'Continuation',
    description: 'Opaque token from a nextLink; it carries the whole query, so no other parameter goes with it.',
    type: 'string',
    internal: true,
  },
];

/** Referral ids are GUIDs; anything else cannot name one and is not sent upstream. */
export const REFERRAL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Azure's function key in the query string; accepted beside every other parameter. */
export const KEY_PARAM = 'code';

export const LIST_PARAM_NAMES: readonly string[] = [
  ...FRIENDLY_PARAMS.map((p) => p.name),
  ...OPTION_PARAMS.map((p) => p.name),
  KEY_PARAM,
];

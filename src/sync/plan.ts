/**
 * What a run asks Partner Center for. Full runs take every referral, optionally split into date
 * ranges fetched side by side; incremental runs take what changed since the watermark, minus an
 * overlap (clocks and in-flight updates), and rely on dedupe by id for what comes twice.
 */
import { allOf, compare, type FilterExpr, type ListQuery, type OrderByField } from '../odata/ast.js';

/**
 * full: every referral; incremental: those updated since the watermark; event: the referrals that
 * Partner Center's webhook events named, each fetched by id.
 */
export type SyncMode = 'full' | 'incremental' | 'event';

export interface Range {
  /** Inclusive lower bound (canonical timestamp), none for the first range. */
  readonly from?: string;
  /** Exclusive upper bound, none for the last range. */
  readonly to?: string;
}

export interface ExtractPlan {
  readonly mode: SyncMode;
  /** One listing per range; pages inside a listing are fetched in order, as nextLink demands. */
  readonly queries: readonly ListQuery[];
  /** For range plans: each query's bounds, so the extractor can split a long range while it runs. */
  readonly ranges?: {
    readonly field: OrderByField;
    readonly bounds: readonly Range[];
    readonly min: string;
    readonly max: string;
  };
  /** The filter the run applied, for the manifest. */
  readonly description: string;
  /** Event plans: the referrals to fetch by id (no listing). */
  readonly referralIds?: readonly string[];
}

export interface PlanOptions {
  readonly pageSize: number;
  /** Field that splits a full pull into ranges (createdDateTime is not documented as filterable). */
  readonly rangeField: OrderByField;
  /** How many ranges; 1 = one sequential listing. */
  readonly ranges: number;
  /** Oldest and newest value of rangeField in the book, from a probe; needed when ranges > 1. */
  readonly bounds?: { readonly min: string; readonly max: string };
}

export function planFull(options: PlanOptions): ExtractPlan {
  const order = { field: options.rangeField, direction: 'asc' } as const;
  if (options.ranges <= 1 || !options.bounds) {
    return { mode: 'full', queries: [{ orderBy: order, top: options.pageSize }], description: 'every referral' };
  }
  const bounds = splitRange(options.bounds.min, options.bounds.max, options.ranges);
  const queries = bounds.map((range) => rangeQuery(options.rangeField, range, options.pageSize));
  return {
    mode: 'full',
    queries,
    ranges: { field: options.rangeField, bounds, min: options.bounds.min, max: options.bounds.max },
    description: `every referral, in ${queries.length} ${options.rangeField} ranges`,
  };
}

/** The listing of one range, in ascending order of its field. */
export function rangeQuery(field: OrderByField, range: Range, pageSize: number): ListQuery {
  return { filter: rangeFilter(field, range), orderBy: { field, direction: 'asc' }, top: pageSize };
}

/** The referrals events named, each fetched by id: no listing, no paging. */
export function planEvent(referralIds: readonly string[]): ExtractPlan {
  const ids = [...new Set(referralIds)];
  return {
    mode: 'event',
    queries: [],
    referralIds: ids,
    description: `${ids.length} referral(s) named by Partner Center events`,
  };
}

export function planIncremental(since: string, options: Pick<PlanOptions, 'pageSize'>): ExtractPlan {
  return {
    mode: 'incremental',
    queries: [
      {
        filter: compare('updatedDateTime', 'ge', { type: 'datetime', value: since }),
        orderBy: { field: 'updatedDateTime', direction: 'asc' },
        top: options.pageSize,
      },
    ],
    description: `referrals updated since ${since}`,
  };
}

/**
 * Splits [min, max] into `count` equal time slices. The first is open below and the last open above,
 * so referrals created before the probe's oldest or after its newest (during the run) still belong
 * to exactly one range.
 */
export function splitRange(min: string, max: string, count: number): Range[] {
  const start = Date.parse(min);
  const end = Date.parse(max);
  if (!(end > start) || count <= 1) return [{}];
  const step = (end - start) / count;
  const cuts = Array.from({ length: count - 1 }, (_, i) => new Date(Math.round(start + step * (i + 1))).toISOString());
  return Array.from({ length: count }, (_, i) => ({
    ...(i > 0 ? { from: canonical(cuts[i - 1]) } : {}),
    ...(i < count - 1 ? { to: canonical(cuts[i]) } : {}),
  }));
}

function canonical(iso: string | undefined): string {
  return `${(iso ?? '').slice(0, 23)}0000Z`;
}

function rangeFilter(field: OrderByField, range: Range): FilterExpr | undefined {
  return allOf([
    ...(range.from ? [compare(field, 'ge', { type: 'datetime', value: range.from })] : []),
    ...(range.to ? [compare(field, 'lt', { type: 'datetime', value: range.to })] : []),
  ]);
}

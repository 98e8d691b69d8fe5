/**
 * The functions behind `[derived]` and `[lineage]` columns (tables.ts maps columns to them).
 *
 * Everything here is relative to the run's extraction instant, never the clock: the same referral
 * and run give the same row whenever it is normalized again.
 */

import { RESPONSE_WINDOW_DAYS } from './referral-resource.js';
import type { Cell, Row } from './table.js';
import type { ChildTableName } from './tables.js';

export const DAY_MICROS = 86_400_000_000;

export interface DeriveContext {
  /** The row so far: its path columns, converted, and the derived columns declared before this one. */
  readonly row: Readonly<Record<string, Cell>>;
  /** The referral's child rows by table; null when the array was absent, null or unreadable. */
  readonly children: Readonly<Record<ChildTableName, readonly Row[] | null>>;
  /** The run's extraction instant, epoch microseconds. */
  readonly extractedAtMicros: number;
}

export type DeriveFn = (ctx: DeriveContext) => Cell;

export interface LineageContext {
  readonly runId: string;
  readonly extractedAtMicros: number;
  /** The referral's updatedDateTime in microseconds; null when it did not parse. */
  readonly sourceUpdatedMicros: number | null;
}

export type LineageFn = (ctx: LineageContext) => Cell;

export const runIdLineage: LineageFn = (ctx) => ctx.runId;
export const extractedAtLineage: LineageFn = (ctx) => ctx.extractedAtMicros;
export const sourceUpdatedLineage: LineageFn = (ctx) => ctx.sourceUpdatedMicros;

/**
 * The ids of a child table joined with commas, in array order, for Power BI slicers and LIKE
 * filters; null when there are none. Taxonomy ids contain no commas; the child table stays the
 * exact form.
 */
export function idList(table: ChildTableName, column: string): DeriveFn {
  return function joinChildIds(ctx) {
    const rows = ctx.children[table];
    if (!rows) return null;
    const ids: string[] = [];
    for (const row of rows) {
      const id = row[column];
      if (typeof id === 'string' && id !== '') ids.push(id);
    }
    return ids.length > 0 ? ids.join(',') : null;
  };
}

/** Rows of a child table; null (unknown) rather than 0 when the array was not sent. */
export function rowCount(table: ChildTableName): DeriveFn {
  return function countChildRows(ctx) {
    const rows = ctx.children[table];
    return rows ? rows.length : null;
  };
}

/**
 * Response deadline of a referral still waiting for our answer (Incoming, status New): the API's
 * expirationDateTime when present, else created + RESPONSE_WINDOW_DAYS (list-referrals.md,
 * "Business rule"; referrals-api.md). Null for everything else: nothing to respond to.
 */
export const respondBy: DeriveFn = function respondBy({ row }) {
  if (row.direction !== 'Incoming' || row.status !== 'New') return null;
  if (typeof row.expiration_date_time === 'number') return row.expiration_date_time;
  return typeof row.created_date_time === 'number' ? row.created_date_time + RESPONSE_WINDOW_DAYS * DAY_MICROS : null;
};

/** Whole days left to respond; floor, so 0 means "less than a day" and -1 "overdue by less than a day". */
export const daysToRespond: DeriveFn = function daysToRespond({ row, extractedAtMicros }) {
  return typeof row.respond_by === 'number' ? Math.floor((row.respond_by - extractedAtMicros) / DAY_MICROS) : null;
};

/** Pending and due within `days` of extraction, or already past due: the list sales ops works through. */
export function isExpiredRisk(days: number): DeriveFn {
  return function isExpiredRisk({ row, extractedAtMicros }) {
    return typeof row.respond_by === 'number' && row.respond_by - extractedAtMicros <= days * DAY_MICROS;
  };
}

/** Whole days since creation; negative only if the source's clock is ahead of the run's. */
export const ageDays: DeriveFn = function ageDays({ row, extractedAtMicros }) {
  return typeof row.created_date_time === 'number'
    ? Math.floor((extractedAtMicros - row.created_date_time) / DAY_MICROS)
    : null;
};

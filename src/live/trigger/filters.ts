/**
 * The trigger's filters: the list's friendly parameters a flow picks a change by (params.ts), applied
 * to the lake's rows instead of sent to Partner Center. Each builds the same FilterExpr as for the
 * list; its property path names the flat column whose source it is (tables.ts), and the comparison is
 * the API's: string equality, case-sensitive.
 */
import type { FilterExpr } from '../../odata/ast.js';
import type { Cell, Row } from '../../schema/table.js';
import { REFERRAL_VERSIONS } from '../../schema/tables.js';
import { FRIENDLY_PARAMS, type FriendlyParam } from '../params.js';

const NAMES = ['direction', 'status', 'substatus', 'type', 'qualification', 'country'] as const;

export const TRIGGER_FILTERS: readonly FriendlyParam[] = NAMES.map((name) => {
  const param = FRIENDLY_PARAMS.find((p) => p.name === name);
  if (!param) throw new Error(`no friendly parameter ${name}`);
  return param;
});

/** Filter values by parameter name, as the flow set them. */
export type TriggerFilters = Readonly<Record<string, string>>;

const COLUMN_BY_SOURCE: ReadonlyMap<string, string> = new Map(
  REFERRAL_VERSIONS.columns.map((column) => [column.source, column.name]),
);

/** A test of a row for every filter given (all must hold); every row when none is. */
export function rowMatcher(filters: TriggerFilters): (row: Row) => boolean {
  const tests = TRIGGER_FILTERS.filter((param) => filters[param.name] !== undefined).map((param) =>
    cellTest(param.build(filters[param.name] as string)),
  );
  return (row) => tests.every((test) => test(row));
}

function cellTest(expr: FilterExpr): (row: Row) => boolean {
  if (expr.kind !== 'compare' || expr.op !== 'eq' || expr.value.type !== 'string') {
    throw new Error('a trigger filter must be string equality on one column');
  }
  const column = COLUMN_BY_SOURCE.get(expr.path.join('/'));
  if (!column) throw new Error(`no flat column holds ${expr.path.join('/')}`);
  const wanted: Cell = expr.value.value;
  return (row) => row[column] === wanted;
}

/**
 * The subset of OData `$filter` this project understands, as a small typed tree. Parsing goes
 * through a kept parser package (see parse.ts); everything after that (validation, evaluation in the
 * sandbox, rebuilding query text for the upstream call) works on this tree, never on strings.
 */

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type Literal =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  /** Canonical UTC text with seven fractional digits (see common/time.ts). */
  | { readonly type: 'datetime'; readonly value: string }
  | { readonly type: 'null' };

export type FilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: FilterExpr; readonly right: FilterExpr }
  | { readonly kind: 'not'; readonly operand: FilterExpr }
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOperator;
      /** Property path; inside a lambda it is relative to the lambda variable. */
      readonly path: readonly string[];
      readonly value: Literal;
    }
  | {
      readonly kind: 'lambda';
      readonly quantifier: 'any' | 'all';
      /** Path of the collection property. */
      readonly path: readonly string[];
      readonly variable: string;
      readonly predicate: FilterExpr;
    };

export type OrderByField = 'createdDateTime' | 'updatedDateTime';
export const ORDER_BY_FIELDS: readonly OrderByField[] = ['createdDateTime', 'updatedDateTime'];

export interface OrderBy {
  readonly field: OrderByField;
  readonly direction: 'asc' | 'desc';
}

/** A list request's OData options, parsed and validated. */
export interface ListQuery {
  readonly filter?: FilterExpr;
  readonly orderBy?: OrderBy;
  readonly top?: number;
  readonly skip?: number;
  readonly select?: readonly string[];
  readonly count?: boolean;
}

export const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'and', left, right });
export const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'or', left, right });
export const not = (operand: FilterExpr): FilterExpr => ({ kind: 'not', operand });
export const compare = (path: string | readonly string[], op: ComparisonOperator, value: Literal): FilterExpr => ({
  kind: 'compare',
  op,
  path: typeof path === 'string' ? path.split('/') : path,
  value,
});

/** Joins clauses with `and`; undefined when there are none. */
export function allOf(clauses: readonly FilterExpr[]): FilterExpr | undefined {
  return clauses.reduce<FilterExpr | undefined>((acc, c) => (acc ? and(acc, c) : c), undefined);
}

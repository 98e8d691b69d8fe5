/**
 * FilterExpr / ListQuery → OData query text. Queries sent upstream are always rebuilt from the
 * tree by these functions, so a value can never become syntax: every string literal is quoted with
 * `'` doubled, and every nested and/or is parenthesised.
 */
import type { FilterExpr, ListQuery, Literal } from './ast.js';

export function formatLiteral(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return `'${literal.value.replaceAll("'", "''")}'`;
    case 'number':
      return Number.isInteger(literal.value) ? String(literal.value) : literal.value.toString();
    case 'boolean':
      return literal.value ? 'true' : 'false';
    case 'datetime':
      return literal.value;
    case 'null':
      return 'null';
  }
}

export function formatFilter(expr: FilterExpr): string {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return `${formatOperand(expr.left, expr.kind)} ${expr.kind} ${formatOperand(expr.right, expr.kind)}`;
    case 'not':
      return `not (${formatFilter(expr.operand)})`;
    case 'compare':
      return `${expr.path.join('/')} ${expr.op} ${formatLiteral(expr.value)}`;
    case 'lambda':
      return `${expr.path.join('/')}/${expr.quantifier}(${expr.variable}:${formatFilter(prefixPaths(expr.predicate, expr.variable))})`;
  }
}

/** Inside a lambda, FilterExpr paths are relative to the variable; the text needs the prefix back. */
function prefixPaths(expr: FilterExpr, variable: string): FilterExpr {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return { ...expr, left: prefixPaths(expr.left, variable), right: prefixPaths(expr.right, variable) };
    case 'not':
      return { ...expr, operand: prefixPaths(expr.operand, variable) };
    case 'compare':
      return { ...expr, path: [variable, ...expr.path] };
    case 'lambda':
      return expr;
  }
}

function formatOperand(expr: FilterExpr, parent: 'and' | 'or'): string {
  const text = formatFilter(expr);
  return (expr.kind === 'and' || expr.kind === 'or') && expr.kind !== parent ? `(${text})` : text;
}

/** The OData options of a list request, ready for URLSearchParams (values not yet URL-encoded). */
export function formatListQuery(query: ListQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (query.filter) out.$filter = formatFilter(query.filter);
  if (query.orderBy) out.$orderby = `${query.orderBy.field} ${query.orderBy.direction}`;
  if (query.top !== undefined) out.$top = String(query.top);
  if (query.skip !== undefined) out.$skip = String(query.skip);
  if (query.select) out.$select = query.select.join(',');
  if (query.count !== undefined) out.$count = String(query.count);
  return out;
}

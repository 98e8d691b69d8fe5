/**
 * Evaluates a parsed $filter against one referral, the way the sandbox answers a list request.
 * Semantics follow OData: a comparison with a missing or null value is false (except `eq null`),
 * strings compare case-sensitively by code unit, date-times as instants (canonical text), and
 * any()/all() over a missing collection are false/true.
 */
import { canonicalTimestamp } from '../src/common/time.js';
import type { ComparisonOperator, FilterExpr, Literal } from '../src/odata/ast.js';

export function matches(expr: FilterExpr, item: unknown): boolean {
  switch (expr.kind) {
    case 'and':
      return matches(expr.left, item) && matches(expr.right, item);
    case 'or':
      return matches(expr.left, item) || matches(expr.right, item);
    case 'not':
      return !matches(expr.operand, item);
    case 'compare':
      return compareValue(valueAt(item, expr.path), expr.op, expr.value);
    case 'lambda': {
      const collection = valueAt(item, expr.path);
      const items = Array.isArray(collection) ? collection : [];
      return expr.quantifier === 'any'
        ? items.some((element) => matches(expr.predicate, element))
        : items.every((element) => matches(expr.predicate, element));
    }
  }
}

function valueAt(item: unknown, path: readonly string[]): unknown {
  let current = item;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function compareValue(actual: unknown, op: ComparisonOperator, literal: Literal): boolean {
  if (literal.type === 'null') {
    const isNull = actual === null || actual === undefined;
    return op === 'eq' ? isNull : !isNull;
  }
  if (actual === null || actual === undefined) return op === 'ne';
  const left = comparable(actual, literal.type);
  if (left === undefined) return op === 'ne';
  const right = literal.value;
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return left > right;
    case 'ge':
      return left >= right;
    case 'lt':
      return left < right;
    case 'le':
      return left <= right;
  }
}

/** Brings a wire value to the literal's type; undefined when it cannot be compared. */
function comparable(actual: unknown, type: Exclude<Literal['type'], 'null'>): string | number | boolean | undefined {
  switch (type) {
    case 'string':
      return typeof actual === 'string' ? actual : undefined;
    case 'number':
      if (typeof actual === 'number') return actual;
      // dealValue sometimes arrives as a string ("10000"); the service still compares it as a number.
      if (typeof actual === 'string' && actual.trim() !== '' && Number.isFinite(Number(actual))) return Number(actual);
      return undefined;
    case 'boolean':
      return typeof actual === 'boolean' ? actual : undefined;
    case 'datetime':
      return typeof actual === 'string' ? canonicalOnce(actual) : undefined;
  }
}

/**
 * Range filters compare the same few timestamp strings on every page of every pass; parsing each
 * with a regex was most of the sandbox's CPU. The cache holds at most one entry per distinct string.
 */
const canonicalCache = new Map<string, string | undefined>();
const CANONICAL_CACHE_LIMIT = 2_000_000;

function canonicalOnce(text: string): string | undefined {
  let value = canonicalCache.get(text);
  if (value === undefined && !canonicalCache.has(text)) {
    if (canonicalCache.size >= CANONICAL_CACHE_LIMIT) canonicalCache.clear();
    value = canonicalTimestamp(text);
    canonicalCache.set(text, value);
  }
  return value;
}

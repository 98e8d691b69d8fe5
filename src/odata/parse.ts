/**
 * OData query options → validated ListQuery. The grammar is @odata/parser's (chosen over
 * odata-v4-parser, which it forks: both build the same trees for every filter tried here, but
 * @odata/parser ships types, is maintained, and also parses whole query strings). This module only
 * maps its token tree onto our FilterExpr and checks it against the resource model; anything it
 * does not recognise is a BadQueryError that names the offending part, never a guess.
 */
import odataParser from '@odata/parser';
import { BadQueryError } from '../common/errors.js';
import { canonicalTimestamp } from '../common/time.js';
import { type Field, REFERRAL_FIELDS, resolveFieldPath } from '../schema/referral-resource.js';
import {
  type ComparisonOperator,
  type FilterExpr,
  type ListQuery,
  type Literal,
  ORDER_BY_FIELDS,
  type OrderBy,
  type OrderByField,
} from './ast.js';

/** The parser's token: a typed node whose `value` shape depends on `type`. */
interface Token {
  readonly type: string;
  readonly value: unknown;
  readonly raw?: string;
  readonly position?: number;
}

export interface ParseOptions {
  /** Field model to validate paths against; defaults to the Referral resource. */
  readonly fields?: readonly Field[];
  /** Longest accepted $filter text, in characters. */
  readonly maxFilterLength?: number;
  /** Largest accepted $top. */
  readonly maxTop?: number;
}

const DEFAULT_MAX_FILTER_LENGTH = 4096;
const MAX_NESTING = 32;

const COMPARISONS: Readonly<Record<string, ComparisonOperator>> = {
  EqualsExpression: 'eq',
  NotEqualsExpression: 'ne',
  GreaterThanExpression: 'gt',
  GreaterOrEqualsExpression: 'ge',
  LesserThanExpression: 'lt',
  LesserOrEqualsExpression: 'le',
};

/** Swapping operands (`'US' eq country`) mirrors the operator. */
const MIRRORED: Readonly<Record<ComparisonOperator, ComparisonOperator>> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'lt',
  ge: 'le',
  lt: 'gt',
  le: 'ge',
};

const NUMERIC_LITERALS = new Set([
  'Edm.SByte',
  'Edm.Byte',
  'Edm.Int16',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Decimal',
  'Edm.Double',
  'Edm.Single',
]);

/** Operator words as they appear in messages, for the expression types we refuse. */
const REFUSED_EXPRESSIONS: Readonly<Record<string, string>> = {
  HasExpression: "the 'has' operator",
  AddExpression: "the 'add' operator",
  SubExpression: "the 'sub' operator",
  MulExpression: "the 'mul' operator",
  DivExpression: "the 'div' operator",
  ModExpression: "the 'mod' operator",
  NegateExpression: 'negation',
  IsOfExpression: "the 'isof' function",
  CastExpression: "the 'cast' function",
};

/** Parses a `$filter` text into a validated FilterExpr. */
export function parseFilter(text: string, options: ParseOptions = {}): FilterExpr {
  const maxLength = options.maxFilterLength ?? DEFAULT_MAX_FILTER_LENGTH;
  if (text.length > maxLength) {
    throw new BadQueryError('$filter', `$filter is ${text.length} characters long; at most ${maxLength} are accepted`);
  }
  assertNoControlCharacters('$filter', text);
  if (text.trim() === '') throw new BadQueryError('$filter', '$filter is empty');
  let token: Token;
  try {
    token = odataParser.defaultParser.filter(text) as Token;
  } catch (error) {
    throw new BadQueryError('$filter', `$filter is not valid OData: ${describeParserError(error, text)}`, {
      cause: error,
    });
  }
  const converter = new FilterConverter(options.fields ?? REFERRAL_FIELDS);
  return converter.boolean(token, 0);
}

/** Parses the raw OData options of a list request (already URL-decoded) into a ListQuery. */
export function parseListQuery(params: Readonly<Record<string, string | undefined>>, options: ParseOptions = {}) {
  const query: {
    filter?: FilterExpr;
    orderBy?: OrderBy;
    top?: number;
    skip?: number;
    select?: readonly string[];
    count?: boolean;
  } = {};
  const { $filter, $orderby, $top, $skip, $select, $count } = params;
  if ($filter !== undefined) query.filter = parseFilter($filter, options);
  if ($orderby !== undefined) query.orderBy = parseOrderBy($orderby);
  if ($top !== undefined) query.top = parseNonNegativeInteger('$top', $top, options.maxTop);
  if ($skip !== undefined) query.skip = parseNonNegativeInteger('$skip', $skip);
  if ($select !== undefined) query.select = parseSelect($select, options.fields ?? REFERRAL_FIELDS);
  if ($count !== undefined) query.count = parseBooleanOption('$count', $count);
  return query satisfies ListQuery as ListQuery;
}

/** `$orderby`: one of the two documented date-time fields, asc (default) or desc. */
export function parseOrderBy(text: string): OrderBy {
  assertNoControlCharacters('$orderby', text);
  const parts = text.trim().split(/\s+/);
  const [field, direction = 'asc', ...rest] = parts;
  if (rest.length > 0 || text.includes(',')) {
    throw new BadQueryError('$orderby', `$orderby accepts one field; got '${text}'`);
  }
  if (!ORDER_BY_FIELDS.includes(field as OrderByField)) {
    throw new BadQueryError(
      '$orderby',
      `$orderby field '${field}' is not supported; use one of ${ORDER_BY_FIELDS.join(', ')}`,
    );
  }
  const dir = direction.toLowerCase();
  if (dir !== 'asc' && dir !== 'desc') {
    throw new BadQueryError('$orderby', `$orderby direction '${direction}' is neither asc nor desc`);
  }
  return { field: field as OrderByField, direction: dir };
}

/** `$select`: top-level properties of the resource, comma-separated. */
export function parseSelect(text: string, fields: readonly Field[] = REFERRAL_FIELDS): readonly string[] {
  const names = selectNames(text);
  for (const name of names) {
    if (!fields.some((f) => f.name === name)) {
      throw new BadQueryError('$select', `$select names '${truncate(name)}', which is not a property of a referral`);
    }
  }
  return names;
}

/** `$select` as a list of names, first mention kept, not yet checked against anything. */
export function selectNames(text: string): readonly string[] {
  assertNoControlCharacters('$select', text);
  const names = text.split(',').map((s) => s.trim());
  if (names.includes('')) throw new BadQueryError('$select', '$select has an empty item');
  return [...new Set(names)];
}

function parseNonNegativeInteger(option: string, text: string, max?: number): number {
  if (!/^\d{1,9}$/.test(text.trim())) {
    throw new BadQueryError(option, `${option} must be a whole number, got '${truncate(text)}'`);
  }
  const n = Number(text.trim());
  if (max !== undefined && n > max)
    throw new BadQueryError(option, `${option} is ${n}; the largest accepted is ${max}`);
  return n;
}

function parseBooleanOption(option: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new BadQueryError(option, `${option} must be true or false, got '${truncate(text)}'`);
}

function assertNoControlCharacters(option: string, text: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const at = text.search(/[\u0000-\u001f\u007f]/);
  if (at >= 0) {
    const code = text.charCodeAt(at).toString(16).padStart(4, '0');
    throw new BadQueryError(option, `${option} contains a control character (U+${code}) at position ${at}`);
  }
}

function describeParserError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = /at (\d+)/.exec(message);
  if (!at) return message;
  const pos = Number(at[1]);
  return `${message} (near '${truncate(text.slice(Math.max(0, pos - 10), pos + 20))}')`;
}

/** The caller's text cut short for a message: it can be of any length. */
export function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface Scope {
  /** Lambda variable name → fields of one collection item. */
  readonly variables: ReadonlyMap<string, readonly Field[]>;
}

/** Walks the parser's token tree and builds a validated FilterExpr. */
class FilterConverter {
  constructor(private readonly fields: readonly Field[]) {}

  boolean(token: Token, depth: number, scope: Scope = { variables: new Map() }): FilterExpr {
    if (depth > MAX_NESTING) throw this.error(token, `$filter nests deeper than ${MAX_NESTING} levels`);
    switch (token.type) {
      case 'CommonExpression':
      case 'BoolParenExpression':
      case 'ParenExpression':
        return this.boolean(token.value as Token, depth + 1, scope);
      case 'AndExpression':
      case 'OrExpression': {
        const { left, right } = token.value as { left: Token; right: Token };
        return {
          kind: token.type === 'AndExpression' ? 'and' : 'or',
          left: this.boolean(left, depth + 1, scope),
          right: this.boolean(right, depth + 1, scope),
        };
      }
      case 'NotExpression':
        return this.not(token.value as Token, depth + 1, scope);
      case 'FirstMemberExpression':
        return this.lambda(token, depth + 1, scope);
      case 'MethodCallExpression': {
        const method = (token.value as { method?: string }).method ?? 'a function';
        throw this.error(token, `the function '${method}' is not supported in $filter`);
      }
      default: {
        const op = COMPARISONS[token.type];
        if (op) return this.comparison(token, op, scope);
        const refused = REFUSED_EXPRESSIONS[token.type];
        throw this.error(token, `${refused ?? `'${token.raw ?? token.type}'`} is not supported in $filter`);
      }
    }
  }

  /**
   * @odata/parser gives `not` the lowest precedence (`not a and b` → `not (a and b)`), but OData
   * binds it tighter than `and`/`or`. So `not` is pushed onto the leftmost operand of an
   * unparenthesised and/or chain; parentheses (BoolParenExpression) stop the descent.
   */
  private not(operandToken: Token, depth: number, scope: Scope): FilterExpr {
    const inner = operandToken.type === 'CommonExpression' ? (operandToken.value as Token) : operandToken;
    if (inner.type === 'AndExpression' || inner.type === 'OrExpression') {
      const { left, right } = inner.value as { left: Token; right: Token };
      return {
        kind: inner.type === 'AndExpression' ? 'and' : 'or',
        left: this.not(left, depth + 1, scope),
        right: this.boolean(right, depth + 1, scope),
      };
    }
    return { kind: 'not', operand: this.boolean(inner, depth + 1, scope) };
  }

  private comparison(token: Token, op: ComparisonOperator, scope: Scope): FilterExpr {
    const { left, right } = token.value as { left: Token; right: Token };
    const l = unwrapParens(left);
    const r = unwrapParens(right);
    if (l.type === 'FirstMemberExpression' && r.type === 'Literal') return this.typedComparison(l, op, r, scope);
    if (l.type === 'Literal' && r.type === 'FirstMemberExpression') {
      return this.typedComparison(r, MIRRORED[op], l, scope);
    }
    if (l.type === 'Literal' && r.type === 'Literal') {
      throw this.error(token, `'${token.raw ?? ''}' compares two literals; compare a property with a value`);
    }
    throw this.error(token, `'${token.raw ?? ''}' is not supported; compare one property with one literal value`);
  }

  private typedComparison(member: Token, op: ComparisonOperator, literalToken: Token, scope: Scope): FilterExpr {
    const { path, field } = this.property(member, scope);
    const value = this.literal(literalToken);
    const where = path.join('/');
    if (value.type === 'null') {
      if (op !== 'eq' && op !== 'ne')
        throw this.error(literalToken, `'${where}' can only be compared with null by eq or ne`);
      return { kind: 'compare', op, path, value };
    }
    const expected = literalTypeFor(field);
    if (expected !== value.type) {
      throw this.error(literalToken, `'${where}' is a ${field.kind}; '${literalToken.raw ?? ''}' is a ${value.type}`);
    }
    if (value.type === 'boolean' && op !== 'eq' && op !== 'ne') {
      throw this.error(literalToken, `'${where}' is a boolean; only eq and ne apply`);
    }
    return { kind: 'compare', op, path, value };
  }

  /** `team/any(t: …)` and `all`, possibly under nested properties (`customerProfile/team/any(…)`). */
  private lambda(token: Token, depth: number, scope: Scope): FilterExpr {
    const walk = walkMember(token);
    if (!walk.lambda) {
      throw this.error(token, `'${token.raw ?? ''}' is a property, not a condition; compare it with a value`);
    }
    const field = this.resolve(token, walk.base, walk.path, scope);
    if (field.kind !== 'array') {
      throw this.error(token, `'${walk.path.join('/')}' is not a collection; any() and all() need one`);
    }
    const { quantifier, variable, predicate } = walk.lambda;
    if (scope.variables.has(variable)) throw this.error(token, `lambda variable '${variable}' is already in use`);
    const inner: Scope = { variables: new Map([...scope.variables, [variable, field.items]]) };
    return {
      kind: 'lambda',
      quantifier,
      path: walk.path,
      variable,
      predicate: this.boolean(predicate, depth + 1, inner),
    };
  }

  private property(member: Token, scope: Scope): { path: readonly string[]; field: Field } {
    const walk = walkMember(member);
    if (walk.lambda) throw this.error(member, `'${member.raw ?? ''}' is a condition, not a value`);
    const field = this.resolve(member, walk.base, walk.path, scope);
    if (field.kind === 'object' || field.kind === 'array') {
      throw this.error(member, `'${walk.path.join('/')}' is a ${field.kind}; compare one of its properties instead`);
    }
    return { path: walk.path, field };
  }

  private resolve(token: Token, base: string | undefined, path: readonly string[], scope: Scope): Field {
    let fields = this.fields;
    if (base !== undefined) {
      const items = scope.variables.get(base);
      if (!items) throw this.error(token, `lambda variable '${base}' is not defined here`);
      fields = items;
    } else if (path.length > 0 && scope.variables.size > 0 && scope.variables.has(path[0] ?? '')) {
      throw this.error(token, `'${path.join('/')}' needs its lambda variable prefix`);
    }
    const field = resolveFieldPath(fields, path);
    if (!field) {
      const where = base === undefined ? 'a referral' : `an item of '${base}'`;
      throw this.error(token, `'${path.join('/')}' is not a property of ${where}`);
    }
    return field;
  }

  private literal(token: Token): Literal {
    const raw = token.raw ?? '';
    const edm = String(token.value);
    if (edm === 'null') return { type: 'null' };
    if (edm === 'Edm.String') return { type: 'string', value: raw.slice(1, -1).replaceAll("''", "'") };
    if (edm === 'Edm.Guid') return { type: 'string', value: raw };
    if (edm === 'Edm.Boolean') return { type: 'boolean', value: raw.toLowerCase() === 'true' };
    if (NUMERIC_LITERALS.has(edm)) {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw this.error(token, `'${raw}' is not a finite number`);
      return { type: 'number', value };
    }
    if (edm === 'Edm.DateTimeOffset') {
      const value = canonicalTimestamp(raw);
      if (!value) throw this.error(token, `'${raw}' is not a valid date-time`);
      return { type: 'datetime', value };
    }
    if (edm === 'Edm.Date') {
      throw this.error(token, `'${raw}' is a date; compare with a date-time such as ${raw}T00:00:00Z`);
    }
    throw this.error(token, `literal '${raw}' (${edm}) is not supported`);
  }

  private error(token: Token, message: string): BadQueryError {
    const at = typeof token.position === 'number' ? ` (at position ${token.position})` : '';
    return new BadQueryError('$filter', `${message}${at}`);
  }
}

function unwrapParens(token: Token): Token {
  let t = token;
  while (t.type === 'ParenExpression' || t.type === 'CommonExpression') t = t.value as Token;
  return t;
}

function literalTypeFor(field: Field): Literal['type'] {
  switch (field.kind) {
    case 'string':
    case 'enum':
      return 'string';
    case 'datetime':
      return 'datetime';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'null';
  }
}

interface MemberWalk {
  /** Lambda variable the path starts from, if any. */
  base?: string;
  path: string[];
  lambda?: { quantifier: 'any' | 'all'; variable: string; predicate: Token };
}

/**
 * Flattens a FirstMemberExpression (`a/b/c`, `t/email`, `team/any(t: …)`) into a path, the lambda
 * variable it starts from, and a trailing any/all if there is one.
 */
function walkMember(first: Token): MemberWalk {
  const walk: MemberWalk = { path: [] };
  let node: Token | undefined = first.value as Token;
  if (Array.isArray(first.value)) {
    const [variable, member] = first.value as [Token, Token | undefined];
    walk.base = (variable.value as { name: string }).name;
    node = member;
  }
  while (node) {
    if (node.type === 'MemberExpression' || node.type === 'SingleNavigationExpression') {
      node = node.value as Token;
      continue;
    }
    if (node.type === 'ODataIdentifier') {
      walk.path.push((node.value as { name: string }).name);
      return walk;
    }
    if (node.type === 'PropertyPathExpression') {
      const v = node.value as { name?: string; current?: Token; next?: Token } | Token;
      if ('current' in v && v.current) {
        walk.path.push((v.current.value as { name: string }).name);
        node = v.next;
        continue;
      }
      node = v as Token;
      continue;
    }
    if (node.type === 'CollectionPathExpression') {
      const lambdaToken = node.value as Token;
      const { variable, predicate } = lambdaToken.value as { variable: Token; predicate: Token };
      walk.lambda = {
        quantifier: lambdaToken.type === 'AllExpression' ? 'all' : 'any',
        variable: (variable.value as { name: string }).name,
        predicate: predicate.type === 'LambdaPredicateExpression' ? (predicate.value as Token) : predicate,
      };
      return walk;
    }
    throw new BadQueryError('$filter', `'${node.raw ?? node.type}' is not supported in a property path`);
  }
  return walk;
}

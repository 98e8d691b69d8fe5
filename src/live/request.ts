/**
 * An HTTP list request's query string → what to ask Partner Center and how to answer. Every
 * parameter is on the allowlist of params.ts; a raw `$filter` goes through the project's OData
 * parser (src/odata/parse.ts), friendly parameters build the same tree, and the two are joined by
 * `and`. Nothing here touches the network: a bad request fails before any upstream call.
 */
import { BadQueryError } from '../common/errors.js';
import { allOf, type FilterExpr, type ListQuery } from '../odata/ast.js';
import { parseFilter, parseOrderBy, parseSelect, selectNames, truncate } from '../odata/parse.js';
import {
  DEFAULT_MAX_ITEMS,
  FORMATS,
  FRIENDLY_PARAMS,
  KEY_PARAM,
  LIST_PARAM_NAMES,
  MAX_FRIENDLY_VALUE_LENGTH,
  MAX_MAX_ITEMS,
  MAX_TOP,
  type OutputFormat,
  type OutputShape,
  SHAPES,
} from './params.js';

/** Everything one listing needs; sealed into the continuation token as is. */
export interface ListSpec {
  /** Filter, order and select for Partner Center (no $top: paging is ours). */
  readonly query: ListQuery;
  /** `$top`: referrals in all, across continuations. */
  readonly limit?: number;
  readonly format: OutputFormat;
  readonly shape: OutputShape;
  /** Flat columns to answer with, in this order (`$select` with shape=flat); all when absent. */
  readonly columns?: readonly string[];
  readonly maxItems: number;
}

export type ListRequest = { readonly spec: ListSpec } | { readonly continuation: string };

/** Longest query string accepted; the parser's own $filter limit (4,096 characters) is tighter. */
const MAX_QUERY_STRING = 16_384;

export function readListRequest(params: URLSearchParams): ListRequest {
  const values = singleValues(params);
  const continuation = values.get('continuation');
  if (continuation !== undefined) {
    const others = [...values.keys()].filter((k) => k !== 'continuation' && k !== KEY_PARAM);
    if (others.length > 0) {
      throw new BadQueryError(
        others[0] as string,
        `'${others[0]}' cannot go with 'continuation': the token already carries the whole query`,
      );
    }
    return { continuation };
  }
  const clauses: FilterExpr[] = [];
  for (const param of FRIENDLY_PARAMS) {
    const value = values.get(param.name);
    if (value === undefined) continue;
    checkValue(param.name, value);
    clauses.push(param.build(value));
  }
  const raw = values.get('$filter');
  // The raw filter goes last: friendly clauses narrow, the caller's expression stays intact.
  if (raw !== undefined) clauses.push(parseFilter(raw));
  const shape = oneOf('shape', values.get('shape'), SHAPES, 'flat');
  const format = oneOf('format', values.get('format'), FORMATS, 'json');
  // $select names what the answer carries. With shape=raw, the referral's properties: Partner
  // Center leaves the others out. With shape=flat, the row's columns: the whole referral is still
  // fetched (derived columns read all of it) and the answer keeps only these; the handler checks
  // them (flatColumns) before any upstream call, for a continuation's too.
  const selectText = values.get('$select');
  const columns = selectText !== undefined && shape === 'flat' ? selectNames(selectText) : undefined;
  if (format === 'csv' && shape !== 'flat') {
    throw new BadQueryError('format', 'format=csv needs shape=flat: a raw referral is nested JSON');
  }
  const orderText = values.get('$orderby');
  const topText = values.get('$top');
  const maxItemsText = values.get('maxItems');
  const filter = allOf(clauses);
  return {
    spec: {
      query: {
        ...(filter ? { filter } : {}),
        ...(orderText !== undefined ? { orderBy: parseOrderBy(orderText) } : {}),
        ...(selectText !== undefined && shape === 'raw' ? { select: parseSelect(selectText) } : {}),
      },
      ...(topText !== undefined ? { limit: wholeNumber('$top', topText, 1, MAX_TOP) } : {}),
      format,
      shape,
      ...(columns ? { columns } : {}),
      maxItems:
        maxItemsText === undefined ? DEFAULT_MAX_ITEMS : wholeNumber('maxItems', maxItemsText, 1, MAX_MAX_ITEMS),
    },
  };
}

/**
 * The query string of a request URL, percent-decoded strictly. URLSearchParams (and the Functions
 * host's own query mapping) decode leniently: `%zz` stays as typed and bytes that are not UTF-8
 * (`%C3%28`, overlong `%C0%AF`, a surrogate `%ED%A0%80`) become U+FFFD, so a mangled value would go
 * to Partner Center as a filter nothing matches and answer an empty list. Reading the URL itself
 * makes `func start`, Azure and `serve` refuse it alike, whatever query mapping the host made.
 */
export function queryOf(url: string): URLSearchParams {
  const params = new URLSearchParams();
  // Same splitting as URLSearchParams: '&' between pairs, the first '=' ends the name, '+' is a space.
  for (const pair of new URL(url).search.slice(1).split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = strictDecode(at < 0 ? pair : pair.slice(0, at), 'query', 'a parameter name');
    const target = LIST_PARAM_NAMES.includes(name) ? name : 'query';
    params.append(name, at < 0 ? '' : strictDecode(pair.slice(at + 1), target, `the value of ${shown(name)}`));
  }
  return params;
}

function strictDecode(text: string, target: string, what: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch (error) {
    throw new BadQueryError(
      target,
      `${what} is not valid percent-encoding: each % must start an escape such as %20, and the escapes must spell UTF-8`,
      { cause: error },
    );
  }
}

/** Query parameters by name, each given once and on the allowlist. */
/**
 * The query's parameters by name: each on `allowed` (else `unknown` says what is), each once, the
 * whole not too long. The list's and the trigger's requests both start here.
 */
export function singleValues(
  params: URLSearchParams,
  allowed: readonly string[] = LIST_PARAM_NAMES,
  unknown: (name: string) => string = unknownParameter,
): Map<string, string> {
  const values = new Map<string, string>();
  let length = 0;
  for (const [name, value] of params) {
    length += name.length + value.length;
    if (length > MAX_QUERY_STRING) {
      throw new BadQueryError('query', `the query string is longer than ${MAX_QUERY_STRING} characters`);
    }
    if (!allowed.includes(name)) throw new BadQueryError(name, unknown(name));
    if (values.has(name)) throw new BadQueryError(name, `'${name}' is given more than once`);
    values.set(name, value);
  }
  return values;
}

function unknownParameter(name: string): string {
  const odata = name.startsWith('$') ? ' (supported OData options: $filter, $orderby, $top, $select)' : '';
  return `unknown parameter ${shown(name)}${odata}`;
}

/** A parameter name quoted for a message, cut short: it is the caller's text, of any length. */
export function shown(name: string): string {
  return JSON.stringify(truncate(name, 40));
}

/** A friendly parameter's value: not empty, not too long, no control characters. */
export function checkValue(name: string, value: string): void {
  if (value.length > MAX_FRIENDLY_VALUE_LENGTH) {
    throw new BadQueryError(name, `${name} is longer than ${MAX_FRIENDLY_VALUE_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new BadQueryError(name, `${name} contains a control character`);
  if (value === '') throw new BadQueryError(name, `${name} is empty`);
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new BadQueryError(name, `${name} must be one of ${allowed.join(', ')}`);
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BadQueryError(name, `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

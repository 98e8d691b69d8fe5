/**
 * A trigger poll's query string: the filters (first call), or the sealed state of the Location URL
 * (every call after). Each name on the trigger's own allowlist, given once, checked like the list's.
 */
import { BadQueryError } from '../../common/errors.js';
import { KEY_PARAM } from '../params.js';
import { checkValue } from '../request.js';
import { TRIGGER_FILTERS, type TriggerFilters } from './filters.js';
import { STATE_PARAM } from './state.js';

export interface TriggerRequest {
  readonly filters: TriggerFilters;
  /** The sealed state; absent on a flow's first call. */
  readonly state?: string;
}

const FILTER_NAMES: readonly string[] = TRIGGER_FILTERS.map((p) => p.name);
export const TRIGGER_PARAM_NAMES: readonly string[] = [...FILTER_NAMES, STATE_PARAM, KEY_PARAM];

export function readTriggerRequest(params: URLSearchParams): TriggerRequest {
  const filters: Record<string, string> = {};
  let state: string | undefined;
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!TRIGGER_PARAM_NAMES.includes(name)) {
      throw new BadQueryError(
        name,
        `unknown parameter ${JSON.stringify(name.slice(0, 40))}; the trigger takes ${FILTER_NAMES.join(', ')}`,
      );
    }
    if (seen.has(name)) throw new BadQueryError(name, `'${name}' is given more than once`);
    seen.add(name);
    if (name === STATE_PARAM) state = value;
    else if (name !== KEY_PARAM) {
      checkValue(name, value);
      filters[name] = value;
    }
  }
  return state === undefined ? { filters } : { filters, state };
}

/**
 * Filters sent beside a state must be the state's own: the state remembers what the flow chose, and
 * a poll for other filters from the same position would skip or repeat changes.
 */
export function checkSameFilters(asked: TriggerFilters, sealed: TriggerFilters): void {
  for (const name of FILTER_NAMES) {
    const value = asked[name];
    if (value !== undefined && value !== sealed[name]) {
      throw new BadQueryError(
        name,
        `${name} differs from the filters the trigger state was started with; start the trigger again for new filters`,
      );
    }
  }
}

/**
 * A trigger poll's query string: the filters (first call), or the sealed state of the Location URL
 * (every call after). Each name on the trigger's own allowlist, given once, checked like the list's.
 */
import { BadQueryError } from '../../common/errors.js';
import { KEY_PARAM } from '../params.js';
import { checkValue, shown, singleValues } from '../request.js';
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
  const values = singleValues(
    params,
    TRIGGER_PARAM_NAMES,
    (name) => `unknown parameter ${shown(name)}; the trigger takes ${FILTER_NAMES.join(', ')}`,
  );
  const filters: Record<string, string> = {};
  for (const name of FILTER_NAMES) {
    const value = values.get(name);
    if (value === undefined) continue;
    checkValue(name, value);
    filters[name] = value;
  }
  const state = values.get(STATE_PARAM);
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

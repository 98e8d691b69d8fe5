/**
 * A trigger's state: the filters the flow chose and where in the change feed it is, sealed
 * (../sealed.ts) into the `state` of the Location URL the flow polls next. The flow engine keeps it,
 * so the app keeps nothing per flow. It does not expire: a flow may sleep for weeks. Rotating the
 * Entra ID credential the key derives from makes every state unreadable; the answer then says to
 * turn the flow off and on, which starts it again from now (docs/operations.md).
 */
import { BadQueryError } from '../../common/errors.js';
import { Sealer } from '../sealed.js';
import type { FeedPosition } from './feed.js';
import { TRIGGER_FILTERS, type TriggerFilters } from './filters.js';

export interface TriggerState {
  readonly filters: TriggerFilters;
  readonly position: FeedPosition;
}

const VERSION = 1;
export const STATE_PARAM = 'state';

export class TriggerStateCodec {
  private readonly sealer: Sealer;

  constructor(secret: string | Buffer) {
    this.sealer = new Sealer(secret, { key: 'flow trigger state v1', purpose: 'referrals-lake flow trigger state v1' });
  }

  seal(state: TriggerState): string {
    const { version, file, group, row } = state.position;
    return this.sealer.seal({ v: VERSION, f: state.filters, p: [version, file, group, row] });
  }

  /** The state, or a 400-worthy BadQueryError naming `state`. */
  open(token: string): TriggerState {
    const opened = this.sealer.open(token);
    if ('failure' in opened) {
      throw new BadQueryError(
        STATE_PARAM,
        `the trigger state is ${opened.failure}; turn the flow off and on again to start the trigger from now`,
      );
    }
    const body = opened.body as { v?: unknown; f?: unknown; p?: unknown };
    const position = Array.isArray(body.p) ? body.p : [];
    if (body.v !== VERSION || !isFilters(body.f) || position.length !== 4 || !position.every(isCount)) {
      throw new BadQueryError(STATE_PARAM, 'the trigger state is from another version; turn the flow off and on again');
    }
    const [version, file, group, row] = position as number[];
    return { filters: body.f, position: { version, file, group, row } as FeedPosition };
  }
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isFilters(value: unknown): value is TriggerFilters {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const names = new Set(TRIGGER_FILTERS.map((p) => p.name));
  return Object.entries(value).every(([name, v]) => names.has(name) && typeof v === 'string');
}

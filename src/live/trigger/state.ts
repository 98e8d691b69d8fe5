/**
 * A trigger's state: the filters the flow chose and where in the change feed it is, sealed
 * (../sealed.ts) into the `state` of the Location URL the flow polls next. The flow engine keeps it,
 * so the app keeps nothing per flow. It does not expire: a flow may sleep for weeks.
 *
 * The key is TRIGGER_STATE_KEY, or else derived from the Entra ID credential; changing it makes every
 * state unreadable, and the answer then says to re-create the flow (a polling trigger turned off and
 * on resumes from its last state: Power Automate keeps it).
 */
import { BadQueryError } from '../../common/errors.js';
import { Sealer } from '../sealed.js';
import type { FeedPosition } from './feed.js';
import { TRIGGER_FILTERS, type TriggerFilters } from './filters.js';

export interface TriggerState {
  readonly filters: TriggerFilters;
  readonly position: FeedPosition;
}

const VERSION = 2;
export const STATE_PARAM = 'state';
/** What a flow owner does about a state that cannot be used (Power Automate's own advice for skipping a trigger's backlog). */
export const RESTART_ADVICE =
  'save the flow as a new copy (or re-create it) and delete this one: its trigger then starts from now';

interface SealedState {
  readonly v: number;
  /** Filters. */
  readonly f: TriggerFilters;
  /** Position: version, file, row group, row. */
  readonly p: readonly number[];
  /** Digest of the commit before the position. */
  readonly d?: string;
  /** Start time (ms), while the table did not exist yet. */
  readonly s?: number;
}

export class TriggerStateCodec {
  private readonly sealer: Sealer;

  constructor(secret: string | Buffer) {
    this.sealer = new Sealer(secret, { key: 'flow trigger state v1', purpose: 'referrals-lake flow trigger state v1' });
  }

  seal({ filters, position }: TriggerState): string {
    const { version, file, group, row, previous, since } = position;
    const body: SealedState = {
      v: VERSION,
      f: filters,
      p: [version, file, group, row],
      ...(previous !== undefined ? { d: previous } : {}),
      ...(since !== undefined ? { s: since } : {}),
    };
    return this.sealer.seal(body);
  }

  /** The state, or a 400-worthy BadQueryError naming `state`. */
  open(token: string): TriggerState {
    const opened = this.sealer.open(token);
    if ('failure' in opened)
      throw new BadQueryError(STATE_PARAM, `the trigger state is ${opened.failure}; ${RESTART_ADVICE}`);
    const body = opened.body as Partial<SealedState>;
    const position = Array.isArray(body.p) ? body.p : [];
    const valid =
      body.v === VERSION &&
      isFilters(body.f) &&
      position.length === 4 &&
      position.every(isCount) &&
      (body.d === undefined || typeof body.d === 'string') &&
      (body.s === undefined || isCount(body.s));
    if (!valid) throw new BadQueryError(STATE_PARAM, `the trigger state is from another version; ${RESTART_ADVICE}`);
    const [version = 0, file = 0, group = 0, row = 0] = position;
    return {
      filters: body.f as TriggerFilters,
      position: {
        version,
        file,
        group,
        row,
        ...(body.d !== undefined ? { previous: body.d } : {}),
        ...(body.s !== undefined ? { since: body.s } : {}),
      },
    };
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

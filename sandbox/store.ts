/**
 * The sandbox's referral book: an in-memory set with one sorted index per `$orderby` field, so a
 * page is a binary search to the keyset cursor plus a short scan, not a sort of the whole book.
 * Updates re-position an item in the index (as the real service's updatedDateTime order does), which
 * is why a client paging by updatedDateTime can meet an item twice and must dedupe by id.
 */
import { canonicalTimestamp } from '../src/common/time.js';
import type { FilterExpr, OrderBy, OrderByField } from '../src/odata/ast.js';
import type { Referral } from '../src/schema/referral-resource.js';
import { matches } from './odata-eval.js';

interface Entry {
  readonly referral: Referral;
  /** Canonical timestamps, so ordering is by instant with all seven fractional digits. */
  readonly keys: Readonly<Record<OrderByField, string>>;
  /** The referral's JSON, made once and reused for every page that carries it. */
  json?: string;
}

/** Position in an ordered pass: the order value and id of the last item served. */
export type Cursor = readonly [orderKey: string, id: string];

export interface PageRequest {
  readonly filter?: FilterExpr;
  readonly orderBy: OrderBy;
  readonly pageSize: number;
  readonly cursor?: Cursor;
  /** Matches to pass over before the page starts (only without a cursor). */
  readonly skip?: number;
  /** Row-level visibility of the caller (a Referrals user sees only their teams' referrals). */
  readonly visibleTo?: (referral: Referral) => boolean;
}

export interface Page {
  readonly items: readonly Referral[];
  /** The JSON text of each item, in order, for serving without another stringify. */
  readonly jsonItems: readonly string[];
  /** Cursor of the last item, present when at least one more match follows. */
  readonly next?: Cursor;
}

export class ReferralStore {
  private readonly byId = new Map<string, Entry>();
  private readonly indexes: Record<OrderByField, Entry[]> = { createdDateTime: [], updatedDateTime: [] };
  private dirty = false;
  private versionNumber = 0;

  constructor(referrals: Iterable<Referral> = []) {
    for (const referral of referrals) this.put(referral);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Changes whenever the book does; callers key caches on it. */
  get version(): number {
    return this.versionNumber;
  }

  get(id: string): Referral | undefined {
    return this.byId.get(id)?.referral;
  }

  jsonOf(id: string): string | undefined {
    const entry = this.byId.get(id);
    return entry ? serialized(entry) : undefined;
  }

  /** Every referral in createdDateTime order (the sandbox's current state, for tests and exports). */
  all(): Referral[] {
    return this.sorted('createdDateTime').map((e) => e.referral);
  }

  /** Adds a referral or replaces the one with the same id. */
  put(referral: Referral): void {
    const keys = {
      createdDateTime: orderKeyOf(referral, 'createdDateTime'),
      updatedDateTime: orderKeyOf(referral, 'updatedDateTime'),
    };
    const entry: Entry = { referral, keys };
    const previous = this.byId.get(referral.id);
    this.byId.set(referral.id, entry);
    if (previous) {
      for (const field of ['createdDateTime', 'updatedDateTime'] as const) {
        const index = this.indexes[field];
        index[index.indexOf(previous)] = entry;
      }
    } else {
      this.indexes.createdDateTime.push(entry);
      this.indexes.updatedDateTime.push(entry);
    }
    this.dirty = true;
    this.versionNumber++;
  }

  /** Takes a referral out of the book (it leaves every later page and count); false when absent. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    for (const field of ['createdDateTime', 'updatedDateTime'] as const) {
      const index = this.indexes[field];
      index.splice(index.indexOf(entry), 1);
    }
    this.versionNumber++;
    return true;
  }

  /** Number of referrals matching the filter for this caller. */
  count(filter: FilterExpr | undefined, visibleTo?: (referral: Referral) => boolean): number {
    let n = 0;
    for (const entry of this.byId.values()) if (accepts(entry, filter, visibleTo)) n++;
    return n;
  }

  page(request: PageRequest): Page {
    const index = this.sorted(request.orderBy.field);
    const descending = request.orderBy.direction === 'desc';
    const step = descending ? -1 : 1;
    let i = request.cursor
      ? startAfter(index, request.orderBy.field, request.cursor, descending)
      : descending
        ? index.length - 1
        : 0;
    let toSkip = request.cursor ? 0 : (request.skip ?? 0);
    const items: Referral[] = [];
    const jsonItems: string[] = [];
    let last: Entry | undefined;
    for (; i >= 0 && i < index.length; i += step) {
      const entry = index[i] as Entry;
      if (!accepts(entry, request.filter, request.visibleTo)) continue;
      if (toSkip > 0) {
        toSkip--;
        continue;
      }
      if (items.length === request.pageSize) {
        // One more match exists, so the page gets a nextLink; it points after the last item served.
        return { items, jsonItems, next: last ? cursorOf(last, request.orderBy.field) : undefined };
      }
      items.push(entry.referral);
      jsonItems.push(serialized(entry));
      last = entry;
    }
    return { items, jsonItems };
  }

  private sorted(field: OrderByField): Entry[] {
    if (this.dirty) {
      for (const f of ['createdDateTime', 'updatedDateTime'] as const) this.indexes[f].sort(byKey(f));
      this.dirty = false;
    }
    return this.indexes[field];
  }
}

function accepts(
  entry: Entry,
  filter: FilterExpr | undefined,
  visibleTo: ((referral: Referral) => boolean) | undefined,
): boolean {
  if (visibleTo && !visibleTo(entry.referral)) return false;
  return filter ? matches(filter, entry.referral) : true;
}

function serialized(entry: Entry): string {
  entry.json ??= JSON.stringify(entry.referral);
  return entry.json;
}

function orderKeyOf(referral: Referral, field: OrderByField): string {
  const raw = referral[field];
  // An item without a readable timestamp sorts first, as a null does in the service's ascending order.
  return (typeof raw === 'string' ? canonicalTimestamp(raw) : undefined) ?? '';
}

function cursorOf(entry: Entry, field: OrderByField): Cursor {
  return [entry.keys[field], entry.referral.id];
}

function compareTuple(aKey: string, aId: string, bKey: string, bId: string): number {
  if (aKey !== bKey) return aKey < bKey ? -1 : 1;
  if (aId === bId) return 0;
  return aId < bId ? -1 : 1;
}

function byKey(field: OrderByField) {
  return (a: Entry, b: Entry): number => compareTuple(a.keys[field], a.referral.id, b.keys[field], b.referral.id);
}

/**
 * Index of the first entry strictly after the cursor in the pass's direction. Ties on the order
 * value are broken by id, so a cursor is exact even when many referrals share a timestamp.
 */
function startAfter(index: readonly Entry[], field: OrderByField, cursor: Cursor, descending: boolean): number {
  const [key, id] = cursor;
  const versusCursor = (entry: Entry): number => compareTuple(entry.keys[field], entry.referral.id, key, id);
  // The index is ascending: find the first position whose entry sorts after the cursor.
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versusCursor(index[mid] as Entry) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (!descending) return lo;
  // Descending passes walk down from the last entry that sorts before the cursor.
  let j = lo - 1;
  while (j >= 0 && versusCursor(index[j] as Entry) >= 0) j--;
  return j;
}

/**
 * Which referrals a run has already taken, and at which updatedDateTime: the dedupe behind pitfall
 * 4 (a long or parallel pull can meet a referral twice). It must not grow memory like a Map of
 * strings would (~90 MB per million ids): Partner Center ids are GUIDs, so each is kept as its 128
 * bits plus its version (24 bytes) in open-addressing tables of typed arrays. Ids that are not GUIDs
 * (never seen, but the API promises nothing), and the all-zero GUID that marks an empty slot, fall
 * back to a Map.
 *
 * The ids are spread over 64 shards that grow one at a time, by a quarter. One table doubling in
 * place needs the old and the new arrays at once: at a million ids that was 26 MB on top of 52 MB,
 * at the peak of the run. A shard grows 1/64 of that, and loads between 0.72 and 0.9 keep a million
 * ids in 27–34 MB (38 MB at loads between 0.53 and 0.8, for 0.2 s more per million: ~1.2 s).
 */

export type Observation = 'new' | 'same' | 'older' | 'newer';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Linear probing up to this load: ~6 probes to find an id, ~50 to place a new one (at 0.9). */
const MAX_LOAD = 0.9;
const GROWTH = 1.25;
/** The hash bits below the shard's pick the slot (scaled to the capacity, which is any size). */
const SLOT_BITS = 32 - SHARD_BITS;
const SLOT_RANGE = 2 ** SLOT_BITS;
const SLOT_MASK = SLOT_RANGE - 1;

/** The id being looked up, parsed once per call (no allocation per referral). */
const key = new Uint32Array(4);

export class SeenIds {
  private readonly shards: Shard[];
  private readonly others = new Map<string, number>();

  /** `initialCapacity` is the total slots to start with, spread over the shards. */
  constructor(initialCapacity = 1 << 16) {
    const perShard = Math.max(16, Math.ceil(initialCapacity / SHARDS));
    this.shards = Array.from({ length: SHARDS }, () => new Shard(perShard));
  }

  get size(): number {
    return this.shards.reduce((sum, shard) => sum + shard.count, 0) + this.others.size;
  }

  /** Memory held by the tables (not the fallback Map). */
  get tableBytes(): number {
    return this.shards.reduce((sum, shard) => sum + shard.bytes, 0);
  }

  /**
   * Records the id at this version and says how it relates to what was seen: 'new', the 'same'
   * version again, an 'older' version than the one kept, or a 'newer' one (which is then kept).
   */
  observe(id: string, updatedMicros: number): Observation {
    if (!GUID.test(id)) return this.observeOther(id, updatedMicros);
    parseGuid(id, key);
    if (isZero(key, 0)) return this.observeOther(id.toLowerCase(), updatedMicros);
    const hash = mix(key);
    return (this.shards[hash >>> SLOT_BITS] as Shard).observe(key, hash, updatedMicros);
  }

  private observeOther(id: string, updatedMicros: number): Observation {
    const previous = this.others.get(id);
    const seen = previous === undefined ? 'new' : againstKept(previous, updatedMicros);
    if (seen === 'new' || seen === 'newer') this.others.set(id, updatedMicros);
    return seen;
  }
}

/** One open-addressing table: four words of GUID and a version per slot; all-zero words = empty. */
class Shard {
  count = 0;
  private words: Uint32Array;
  private updated: Float64Array;

  constructor(private capacity: number) {
    this.words = new Uint32Array(capacity * 4);
    this.updated = new Float64Array(capacity);
  }

  get bytes(): number {
    return this.words.byteLength + this.updated.byteLength;
  }

  observe(key: Uint32Array, hash: number, updatedMicros: number): Observation {
    let slot = this.find(key, hash);
    if (slot >= 0) {
      const seen = againstKept(this.updated[slot] ?? 0, updatedMicros);
      if (seen === 'newer') this.updated[slot] = updatedMicros;
      return seen;
    }
    if (this.count + 1 > this.capacity * MAX_LOAD) {
      this.grow();
      slot = this.find(key, hash);
    }
    this.place(-slot - 1, key, updatedMicros);
    return 'new';
  }

  /** The slot holding the key (≥ 0), or −(free slot) − 1 where it would go. */
  private find(key: Uint32Array, hash: number): number {
    const { capacity } = this;
    const w = this.words;
    let slot = Math.floor(((hash & SLOT_MASK) * capacity) / SLOT_RANGE);
    for (;;) {
      const at = slot * 4;
      const w0 = w[at] as number;
      const w1 = w[at + 1] as number;
      const w2 = w[at + 2] as number;
      const w3 = w[at + 3] as number;
      if ((w0 | w1 | w2 | w3) === 0) return -slot - 1;
      if (w0 === key[0] && w1 === key[1] && w2 === key[2] && w3 === key[3]) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
  }

  private place(slot: number, key: Uint32Array, updatedMicros: number): void {
    this.words.set(key, slot * 4);
    this.updated[slot] = updatedMicros;
    this.count++;
  }

  private grow(): void {
    const { words, updated, capacity } = this;
    this.capacity = Math.ceil(capacity * GROWTH);
    this.words = new Uint32Array(this.capacity * 4);
    this.updated = new Float64Array(this.capacity);
    this.count = 0;
    for (let slot = 0; slot < capacity; slot++) {
      if (isZero(words, slot * 4)) continue;
      const old = words.subarray(slot * 4, slot * 4 + 4);
      this.place(-this.find(old, mix(old)) - 1, old, updated[slot] ?? 0);
    }
  }
}

function isZero(words: Uint32Array, at: number): boolean {
  return (
    ((words[at] as number) | (words[at + 1] as number) | (words[at + 2] as number) | (words[at + 3] as number)) === 0
  );
}

/** How a version met again relates to the one kept (a 'newer' one is then kept by the caller). */
function againstKept(kept: number, updatedMicros: number): Exclude<Observation, 'new'> {
  if (updatedMicros > kept) return 'newer';
  return updatedMicros === kept ? 'same' : 'older';
}

/** The GUID's 32 hex digits as four words, case-insensitive (the caller checked the shape). */
function parseGuid(id: string, out: Uint32Array): void {
  let word = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code === 0x2d) continue; // '-'
    const value = code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
    word = word * 16 + value;
    if (++digits === 8) {
      out[index++] = word;
      word = 0;
      digits = 0;
    }
  }
}

/** GUID bits are already random (v4); mixing the words spreads sequential or v1-style ids too. */
function mix(key: Uint32Array): number {
  let h = (key[0] ?? 0) ^ Math.imul(key[1] ?? 0, 0x9e3779b1) ^ Math.imul(key[2] ?? 0, 0x85ebca77) ^ (key[3] ?? 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

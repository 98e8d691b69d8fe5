/**
 * Which referrals a run has already taken, and at which updatedDateTime: the dedupe behind pitfall
 * 4 (a long or parallel pull can meet a referral twice). It must not grow memory like a Map of
 * strings would (~90 MB per million ids): Partner Center ids are GUIDs, so each is kept as its 128
 * bits in an open-addressing table of typed arrays (~40 bytes per id at most). Ids that are not
 * GUIDs (never seen, but the API promises nothing) fall back to a Map.
 */

export type Observation = 'new' | 'same' | 'older' | 'newer';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMPTY = 0;
const MAX_LOAD = 0.7;

export class SeenIds {
  private capacity: number;
  private words: Uint32Array;
  private updated: Float64Array;
  private used: Uint8Array;
  private count = 0;
  private readonly others = new Map<string, number>();

  constructor(initialCapacity = 1 << 16) {
    this.capacity = powerOfTwoAtLeast(initialCapacity);
    this.words = new Uint32Array(this.capacity * 4);
    this.updated = new Float64Array(this.capacity);
    this.used = new Uint8Array(this.capacity);
  }

  get size(): number {
    return this.count + this.others.size;
  }

  /**
   * Records the id at this version and says how it relates to what was seen: 'new', the 'same'
   * version again, an 'older' version than the one kept, or a 'newer' one (which is then kept).
   */
  observe(id: string, updatedMicros: number): Observation {
    if (!GUID.test(id)) return this.observeOther(id, updatedMicros);
    const key = guidWords(id);
    let slot = this.find(key);
    if (slot >= 0) return compareAndKeep(this.updated, slot, updatedMicros);
    if ((this.count + 1) / this.capacity > MAX_LOAD) this.grow();
    slot = -this.find(key) - 1;
    this.place(slot, key, updatedMicros);
    return 'new';
  }

  private observeOther(id: string, updatedMicros: number): Observation {
    const previous = this.others.get(id);
    if (previous === undefined) {
      this.others.set(id, updatedMicros);
      return 'new';
    }
    if (updatedMicros > previous) {
      this.others.set(id, updatedMicros);
      return 'newer';
    }
    return updatedMicros === previous ? 'same' : 'older';
  }

  /** The slot holding the key (≥ 0), or −(free slot) − 1 where it would go. */
  private find(key: Uint32Array): number {
    const mask = this.capacity - 1;
    let slot = mix(key) & mask;
    while (this.used[slot] !== EMPTY) {
      const at = slot * 4;
      const w = this.words;
      if (w[at] === key[0] && w[at + 1] === key[1] && w[at + 2] === key[2] && w[at + 3] === key[3]) return slot;
      slot = (slot + 1) & mask;
    }
    return -slot - 1;
  }

  private place(slot: number, key: Uint32Array, updatedMicros: number): void {
    this.words.set(key, slot * 4);
    this.updated[slot] = updatedMicros;
    this.used[slot] = 1;
    this.count++;
  }

  private grow(): void {
    const { words, updated, used, capacity } = this;
    this.capacity = capacity * 2;
    this.words = new Uint32Array(this.capacity * 4);
    this.updated = new Float64Array(this.capacity);
    this.used = new Uint8Array(this.capacity);
    this.count = 0;
    for (let slot = 0; slot < capacity; slot++) {
      if (used[slot] === EMPTY) continue;
      const key = words.subarray(slot * 4, slot * 4 + 4);
      this.place(-this.find(key) - 1, key, updated[slot] ?? 0);
    }
  }
}

function compareAndKeep(updated: Float64Array, slot: number, updatedMicros: number): Observation {
  const kept = updated[slot] ?? 0;
  if (updatedMicros > kept) {
    updated[slot] = updatedMicros;
    return 'newer';
  }
  return updatedMicros === kept ? 'same' : 'older';
}

function guidWords(id: string): Uint32Array {
  const hex = id.replaceAll('-', '');
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return out;
}

/** GUID bits are already random (v4); mixing the words spreads sequential or v1-style ids too. */
function mix(key: Uint32Array): number {
  let h = (key[0] ?? 0) ^ Math.imul(key[1] ?? 0, 0x9e3779b1) ^ Math.imul(key[2] ?? 0, 0x85ebca77) ^ (key[3] ?? 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

function powerOfTwoAtLeast(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

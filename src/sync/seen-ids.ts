/**
 * Which referrals a run has already taken, and at which updatedDateTime: the dedupe behind pitfall
 * 4 (a long or parallel pull can meet a referral twice). Memory must not grow with the run like a
 * Map of strings would (~90 MB per million ids), nor like the ids themselves: a million GUIDs and
 * their versions are 24 MB, a tenth of what a 1M sync may hold in all.
 *
 * So each id's full record (its 128 bits and its version) goes to a temporary file, and memory
 * keeps only an open-addressing table of 32-bit hashes and record numbers: 8 bytes a slot, ~9 MB
 * per million ids. A lookup compares hashes in memory and reads a record from the file only when a
 * hash matches: for every re-met id (rare), and for the odd new id whose hash equals a neighbour's.
 * The newest records wait in memory and are written in batches of a few thousand; the file is
 * page-cache I/O, ~24 MB per million ids (reclaimable cache, not the process's memory, unless the
 * temp directory is a tmpfs), and gone when the run closes the set (on Linux, as soon as it is
 * opened, so a killed run leaves nothing behind).
 *
 * Ids that are not GUIDs (never seen, but the API promises nothing) fall back to a Map. The ids
 * are spread over 64 shards that grow one at a time, by a quarter: one table doubling in place
 * needs the old and the new arrays at once, at the peak of the run.
 */

import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../common/errors.js';
import { compareVersions, type Version, versionRank } from './version.js';

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
/** A record: the GUID's four words, then its version as a float64 (8-byte aligned at 16). */
const RECORD_BYTES = 24;
/** Records kept in memory before they are written: 96 KiB, one write per 4,096 new ids. */
const BATCH_RECORDS = 4096;

/** The id being looked up, parsed once per call (no allocation per referral). */
const key = new Uint32Array(4);

export interface SeenIdsOptions {
  /** Total table slots to start with, spread over the shards. */
  readonly initialCapacity?: number;
  /** Where the records' temporary file goes; the OS temp directory by default. */
  readonly directory?: string;
}

export class SeenIds {
  private readonly shards: Shard[];
  private readonly others = new Map<string, number>();
  private readonly records: RecordFile;

  constructor(options: SeenIdsOptions = {}) {
    this.records = new RecordFile(options.directory ?? tmpdir());
    const perShard = Math.max(16, Math.ceil((options.initialCapacity ?? 1 << 16) / SHARDS));
    this.shards = Array.from({ length: SHARDS }, () => new Shard(perShard, this.records));
  }

  get size(): number {
    return this.records.count + this.others.size;
  }

  /** Memory held by the tables (not the fallback Map, nor the batch of unwritten records). */
  get tableBytes(): number {
    return this.shards.reduce((sum, shard) => sum + shard.bytes, 0);
  }

  /**
   * Records the id at this version and says how it relates to what was seen: 'new', the 'same'
   * version again, an 'older' version than the one kept, or a 'newer' one (which is then kept).
   * Versions compare as src/sync/version.ts says.
   */
  observe(id: string, version: Version): Observation {
    const rank = versionRank(version);
    if (!GUID.test(id)) return this.observeOther(id, rank);
    parseGuid(id, key);
    // 0 marks an empty slot; the hash that would be 0 stands as 1 (same shard, next slot).
    const hash = mix(key) || 1;
    return (this.shards[hash >>> SLOT_BITS] as Shard).observe(key, hash, rank);
  }

  /** Whether the id was observed, at any version. */
  has(id: string): boolean {
    if (!GUID.test(id)) return this.others.has(id);
    parseGuid(id, key);
    const hash = mix(key) || 1;
    return (this.shards[hash >>> SLOT_BITS] as Shard).has(key, hash);
  }

  /** Deletes the records' file (best effort, never throws). The set must not be used after. */
  close(): void {
    this.records.close();
  }

  private observeOther(id: string, rank: number): Observation {
    const previous = this.others.get(id);
    const seen = previous === undefined ? 'new' : againstKept(previous, rank);
    if (seen === 'new' || seen === 'newer') this.others.set(id, rank);
    return seen;
  }
}

/** One open-addressing table: a hash (0 = empty) and a record number per slot. */
class Shard {
  private hashes: Uint32Array;
  private recordOf: Uint32Array;
  private count = 0;

  constructor(
    private capacity: number,
    private readonly records: RecordFile,
  ) {
    this.hashes = new Uint32Array(capacity);
    this.recordOf = new Uint32Array(capacity);
  }

  get bytes(): number {
    return this.hashes.byteLength + this.recordOf.byteLength;
  }

  has(key: Uint32Array, hash: number): boolean {
    return this.find(key, hash) >= 0;
  }

  observe(key: Uint32Array, hash: number, rank: number): Observation {
    let slot = this.find(key, hash);
    if (slot >= 0) {
      const record = this.recordOf[slot] as number;
      const seen = againstKept(this.records.versionOf(record), rank);
      if (seen === 'newer') this.records.setVersion(record, rank);
      return seen;
    }
    if (this.count + 1 > this.capacity * MAX_LOAD) {
      this.grow();
      slot = this.find(key, hash);
    }
    this.place(-slot - 1, hash, this.records.append(key, rank));
    return 'new';
  }

  /** The slot holding the key (≥ 0), or −(free slot) − 1 where it would go. */
  private find(key: Uint32Array, hash: number): number {
    const { capacity, hashes } = this;
    let slot = slotFor(hash, capacity);
    for (;;) {
      const held = hashes[slot] as number;
      if (held === 0) return -slot - 1;
      if (held === hash && this.records.holds(this.recordOf[slot] as number, key)) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
  }

  /** The first free slot from the hash's own (growth only: every held id is distinct). */
  private freeSlot(hash: number): number {
    const { capacity, hashes } = this;
    let slot = slotFor(hash, capacity);
    while (hashes[slot] !== 0) slot = slot + 1 === capacity ? 0 : slot + 1;
    return slot;
  }

  private place(slot: number, hash: number, record: number): void {
    this.hashes[slot] = hash;
    this.recordOf[slot] = record;
    this.count++;
  }

  private grow(): void {
    const { hashes, recordOf, capacity } = this;
    this.capacity = Math.ceil(capacity * GROWTH);
    this.hashes = new Uint32Array(this.capacity);
    this.recordOf = new Uint32Array(this.capacity);
    this.count = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const hash = hashes[slot] as number;
      if (hash !== 0) this.place(this.freeSlot(hash), hash, recordOf[slot] as number);
    }
  }
}

function slotFor(hash: number, capacity: number): number {
  return Math.floor(((hash & SLOT_MASK) * capacity) / SLOT_RANGE);
}

/**
 * The ids' records, numbered in the order they came: a file, plus the newest batch in memory. Reads
 * and writes are synchronous on purpose: they hit the page cache and take microseconds, and are
 * rare (only to confirm a matching hash), where an await per referral would cost the sync a turn.
 */
class RecordFile {
  count = 0;
  private readonly path: string;
  private fd: number | undefined;
  private unlinked = false;
  /** Records [written, count) are in the batch; the file holds the ones before. */
  private written = 0;
  private readonly batch = new ArrayBuffer(BATCH_RECORDS * RECORD_BYTES);
  private readonly batchWords = new Uint32Array(this.batch);
  private readonly batchVersions = new Float64Array(this.batch);
  /** The last record read from the file (a hash match is usually followed by its version). */
  private readonly loaded = new ArrayBuffer(RECORD_BYTES);
  private readonly loadedWords = new Uint32Array(this.loaded);
  private readonly loadedVersion = new Float64Array(this.loaded, 16, 1);
  private loadedRecord = -1;

  constructor(directory: string) {
    this.path = join(directory, `referrals-lake-seen-ids-${randomUUID()}.bin`);
    try {
      this.fd = openSync(this.path, 'wx+', 0o600);
    } catch (error) {
      throw failure('create', this.path, error);
    }
    // Unlinked at once where the OS allows it (Linux, macOS): the open descriptor keeps the data.
    try {
      unlinkSync(this.path);
      this.unlinked = true;
    } catch {
      // Where the OS refuses to remove an open file, it goes at close().
    }
  }

  append(words: Uint32Array, version: number): number {
    if (this.count - this.written === BATCH_RECORDS) this.writeBatch();
    const at = this.count - this.written;
    this.batchWords.set(words, at * 6);
    this.batchVersions[at * 3 + 2] = version;
    return this.count++;
  }

  /** Whether record `n` is this GUID. */
  holds(n: number, words: Uint32Array): boolean {
    let held: Uint32Array = this.batchWords;
    let i = (n - this.written) * 6;
    if (n < this.written) {
      held = this.load(n);
      i = 0;
    }
    return held[i] === words[0] && held[i + 1] === words[1] && held[i + 2] === words[2] && held[i + 3] === words[3];
  }

  versionOf(n: number): number {
    if (n >= this.written) return this.batchVersions[(n - this.written) * 3 + 2] as number;
    this.load(n);
    return this.loadedVersion[0] as number;
  }

  setVersion(n: number, version: number): void {
    if (n >= this.written) {
      this.batchVersions[(n - this.written) * 3 + 2] = version;
      return;
    }
    this.load(n);
    this.loadedVersion[0] = version;
    try {
      this.writeAt(new Uint8Array(this.loaded, 16, 8), n * RECORD_BYTES + 16);
    } catch (error) {
      this.loadedRecord = -1; // the cached copy no longer matches the file
      throw error;
    }
  }

  /**
   * Never throws: the run's outcome is decided by then, and a failure here must not hide the run's
   * own error or skip its cleanup. At worst a file is left in the temp directory.
   */
  close(): void {
    const { fd } = this;
    if (fd === undefined) return;
    this.fd = undefined; // first: a failed close still releases the descriptor on Linux
    try {
      closeSync(fd);
    } catch {
      // nothing to do: the descriptor is gone either way
    }
    try {
      if (!this.unlinked) unlinkSync(this.path);
    } catch {
      // left for the OS's temp cleanup
    }
  }

  /** Reads record `n` from the file (unless it is the one read last); returns its words. */
  private load(n: number): Uint32Array {
    if (n === this.loadedRecord) return this.loadedWords;
    this.loadedRecord = -1;
    const into = new Uint8Array(this.loaded);
    let read: number;
    try {
      read = readSync(this.openFd(), into, 0, RECORD_BYTES, n * RECORD_BYTES);
    } catch (error) {
      throw failure('read', this.path, error);
    }
    if (read !== RECORD_BYTES) throw failure('read', this.path, new Error(`record ${n} is past the end`));
    this.loadedRecord = n;
    return this.loadedWords;
  }

  private writeBatch(): void {
    this.writeAt(new Uint8Array(this.batch), this.written * RECORD_BYTES);
    this.written += BATCH_RECORDS;
  }

  private writeAt(bytes: Uint8Array, position: number): void {
    try {
      let done = 0;
      while (done < bytes.length) {
        done += writeSync(this.openFd(), bytes, done, bytes.length - done, position + done);
      }
    } catch (error) {
      throw failure('write', this.path, error);
    }
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error('the dedupe file is closed');
    return this.fd;
  }
}

function failure(what: 'create' | 'read' | 'write', path: string, cause: unknown): StorageError {
  return new StorageError(
    `cannot ${what} the run's dedupe file ${path}`,
    { operation: `${what} dedupe file`, path },
    { cause },
  );
}

/**
 * How a version met again relates to the one kept (a 'newer' one is then kept by the caller). Both
 * are ranks, which compareVersions orders as the versions they stand for.
 */
function againstKept(kept: number, rank: number): Exclude<Observation, 'new'> {
  const order = compareVersions(rank, kept);
  return order > 0 ? 'newer' : order === 0 ? 'same' : 'older';
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

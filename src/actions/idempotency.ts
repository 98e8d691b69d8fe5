/**
 * Idempotency-Key: a retried write returns the first answer instead of writing again. The first
 * request with a key claims it in the lake (`_state/idempotency/<digest>.json`, created only if
 * absent, so two instances racing with one key cannot both write), then stores its answer there.
 * Records live 24 hours. The digest covers the caller too: one caller's key never answers another.
 *
 * Every answer is kept, failures too, when the change may have landed: a 5xx or a lost connection
 * may come after Partner Center applied it (a create above all has no condition), so the same key
 * never sends it again. A failure that surely changed nothing (nothing was sent, or Partner Center
 * refused it unprocessed: throttled) releases the key instead, so the caller's retry, with the same
 * key, is tried afresh. A claim whose request never finished (its instance died) blocks the key
 * until it expires. To try again after a kept failure, a caller checks the referral and sends a new key.
 */
import { createHash } from 'node:crypto';
import { IDEMPOTENCY_FOLDER, idempotencyRecordPath } from '../lake/layout/paths.js';
import type { StorageTarget } from '../lake/storage/storage.js';

export const RECORD_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 255;

/** What the caller got the first time: replayed as is. */
export interface StoredAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface IdempotencyRecord {
  readonly createdAt: number;
  /** Digest of the request the key was first used for. */
  readonly request: string;
  readonly answer?: StoredAnswer;
}

export type Claim =
  | {
      readonly kind: 'claimed';
      /** Keeps the answer for the key's repeats. */
      finish(answer: StoredAnswer): Promise<void>;
      /** Frees the key: the request changed nothing, so a repeat may run it afresh. */
      release(): Promise<void>;
    }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer }
  | { readonly kind: 'conflict'; readonly status: 409 | 422; readonly detail: string };

export class IdempotencyStore {
  constructor(
    private readonly target: StorageTarget,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims `key` for this request, or says why not (the first answer, or a conflict). */
  async claim(key: string, caller: string, request: string): Promise<Claim> {
    const path = idempotencyRecordPath(digest(`${caller}\n${key}`));
    const mine: IdempotencyRecord = { createdAt: this.now(), request: digest(request) };
    for (let attempt = 0; attempt < 3; attempt++) {
      const created = await this.target.createIfAbsent(path, encode(mine), { contentType: 'application/json' });
      if (created.created) return this.claimed(path, mine, created.etag);
      const found = await this.target.read(path);
      if (!found) continue;
      const record = decode(found.body);
      const age = this.now() - (record?.createdAt ?? 0);
      const takeOver = !record || age > RECORD_LIFETIME_MS;
      if (takeOver) {
        const replaced = await this.target.replaceIfMatch(path, encode(mine), found.etag, {
          contentType: 'application/json',
        });
        if (replaced.replaced) return this.claimed(path, mine, replaced.etag);
        continue;
      }
      if (record.request !== mine.request) {
        return { kind: 'conflict', status: 422, detail: 'this Idempotency-Key was used for another request' };
      }
      if (!record.answer) {
        return {
          kind: 'conflict',
          status: 409,
          detail: 'the first request with this Idempotency-Key is still running',
        };
      }
      return { kind: 'replay', answer: record.answer };
    }
    return { kind: 'conflict', status: 409, detail: 'this Idempotency-Key is being claimed by another request' };
  }

  /**
   * Deletes the records past their lifetime, and says how many: they answer nothing any more (a
   * claim takes an expired one over), so only their space is at stake. Each is judged on what was
   * read and deleted only if unchanged since, so a claim that took one over in between keeps it.
   */
  async removeExpired(signal?: AbortSignal): Promise<number> {
    const cutoff = this.now() - RECORD_LIFETIME_MS;
    let removed = 0;
    for await (const file of this.target.list(IDEMPOTENCY_FOLDER)) {
      signal?.throwIfAborted();
      // A record is never older than its file: a file written since the cutoff holds a live record.
      if (file.lastModified.getTime() > cutoff) continue;
      const found = await this.target.read(file.path);
      if (!found) continue;
      const record = decode(found.body);
      if (record && record.createdAt > cutoff) continue;
      if (await this.target.deleteIfMatch(file.path, found.etag)) removed++;
    }
    return removed;
  }

  private claimed(path: string, mine: IdempotencyRecord, etag: string): Claim {
    return {
      kind: 'claimed',
      finish: async (answer) => {
        await this.target.replaceIfMatch(path, encode({ ...mine, answer }), etag, { contentType: 'application/json' });
      },
      release: async () => {
        await this.target.deleteIfMatch(path, etag);
      },
    };
  }
}

/** The key as the caller sent it: printable, not too long. */
export function checkIdempotencyKey(key: string): string | undefined {
  if (key === '' || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    return `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`;
  }
  return undefined;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function encode(record: IdempotencyRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

function decode(body: Buffer): IdempotencyRecord | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as IdempotencyRecord;
    return typeof value.createdAt === 'number' && typeof value.request === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

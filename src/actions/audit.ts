/**
 * The audit trail of writes: every attempt (done, refused here, refused by Partner Center, or
 * stopped because writes are off) becomes one NDJSON line in the lake under `_audit/date=…/`, and a
 * log line. One file per attempt: appends from many instances never interleave or race, and a
 * reader takes the folder as one table (`read_json('_audit/date=*\/*.ndjson')`). No token, key or
 * header value is ever in it: the caller is named by a digest of its key.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../common/log.js';
import { auditRecordPath } from '../lake/layout/paths.js';
import { type StorageTarget, writeWhole } from '../lake/storage/storage.js';
import type { JsonPatchOperation } from '../source/client.js';

export type ActionKind = 'accept' | 'decline' | 'patch' | 'create';

export interface AuditRecord {
  readonly time: string;
  readonly action: ActionKind;
  /** Who asked: `key:<digest of the function key>`, or the CLI's `cli:<user>`. */
  readonly caller: string;
  readonly referralId?: string;
  /** The HTTP status the caller got. */
  readonly status: number;
  /** done, refused (checked here), rejected (by Partner Center), stale (412), not-found, disabled, replayed, failed. */
  readonly outcome: string;
  readonly operations?: readonly JsonPatchOperation[];
  readonly ifMatch?: string;
  readonly idempotencyKey?: string;
  readonly before?: StatusPair;
  readonly after?: StatusPair;
  readonly detail?: string;
  readonly correlationId?: string;
}

export interface StatusPair {
  readonly status: string | null;
  readonly substatus: string | null;
}

/** Writes the record; a failure to audit is logged loudly but does not undo or hide the write. */
export async function appendAudit(target: StorageTarget, record: AuditRecord, logger: Logger): Promise<void> {
  const level = record.outcome === 'done' ? logger.info : logger.warn;
  level('referral write', { ...record, operations: record.operations?.map((o) => o.path) });
  try {
    await writeWhole(target, auditRecordPath(new Date(record.time)), Buffer.from(`${JSON.stringify(record)}\n`), {
      contentType: 'application/x-ndjson',
    });
  } catch (error) {
    logger.error('the audit record of a referral write could not be written to the lake', { error, record });
  }
}

/** The audit's name for a caller presenting this key (`referrals-lake keys` prints it for each key it sets). */
export function keyCaller(key: string): string {
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

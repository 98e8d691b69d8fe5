/**
 * The quarantine list: every value the normalizer could not keep as sent, with where and why. The
 * lake stage writes it as NDJSON beside the tables (columns: QUARANTINE_COLUMNS in
 * src/schema/tables.ts). The raw referral is kept whole by the writer, so an entry points at data
 * that still exists; `value` is only a preview.
 */

import type { TableName } from '../schema/tables.js';

export interface QuarantineEntry {
  /** Null when the referral has no usable id (then the entry is the whole referral). */
  readonly referral_id: string | null;
  readonly table: TableName;
  /** Null when the entry is a whole object, array, array item or referral. */
  readonly column: string | null;
  /** Path in the referral, array indexes included (`team/2/email`); '' for the whole referral. */
  readonly source: string;
  readonly reason: string;
  /** JSON text of the value, cut to VALUE_PREVIEW_CHARS; null when it cannot be written as JSON. */
  readonly value: string | null;
}

export const VALUE_PREVIEW_CHARS = 1000;

/** Source of an entry that stands for the whole referral. */
export const WHOLE_REFERRAL = '';

export function isWholeReferral(entry: QuarantineEntry): boolean {
  return entry.source === WHOLE_REFERRAL;
}

/** JSON text of `value`, or undefined when it has none (undefined, functions) or cannot have one. */
export function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    // BigInt and cycles: impossible from JSON.parse, possible from a caller's hand-built object.
    return undefined;
  }
}

/** A preview of the value: JSON text cut to VALUE_PREVIEW_CHARS, saying how much was cut. */
export function previewValue(value: unknown): string | null {
  // A huge string would be copied whole by JSON.stringify just to be cut; cut it first.
  const probe =
    typeof value === 'string' && value.length > VALUE_PREVIEW_CHARS ? value.slice(0, VALUE_PREVIEW_CHARS) : value;
  const json = safeJson(probe) ?? (typeof value === 'bigint' ? String(value) : undefined);
  if (json === undefined) return null;
  const total = typeof value === 'string' ? value.length : json.length;
  if (total <= VALUE_PREVIEW_CHARS && json.length <= VALUE_PREVIEW_CHARS) return json;
  return `${json.slice(0, VALUE_PREVIEW_CHARS)}…[cut; ${total} characters in all]`;
}

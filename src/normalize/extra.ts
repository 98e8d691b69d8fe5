/**
 * `_extra_json`: the fields of a record the declaration does not know, as one JSON object that
 * keeps their nesting (`{"customerProfile":{"newThing":1}}`). The API sends more than any document
 * lists (referrals-api.md, "Unknown fields"); this column is how they reach the tables, not only
 * the raw copy.
 */

import type { KnownKeys } from './compile.js';
import { safeJson } from './quarantine.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Told of an unknown value that has no JSON text (BigInt, cycles: never from JSON.parse). */
export interface UnserializableSink {
  unserializable(relativePath: string, value: unknown): void;
}

/**
 * JSON text of the unknown keys of `record` (in the record's own key order), or null when it has
 * none. Keys the declaration reads whole are skipped even when their value has the wrong type:
 * such values are quarantined by the column that reads them.
 *
 * The text is assembled from pieces rather than by building an object, so a `__proto__` key
 * (JSON.parse makes it an ordinary own key) is copied like any other. Paths are only built for a
 * report: this runs for every object of every referral.
 */
export function extraJson(
  record: Readonly<Record<string, unknown>>,
  known: KnownKeys,
  sink: UnserializableSink,
): string | null {
  let pieces: string[] | undefined;
  for (const key of Object.keys(record)) {
    const json = extraOfKey(record[key], known.keys.get(key), key, known, sink);
    if (json === undefined) continue;
    pieces ??= [];
    pieces.push(`${JSON.stringify(key)}:${json}`);
  }
  // join makes one flat string; `+=` would keep a rope of every piece alive in each row.
  return pieces ? `{${pieces.join(',')}}` : null;
}

function extraOfKey(
  value: unknown,
  nested: KnownKeys | null | undefined,
  key: string,
  parent: KnownKeys,
  sink: UnserializableSink,
): string | undefined {
  if (nested === null) return undefined;
  if (nested !== undefined) return isRecord(value) ? (extraJson(value, nested, sink) ?? undefined) : undefined;
  const json = safeJson(value);
  if (json === undefined && value !== undefined) sink.unserializable(`${parent.path}${key}`, value);
  return json;
}

/**
 * Partner Center timestamps carry seven fractional digits (100 ns ticks) and sometimes no offset.
 * JavaScript's Date keeps milliseconds only, so comparisons and ordering use a canonical string
 * instead: `YYYY-MM-DDTHH:MM:SS.fffffffZ`, always UTC. Canonical strings sort as the instants do.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Reads an ISO-8601 timestamp as an instant; a value without offset is UTC. Undefined when not one. */
export function canonicalTimestamp(text: string): string | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, reads years 0–99 as themselves rather than as 19xx.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  // Date rolls 2026-02-30 into March and month 13 into next year; a calendar-invalid text is not a timestamp.
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  const ms = date.getTime();
  const offsetMinutes = parseOffsetMinutes(zone);
  const shifted = new Date(ms - offsetMinutes * 60_000);
  const ticks = (frac + '0000000').slice(0, 7);
  return `${shifted.toISOString().slice(0, 19)}.${ticks}Z`;
}

function parseOffsetMinutes(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/** Formats an instant the way Partner Center does: seven fractional digits, UTC. */
export function formatTimestamp(epochMs: number, subMillisecondTicks = 0): string {
  const base = new Date(Math.floor(epochMs)).toISOString().slice(0, 23);
  return `${base}${String(subMillisecondTicks).padStart(4, '0').slice(0, 4)}Z`;
}

/** Milliseconds since the epoch of a canonical (or any ISO) timestamp; sub-millisecond ticks are dropped. */
export function timestampToEpochMs(text: string): number | undefined {
  const canonical = canonicalTimestamp(text);
  return canonical === undefined ? undefined : Date.parse(`${canonical.slice(0, 23)}Z`);
}

/**
 * The project's one home for time: reading, formatting and calendar arithmetic.
 *
 * Partner Center timestamps carry seven fractional digits (100 ns ticks) and sometimes no offset.
 * JavaScript's Date keeps milliseconds only, so comparisons and ordering use a canonical string
 * instead: `YYYY-MM-DDTHH:MM:SS.fffffffZ`, always UTC. Canonical strings sort as the instants do.
 * The lake keeps epoch microseconds (timestamps) and `YYYY-MM-DD` (dates). The hand-written fast
 * paths below run per cell or per generated referral; each has a test against its slow twin.
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

/**
 * Milliseconds since the epoch of an ISO timestamp; sub-millisecond ticks are dropped. The UTC
 * shapes Partner Center sends are read by hand (the sandbox's generator calls this per referral).
 */
export function timestampToEpochMs(text: string): number | undefined {
  const fast = utcShapeMs(text);
  if (fast !== undefined) return fast;
  const canonical = canonicalTimestamp(text);
  return canonical === undefined ? undefined : Date.parse(`${canonical.slice(0, 23)}Z`);
}

/** True for `YYYY-MM-DDTHH:MM:SS.fffffffZ`, the shape formatTimestamp makes; checked by hand because it is hot. */
export function isCanonical(text: string): boolean {
  return (
    text.length === 28 &&
    text.charCodeAt(27) === CHAR.Z &&
    text.charCodeAt(19) === CHAR.dot &&
    text.charCodeAt(10) === CHAR.T &&
    text.charCodeAt(4) === CHAR.dash &&
    text.charCodeAt(13) === CHAR.colon
  );
}

const DAY_MS = 86_400_000;

/**
 * formatTimestamp(ms, ticks), five times faster: the calendar part comes from formatTimestamp once
 * per day, the clock part from arithmetic. The sandbox's generator stamps every referral with it.
 */
export function formatTimestampFast(ms: number, ticks: number): string {
  const day = Math.floor(ms / DAY_MS);
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const f = Math.floor(rest - s * 1000);
  const t = Math.min(Math.max(Math.floor(ticks), 0), 9999);
  const clock = String.fromCharCode(
    48 + Math.floor(h / 10),
    48 + (h % 10),
    58,
    48 + Math.floor(m / 10),
    48 + (m % 10),
    58,
    48 + Math.floor(s / 10),
    48 + (s % 10),
    46,
    48 + Math.floor(f / 100),
    48 + (Math.floor(f / 10) % 10),
    48 + (f % 10),
    48 + Math.floor(t / 1000),
    48 + (Math.floor(t / 100) % 10),
    48 + (Math.floor(t / 10) % 10),
    48 + (t % 10),
    90,
  );
  return dayPrefix(day) + clock;
}

/** Midnight UTC of the day, as Partner Center sends closingDateTime: `2020-12-01T00:00:00Z`. */
export function midnightUtc(ms: number): string {
  return `${dayPrefix(Math.floor(ms / DAY_MS))}00:00:00Z`;
}

const DAY_PREFIXES = new Map<number, string>();

/** `YYYY-MM-DDT` of a day number (days since the epoch). */
function dayPrefix(day: number): string {
  let prefix = DAY_PREFIXES.get(day);
  if (prefix === undefined) {
    prefix = formatTimestamp(day * DAY_MS).slice(0, 11);
    DAY_PREFIXES.set(day, prefix);
  }
  return prefix;
}

// ---------------------------------------------------------------------------------------------
// Epoch microseconds (the lake's timestamp cells)

const LEADING_DATE = /^\s*(\d{4})-(\d{2})/;

/**
 * Epoch microseconds of an ISO-8601 text, or undefined. The UTC shapes Partner Center sends
 * (`2019-02-23T02:05:23.2931817Z`, `2020-12-01T00:00:00Z`) are read by hand: they are nearly all
 * the input, and this skips canonicalTimestamp's regex and Date round trips. Every other shape
 * goes through canonicalTimestamp, the project's one definition of a timestamp.
 */
export function timestampMicros(text: string): number | undefined {
  return (
    utcShapeMicros(text) ?? (outsideCalendarRange(text) ? undefined : canonicalTextMicros(canonicalTimestamp(text)))
  );
}

/**
 * True when the text's leading `YYYY-MM` has a year below 100 or no month 1–12: Date.UTC reads
 * years 0–99 as 19xx and rolls month 13 into the next year, so such text is never read as an
 * instant. Years below 100 are far outside the exact microsecond range anyway.
 */
function outsideCalendarRange(text: string): boolean {
  const m = LEADING_DATE.exec(text);
  if (!m) return false;
  const month = Number(m[2]);
  return Number(m[1]) < 100 || month < 1 || month > 12;
}

/** The leading four-digit year of a text, or undefined (for error wording). */
export function leadingYear(text: string): number | undefined {
  const m = LEADING_DATE.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Microseconds of a canonical `YYYY-MM-DDTHH:MM:SS.fffffffZ` text; the 7th digit is dropped. */
export function canonicalTextMicros(canonical: string | undefined): number | undefined {
  if (canonical === undefined) return undefined;
  const ms = Date.parse(`${canonical.slice(0, 23)}Z`);
  return Number.isNaN(ms) ? undefined : ms * 1000 + Number(canonical.slice(23, 26));
}

const DATE_TIME_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const CHAR = { dash: 45, colon: 58, dot: 46, T: 84, Z: 90, zero: 48, nine: 57 } as const;

/** `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` → microseconds (fraction digits past the 6th dropped), else undefined. */
function utcShapeMicros(t: string): number | undefined {
  const ms = utcShapeMs(t);
  if (ms === undefined) return undefined;
  const last = t.length - 1;
  const end = Math.min(last, 26);
  return end > 23 ? ms * 1000 + digits(t, 23, end) * 10 ** (26 - end) : ms * 1000;
}

/** `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` → epoch milliseconds (fraction digits past the 3rd dropped), else undefined. */
function utcShapeMs(t: string): number | undefined {
  const last = t.length - 1;
  if (
    t.length < 20 ||
    t.length > 30 ||
    t.charCodeAt(4) !== CHAR.dash ||
    t.charCodeAt(7) !== CHAR.dash ||
    t.charCodeAt(10) !== CHAR.T ||
    t.charCodeAt(13) !== CHAR.colon ||
    t.charCodeAt(16) !== CHAR.colon ||
    t.charCodeAt(last) !== CHAR.Z ||
    (last > 19 && (t.charCodeAt(19) !== CHAR.dot || last === 20))
  ) {
    return undefined;
  }
  for (const i of DATE_TIME_DIGITS) if (!isDigit(t, i)) return undefined;
  for (let i = 20; i < last; i++) if (!isDigit(t, i)) return undefined;
  const year = digits(t, 0, 4);
  const month = digits(t, 5, 7);
  const day = digits(t, 8, 10);
  const hour = digits(t, 11, 13);
  const minute = digits(t, 14, 16);
  const second = digits(t, 17, 19);
  // Years below 100 go the slow way: Date.UTC reads them as 19xx, and canonicalTimestamp decides.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const end = Math.min(last, 23);
  const millis = end > 20 ? digits(t, 20, end) * 10 ** (23 - end) : 0;
  return Date.UTC(year, month - 1, day, hour, minute, second) + millis;
}

/**
 * `2020-10-30T21:03:00.123456Z` from epoch microseconds. Calendar arithmetic rather than
 * Date.toISOString: it runs for every timestamp cell of every NDJSON file and is three times faster.
 */
export function microsToIso(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const days = Math.floor(seconds / 86_400);
  let rest = seconds - days * 86_400;
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  const second = rest - minute * 60;
  const date = civilFromDays(days);
  return `${date}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${String(fraction).padStart(6, '0')}Z`;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

// ---------------------------------------------------------------------------------------------
// Calendar dates (the lake's date cells)

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` calendar date; undefined for anything else (2026-02-30
 * too). Integer arithmetic (days-from-civil) rather than a regex and a Date: it runs for every date
 * cell, twice.
 */
export function epochDays(date: string): number | undefined {
  if (date.length !== 10 || date.charCodeAt(4) !== CHAR.dash || date.charCodeAt(7) !== CHAR.dash) return undefined;
  const year = digits(date, 0, 4);
  const month = digits(date, 5, 7);
  const day = digits(date, 8, 10);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `YYYY-MM-DD` of a day count since 1970-01-01 (Howard Hinnant's civil_from_days): epochDays' inverse. */
export function civilFromDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** Howard Hinnant's days_from_civil (proleptic Gregorian), exact for every 4-digit year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function isDigit(text: string, index: number): boolean {
  const c = text.charCodeAt(index);
  return c >= CHAR.zero && c <= CHAR.nine;
}

/** The decimal number in text[start, end), or -1 if any character is not a digit. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - CHAR.zero;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

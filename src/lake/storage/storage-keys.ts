/**
 * Keys are `/`-separated paths relative to a target's root. Both targets validate them the same
 * way so that a key that works locally works in Blob Storage and none can escape the root: no
 * empty, `.` or `..` segments, no backslashes or control characters, at most 1,024 characters (the
 * Blob name limit, which includes the prefix). Segments starting with `.~` are reserved for the
 * folder target's temp and lock files.
 */
/** A value that cannot be part of a lake path; `part` names which one (`run_id`, `table`, …). */
export class LakePathError extends Error {
  constructor(
    readonly part: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${part} ${JSON.stringify(value.slice(0, 80))} is not valid: ${reason}`);
    this.name = 'LakePathError';
  }
}

const MAX_KEY_LENGTH = 1024;
export const RESERVED_SEGMENT_START = '.~';

/** The key itself when valid, else a LakePathError naming what is wrong. */
export function assertKey(key: string): string {
  const reason = keyProblem(key);
  if (reason) throw new LakePathError('path', key, reason);
  return key;
}

/**
 * A listing prefix: empty (everything) or a key start. A trailing `/` is allowed, and a partial
 * last segment is fine (`referrals/snapshot_date=2026-` lists a year).
 */
export function assertListPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const reason = keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  if (reason) throw new LakePathError('prefix', prefix, reason);
  return prefix;
}

/** A target's root prefix (LAKE_PREFIX) without leading or trailing slashes; '' for none. */
export function normalizeRootPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  const reason = keyProblem(trimmed);
  if (reason) throw new LakePathError('prefix', trimmed, reason);
  return trimmed;
}

/** `<root>/<key>`, or the key alone under an empty root. */
export function joinKey(root: string, key: string): string {
  return root === '' ? key : `${root}/${key}`;
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.length > MAX_KEY_LENGTH) return `is longer than ${MAX_KEY_LENGTH} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\\\u0000-\u001f\u007f]/.test(key)) return 'contains a backslash or a control character';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment (leading, trailing or double /)';
    if (segment === '.' || segment === '..') return "has a '.' or '..' segment";
    if (segment.startsWith(RESERVED_SEGMENT_START)) return `has a segment starting with '${RESERVED_SEGMENT_START}'`;
  }
  return undefined;
}

/**
 * JSON Patch (RFC 6902) as Partner Center's `PATCH …/referrals/{id}` takes it: only `add` and
 * `replace` ("The API currently only supports the replace and add operations"), paths as JSON
 * Pointers (RFC 6901), `-` appending to an array (the docs' own example adds `/team/-`).
 *
 * Objects follow the service's typed model rather than bare JSON: a member the caller has already
 * checked to be declared counts as existing even when the stored JSON lacks it, so `replace` sets
 * it (as ASP.NET's JsonPatch does on a contract class). Arrays keep RFC 6902's rules exactly.
 */
import { InvalidWriteError } from './write-error.js';

export const SUPPORTED_OPERATIONS = ['add', 'replace'] as const;
/** An RFC 6901 array index, or `-` for the end of the array. */
export const ARRAY_TOKEN = /^(-|0|[1-9][0-9]*)$/;
/** The operations RFC 6902 defines that Partner Center does not take: named, so the 400 can say so. */
const OTHER_RFC_OPERATIONS = new Set(['remove', 'move', 'copy', 'test']);

export interface PatchOperation {
  readonly op: (typeof SUPPORTED_OPERATIONS)[number];
  /** The JSON Pointer as sent, for error targets. */
  readonly path: string;
  /** Its reference tokens, unescaped. */
  readonly pointer: readonly string[];
  readonly value: unknown;
}

/** Reads a JSON Patch document; throws InvalidWriteError naming the operation that is wrong. */
export function parsePatch(body: unknown): PatchOperation[] {
  if (!Array.isArray(body)) throw new InvalidWriteError('body', 'A JSON Patch document is an array of operations');
  if (body.length === 0) throw new InvalidWriteError('body', 'The JSON Patch document has no operations');
  return body.map((entry, index) => parseOperation(entry, index));
}

function parseOperation(entry: unknown, index: number): PatchOperation {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new InvalidWriteError(`[${index}]`, `Operation ${index} is not a JSON object`);
  }
  const { op, path, value } = entry as Record<string, unknown>;
  if (typeof path !== 'string') throw new InvalidWriteError(`[${index}]`, `Operation ${index} has no "path" string`);
  if (op !== 'add' && op !== 'replace') {
    const known = typeof op === 'string' && OTHER_RFC_OPERATIONS.has(op);
    throw new InvalidWriteError(
      path,
      known
        ? `The operation '${op}' is not supported; Partner Center accepts only 'replace' and 'add'`
        : `Operation ${index} has no valid "op"; use 'replace' or 'add'`,
    );
  }
  if (!('value' in (entry as object))) throw new InvalidWriteError(path, `'${op}' at '${path}' needs a "value"`);
  return { op, path, pointer: parsePointer(path), value };
}

/** RFC 6901: "/a/b~1c" → ["a", "b/c"]. The whole document ("") is no field and cannot be patched. */
export function parsePointer(path: string): string[] {
  if (!path.startsWith('/')) throw new InvalidWriteError(path, `'${path}' is not a JSON Pointer to a field`);
  return path
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new InvalidWriteError(path, `'${path}' has a bad '~' escape`);
      const name = token.replaceAll('~1', '/').replaceAll('~0', '~');
      // Never a field of a referral, and setting it would reach the object's prototype.
      if (name === '__proto__') throw new InvalidWriteError(path, `'${path}' names no field`);
      return name;
    });
}

/** The patched copy of `document`; the input is left as it was, whatever operation fails. */
export function applyPatch<T>(document: T, operations: readonly PatchOperation[]): T {
  const copy = structuredClone(document);
  for (const operation of operations) applyOperation(copy, operation);
  return copy;
}

function applyOperation(document: unknown, operation: PatchOperation): void {
  const { pointer, path } = operation;
  const parent = containerAt(document, pointer.slice(0, -1), path);
  const key = pointer[pointer.length - 1] as string;
  if (Array.isArray(parent)) setInArray(parent, key, operation);
  else if (ARRAY_TOKEN.test(key)) {
    // Only lists are indexed in a referral; this one is stored as {} (the service sends an empty
    // customerProfile.ids so), and a member named "-" or "0" is not what the client meant.
    throw new InvalidWriteError(operation.path, `'${operation.path}' indexes a list that is empty; set the list whole`);
  } else (parent as Record<string, unknown>)[key] = operation.value;
}

/** The object or array the pointer's last token lives in; a null or missing one is a 400 (the service cannot add to nothing). */
function containerAt(document: unknown, tokens: readonly string[], path: string): object {
  let current: unknown = document;
  for (const [depth, token] of tokens.entries()) {
    current = Array.isArray(current)
      ? current[arrayIndex(token, current.length - 1, path)]
      : (current as Record<string, unknown>)[token];
    if (current === null || current === undefined || typeof current !== 'object') {
      const at = `/${tokens.slice(0, depth + 1).join('/')}`;
      throw new InvalidWriteError(path, `'${at}' is empty, so '${path}' has nowhere to go; set '${at}' whole instead`);
    }
  }
  return current as object;
}

function setInArray(array: unknown[], token: string, operation: PatchOperation): void {
  if (operation.op === 'add') {
    // RFC 6902: add inserts at the index (shifting the rest); "-" appends.
    const index = token === '-' ? array.length : arrayIndex(token, array.length, operation.path);
    array.splice(index, 0, operation.value);
    return;
  }
  array[arrayIndex(token, array.length - 1, operation.path)] = operation.value;
}

/** An RFC 6901 array index no greater than `max`. */
function arrayIndex(token: string, max: number, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new InvalidWriteError(path, `'${token}' in '${path}' is not an array index`);
  const index = Number(token);
  if (index > max) throw new InvalidWriteError(path, `'${path}' is past the end of its array`);
  return index;
}

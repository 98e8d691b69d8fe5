/**
 * Loads referrals for the sandbox to serve instead of generated ones (`--data FILE`): JSON or NDJSON,
 * each item checked for the fields the store relies on and otherwise kept as is.
 */

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { canonicalTimestamp } from '../src/common/time.js';
import type { Referral } from '../src/schema/referral-resource.js';

/**
 * Reads referrals from JSON (an array or an OData envelope `{ value: [...] }`) or NDJSON (one object a
 * line; by extension `.ndjson`/`.jsonl`, or sniffed). Each item needs string `id`, `createdDateTime`
 * and `updatedDateTime` (timestamps); everything else is kept as is.
 */
export async function loadReferralsFile(path: string): Promise<Referral[]> {
  const text = stripBom(await readFile(path, 'utf8'));
  const ext = extname(path).toLowerCase();
  const items =
    ext === '.ndjson' || ext === '.jsonl' || looksLikeNdjson(text) ? parseNdjson(path, text) : parseJson(path, text);
  return items.map(({ value, line }, index) => checkItem(path, value, index, line));
}

interface RawItem {
  readonly value: unknown;
  /** 1-based line the item starts on, when known (NDJSON). */
  readonly line?: number;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * NDJSON when the first non-blank line is a complete JSON object on its own (a pretty-printed
 * document's first line never is), except a one-line file holding an OData envelope.
 */
function looksLikeNdjson(text: string): boolean {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return false;
  const firstLine = trimmed.split('\n', 1)[0] ?? '';
  let first: unknown;
  try {
    first = JSON.parse(firstLine);
  } catch {
    return false;
  }
  const oneLine = trimmed.trimEnd().indexOf('\n') === -1;
  return !(oneLine && isRecord(first) && Array.isArray(first.value));
}

function parseNdjson(path: string, text: string): RawItem[] {
  const items: RawItem[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    try {
      items.push({ value: JSON.parse(line), line: i + 1 });
    } catch (error) {
      throw new Error(`${path}: line ${i + 1}: not valid JSON (${errorMessage(error)})`, { cause: error });
    }
  }
  return items;
}

function parseJson(path: string, text: string): RawItem[] {
  if (text.trim() === '') return [];
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: ${describeJsonError(text, error)}`, { cause: error });
  }
  if (Array.isArray(document)) return document.map((value) => ({ value }));
  if (isRecord(document) && Array.isArray(document.value)) return document.value.map((value: unknown) => ({ value }));
  throw new Error(`${path}: expected a JSON array of referrals, an object with a "value" array, or NDJSON`);
}

/** V8 reports a character offset; people need a line and column. */
function describeJsonError(text: string, error: unknown): string {
  const message = errorMessage(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  const offset =
    position !== undefined ? Number(position) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return `not valid JSON (${message})`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: not valid JSON (${message})`;
}

function checkItem(path: string, value: unknown, index: number, line: number | undefined): Referral {
  const where = `${path}: item ${index}${line !== undefined ? ` (line ${line})` : ''}`;
  if (!isRecord(value)) throw new Error(`${where}: expected a JSON object, got ${describeType(value)}`);
  for (const key of ['id', 'createdDateTime', 'updatedDateTime'] as const) {
    if (typeof value[key] !== 'string')
      throw new Error(`${where}: "${key}" must be a string, got ${describeType(value[key])}`);
  }
  for (const key of ['createdDateTime', 'updatedDateTime'] as const) {
    if (canonicalTimestamp(String(value[key])) === undefined) {
      throw new Error(`${where}: "${key}" is not an ISO-8601 timestamp: ${JSON.stringify(value[key])}`);
    }
  }
  return value as Referral;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'undefined' ? 'nothing' : typeof value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

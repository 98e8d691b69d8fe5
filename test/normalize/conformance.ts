/**
 * Checks shared by the normalizer tests: every row has exactly its table's columns, in order, with
 * cells of the declared type and nulls only where allowed; every quarantine entry is complete.
 * Problems come back as text so one failure lists them all.
 */

import type { NormalizeResult } from '../../src/normalize/normalize.js';
import type { QuarantineEntry } from '../../src/normalize/quarantine.js';
import type { ColumnType } from '../../src/schema/table.js';
import { isTableName, TABLES } from '../../src/schema/tables.js';

const CELL_CHECKS: Record<ColumnType, (value: unknown) => boolean> = {
  string: (v) => typeof v === 'string' && (v as unknown as { isWellFormed(): boolean }).isWellFormed(),
  int64: (v) => Number.isSafeInteger(v),
  double: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  timestamp: (v) => Number.isSafeInteger(v),
  date: (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
};

export function rowProblems(result: NormalizeResult, limit = 20): string[] {
  const problems: string[] = [];
  for (const table of TABLES) {
    const names = table.columns.map((c) => c.name);
    for (const [i, row] of result.rows[table.name].entries()) {
      const keys = Object.keys(row);
      if (keys.join() !== names.join()) problems.push(`${table.name}[${i}]: keys ${keys.join()}`);
      for (const column of table.columns) {
        const value = row[column.name];
        if (value === null) {
          if (!column.nullable) problems.push(`${table.name}[${i}].${column.name}: null in a non-nullable column`);
        } else if (!CELL_CHECKS[column.type](value)) {
          problems.push(`${table.name}[${i}].${column.name}: ${JSON.stringify(value)} is not a ${column.type}`);
        }
      }
      if (problems.length >= limit) return problems;
    }
  }
  return problems;
}

export function quarantineProblems(entries: readonly QuarantineEntry[]): string[] {
  const problems: string[] = [];
  for (const [i, e] of entries.entries()) {
    if (!isTableName(e.table)) problems.push(`entry ${i}: table ${e.table}`);
    if (typeof e.reason !== 'string' || !/^[a-z_]+: \S/.test(e.reason)) problems.push(`entry ${i}: reason ${e.reason}`);
    if (typeof e.source !== 'string') problems.push(`entry ${i}: source`);
    if (e.column !== null && !TABLES.some((t) => t.name === e.table && t.columns.some((c) => c.name === e.column))) {
      problems.push(`entry ${i}: column ${e.column} not in ${e.table}`);
    }
    if (e.value !== null && e.value.length > 1100) problems.push(`entry ${i}: value of ${e.value.length} characters`);
  }
  return problems;
}

/** Deep-freezes a JSON-like value so that any write by the code under test throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Epoch microseconds of ISO text, computed independently of the normalizer (for expectations). */
export function isoMicros(iso: string): number {
  return Date.parse(iso) * 1000;
}

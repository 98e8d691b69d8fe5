/**
 * The normalize stage: one referral (untrusted JSON) → one `referrals` row, its child rows, and
 * quarantine entries for whatever could not be kept as sent.
 *
 * Pure: the output depends only on the input and the run's lineage (derived values use
 * `extractedAtMicros`, never the clock), the input is never written to, and odd input never
 * throws. Accounting: every input is either one `referrals` row or one whole-referral quarantine
 * entry (`source` ''), so `inputs = referrals rows + whole-referral entries`. Duplicate ids are all
 * kept: deduplication by id and updatedDateTime is the sync stage's job.
 *
 * Columns drive everything: src/normalize/compile.ts turns TABLES into plans once at load.
 */

import type { DeriveContext, LineageContext } from '../schema/derived.js';
import type { Cell, Row } from '../schema/table.js';
import { type ChildTableName, TABLE_NAMES, type TableName } from '../schema/tables.js';
import { describeKind, Rejection } from './coerce.js';
import { type ChildPlan, compilePlan, type NormalizePlan, type PathColumn, type RecordPlan } from './compile.js';
import { extraJson, isRecord, type UnserializableSink } from './extra.js';
import { previewValue, type QuarantineEntry, WHOLE_REFERRAL } from './quarantine.js';

export interface Lineage {
  readonly runId: string;
  /** The run's extraction instant, epoch microseconds (`Date.getTime() * 1000`). */
  readonly extractedAtMicros: number;
}

export interface NormalizeResult {
  readonly rows: Record<TableName, Row[]>;
  readonly quarantine: QuarantineEntry[];
}

const PLAN: NormalizePlan = compilePlan();
const ID = topLevelColumn(PLAN, PLAN.idIndex);
const UPDATED = topLevelColumn(PLAN, PLAN.updatedIndex);

/** Normalizes one referral. Throws only when `lineage` itself is malformed (a caller's bug). */
export function normalizeReferral(input: unknown, lineage: Lineage): NormalizeResult {
  checkLineage(lineage);
  const result = emptyResult();
  normalizeInto(PLAN, input, lineage, result);
  return result;
}

/** Normalizes many referrals into one result (the rows of each table in input order). */
export function normalizeReferrals(inputs: Iterable<unknown>, lineage: Lineage): NormalizeResult {
  checkLineage(lineage);
  const result = emptyResult();
  for (const input of inputs) normalizeInto(PLAN, input, lineage, result);
  return result;
}

/**
 * The `_source_updated_date_time` that normalizeReferral gives this input's rows: updatedDateTime in
 * epoch microseconds, or null when it is absent or was not kept (quarantined). The sync's dedupe
 * decides "newer" on this value (src/sync/version.ts), so it must be the row's cell, not a reading
 * of its own.
 */
export function sourceUpdatedMicros(input: unknown): number | null {
  if (!isRecord(input)) return null;
  const cell = UPDATED.convert(input[UPDATED.key]);
  return typeof cell === 'number' ? cell : null;
}

/**
 * The `referral_id` that normalizeReferral gives this input's rows (an id with lone surrogates is
 * kept repaired), or undefined when the input is quarantined whole and has no rows. The sync
 * dedupes by it, so two copies are one referral exactly when their rows say so.
 */
export function referralIdOf(input: unknown): string | undefined {
  if (referralRejection(PLAN, input) !== undefined || !isRecord(input)) return undefined;
  const cell = ID.convert(input[ID.key]);
  const id = cell instanceof Rejection ? cell.replacement : cell;
  return typeof id === 'string' ? id : undefined;
}

function topLevelColumn(plan: NormalizePlan, index: number): PathColumn {
  const column = plan.main.paths.find((c) => c.index === index);
  // referralIdOf and sourceUpdatedMicros read the key from the record itself, not from nested objects.
  if (column?.node !== 0) throw new Error(`referrals column ${index} must be read from a top-level key`);
  return column;
}

export function emptyResult(): NormalizeResult {
  const rows = {} as Record<TableName, Row[]>;
  for (const name of TABLE_NAMES) rows[name] = [];
  return { rows, quarantine: [] };
}

function checkLineage(lineage: Lineage): void {
  if (typeof lineage.runId !== 'string' || lineage.runId === '')
    throw new TypeError('lineage.runId must be a non-empty string');
  if (!Number.isSafeInteger(lineage.extractedAtMicros)) {
    throw new TypeError(`lineage.extractedAtMicros must be integer microseconds, got ${lineage.extractedAtMicros}`);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Where a record sits (the referral, or item `ordinal` of `arrayPath`) and the quarantine it
 * reports to. Full paths are only built for an entry: most records have none.
 */
class RecordScope implements UnserializableSink {
  constructor(
    private readonly entries: QuarantineEntry[],
    readonly referralId: string | null,
    readonly plan: RecordPlan,
    private readonly arrayPath: string | null = null,
    private readonly ordinal = 0,
  ) {}

  report(column: string | null, relativePath: string, reason: string, value: unknown): void {
    const source = this.arrayPath === null ? relativePath : joinPath(`${this.arrayPath}/${this.ordinal}`, relativePath);
    this.entries.push({
      referral_id: this.referralId,
      table: this.plan.table,
      column,
      source,
      reason,
      value: previewValue(value),
    });
  }

  unserializable(relativePath: string, value: unknown): void {
    this.report(this.plan.extraColumn, relativePath, 'not_json: the value has no JSON text', value);
  }
}

function joinPath(base: string, relative: string): string {
  return relative === '' ? base : `${base}/${relative}`;
}

/** One referral's rows and entries, committed to the result only once all were made. */
interface Normalized {
  readonly row: Row;
  readonly children: Readonly<Record<ChildTableName, Row[] | null>>;
  readonly entries: readonly QuarantineEntry[];
}

function normalizeInto(plan: NormalizePlan, input: unknown, lineage: Lineage, out: NormalizeResult): void {
  let id: string | null = null;
  let made: Normalized;
  try {
    const rejection = referralRejection(plan, input);
    if (rejection !== undefined || !isRecord(input)) {
      rejectReferral(out.quarantine, plan, input, rejection ?? 'not_an_object');
      return;
    }
    id = input[plan.idKey] as string;
    made = normalizeRecord(plan, input, id, lineage);
  } catch (error) {
    // Only a getter or proxy in a hand-built input can get here (JSON has neither); the referral
    // is still accounted for, and its partial rows are dropped with it.
    const message = error instanceof Error ? error.message : String(error);
    rejectReferral(out.quarantine, plan, input, `internal_error: ${message}`, id);
    return;
  }
  out.rows.referrals.push(made.row);
  for (const child of plan.children) {
    const rows = made.children[child.table];
    if (rows) for (const r of rows) out.rows[child.table].push(r);
  }
  for (const entry of made.entries) out.quarantine.push(entry);
}

/** Why the input cannot be a referral at all (no object, no id), or undefined when it can. */
function referralRejection(plan: NormalizePlan, input: unknown): string | undefined {
  if (!isRecord(input)) return `not_an_object: a referral must be an object, got ${describeKind(input)}`;
  const id = input[plan.idKey];
  if (typeof id === 'string' && id !== '') return undefined;
  const got = id === '' ? 'an empty string' : describeKind(id);
  return `missing_id: ${plan.idKey} must be a non-empty string, got ${got}`;
}

function normalizeRecord(
  plan: NormalizePlan,
  input: Readonly<Record<string, unknown>>,
  id: string,
  lineage: Lineage,
): Normalized {
  const entries: QuarantineEntry[] = [];
  const scope = new RecordScope(entries, id, plan.main);
  const nodes = resolveNodes(input, scope);
  const values = recordCells(input, nodes, scope, id, 0);
  const sourceUpdated = values[plan.updatedIndex];
  const lineageContext: LineageContext = {
    runId: lineage.runId,
    extractedAtMicros: lineage.extractedAtMicros,
    // The same cell sourceUpdatedMicros reads: null for a quarantined value, whatever its replacement.
    sourceUpdatedMicros: typeof sourceUpdated === 'number' ? sourceUpdated : null,
  };
  // The id as the main row holds it (a repaired string stays joinable).
  const idCell = values[plan.idIndex];
  const parentId = typeof idCell === 'string' ? idCell : id;
  const children = {} as Record<ChildTableName, Row[] | null>;
  for (const child of plan.children) {
    children[child.table] = childRows(child, nodes[child.holderNode], parentId, lineageContext, entries);
  }
  fillLineage(plan.main, values, lineageContext);
  const row = plan.main.makeRow(values);
  fillDerived(plan.main, row, { row, children, extractedAtMicros: lineage.extractedAtMicros });
  return { row, children, entries };
}

/** Quarantines a whole input: no object or no id, so no rows. */
function rejectReferral(
  entries: QuarantineEntry[],
  plan: NormalizePlan,
  input: unknown,
  reason: string,
  id: string | null = null,
): void {
  new RecordScope(entries, id, plan.main).report(null, WHOLE_REFERRAL, reason, input);
}

/**
 * Looks up the plan's nested objects in `record`, parents first. An absent or null object leaves
 * its columns null; anything else that is not an object is quarantined once, here, and its columns
 * are null too (they are not reported again).
 */
function resolveNodes(
  record: Readonly<Record<string, unknown>>,
  scope: RecordScope,
): (Readonly<Record<string, unknown>> | undefined)[] {
  const planNodes = scope.plan.nodes;
  const nodes: (Readonly<Record<string, unknown>> | undefined)[] = [record];
  for (let i = 1; i < planNodes.length; i++) {
    const node = planNodes[i];
    const holder = node ? nodes[node.parent] : undefined;
    const value = node && holder ? holder[node.key] : undefined;
    if (isRecord(value)) {
      nodes.push(value);
      continue;
    }
    nodes.push(undefined);
    if (node && value !== undefined && value !== null) {
      scope.report(null, node.path, `not_an_object: got ${describeKind(value)}`, value);
    }
  }
  return nodes;
}

/** The cells of a record's row by column position: path, parent, ordinal and extra columns. */
function recordCells(
  record: Readonly<Record<string, unknown>>,
  nodes: readonly (Readonly<Record<string, unknown>> | undefined)[],
  scope: RecordScope,
  parentId: string,
  ordinal: number,
): Cell[] {
  const plan = scope.plan;
  // slice() of a packed all-null array: one copy, and the result stays packed (fast to read).
  const values = plan.blank.slice();
  for (const column of plan.paths) {
    const holder = nodes[column.node];
    const raw = holder === undefined ? undefined : holder[column.key];
    const cell = column.convert(raw);
    if (cell instanceof Rejection) {
      scope.report(column.name, column.source, cell.reason, raw);
      values[column.index] = cell.replacement;
    } else {
      values[column.index] = cell;
    }
  }
  if (plan.parentIndex >= 0) values[plan.parentIndex] = parentId;
  if (plan.ordinalIndex >= 0) values[plan.ordinalIndex] = ordinal;
  if (plan.extraIndex >= 0) values[plan.extraIndex] = extraJson(record, plan.known, scope);
  return values;
}

function fillLineage(plan: RecordPlan, values: Cell[], lineage: LineageContext): void {
  for (const column of plan.lineage) values[column.index] = column.fn(lineage);
}

function fillDerived(plan: RecordPlan, row: Record<string, Cell>, derive: DeriveContext): void {
  for (const column of plan.derived) row[column.name] = column.fn(derive);
}

/**
 * Rows for one array. Null when the array is absent, null or not an array (the last quarantined);
 * `{}` counts as empty, as the API sends `customerProfile.ids`. An item that is not an object is
 * quarantined and skipped; the others keep their array position as ordinal.
 */
function childRows(
  plan: ChildPlan,
  holder: Readonly<Record<string, unknown>> | undefined,
  parentId: string,
  lineage: LineageContext,
  entries: QuarantineEntry[],
): Row[] | null {
  const value = holder === undefined ? undefined : holder[plan.arrayKey];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    if (isRecord(value) && Object.keys(value).length === 0) return [];
    new RecordScope(entries, parentId, plan).report(
      null,
      plan.arrayPath,
      `not_an_array: got ${describeKind(value)}`,
      value,
    );
    return null;
  }
  const rows: Row[] = [];
  for (let ordinal = 0; ordinal < value.length; ordinal++) {
    const item: unknown = value[ordinal];
    const scope = new RecordScope(entries, parentId, plan, plan.arrayPath, ordinal);
    if (!isRecord(item)) {
      scope.report(null, '', `not_an_object: array item is ${describeKind(item)}`, item);
      continue;
    }
    const values = recordCells(item, resolveNodes(item, scope), scope, parentId, ordinal);
    fillLineage(plan, values, lineage);
    rows.push(plan.makeRow(values));
  }
  return rows;
}

/**
 * Turns the table declaration (src/schema/tables.ts) into extraction plans, once at load: paths
 * are split here, never per row. A plan says, for one kind of record (the referral, or an item of
 * one array), which nested objects to look up and how to fill each column from them.
 *
 * An inconsistent declaration (a derived column without a function, a path under a scalar) throws
 * at load: it is a programming error, caught by any test that imports the normalizer.
 */

import type { DeriveFn, LineageFn } from '../schema/derived.js';
import type { Cell } from '../schema/table.js';
import {
  type ChildTableName,
  DERIVED,
  isPathSource,
  type LakeTableSpec,
  LINEAGE,
  ORIGIN,
  TABLES,
  type TableName,
} from '../schema/tables.js';
import { CONVERTERS, type Converter } from './coerce.js';

/** A nested object a record's columns read from; node 0 is the record itself. */
export interface ObjectNode {
  /** Index of the parent node (-1 for the record). */
  readonly parent: number;
  readonly key: string;
  /** `/`-separated path from the record, for quarantine entries. */
  readonly path: string;
}

/** A column read from a path: `key` of nested object `node`, converted to the column's type. */
export interface PathColumn {
  readonly name: string;
  /** Position in the table's columns, i.e. in the row's values. */
  readonly index: number;
  readonly node: number;
  readonly key: string;
  readonly source: string;
  readonly convert: Converter;
}

export interface LineageColumn {
  readonly index: number;
  readonly fn: LineageFn;
}

export interface DerivedColumn {
  readonly name: string;
  readonly fn: DeriveFn;
}

/**
 * Keys the declaration covers, as a tree: a nested node for an object it reads into, null for a
 * key read whole (a scalar column, or an array that has its own table).
 */
export interface KnownKeys {
  /** Path of this object from the record with a trailing `/` ('' for the record itself). */
  readonly path: string;
  readonly keys: ReadonlyMap<string, KnownKeys | null>;
}

interface KnownKeysBuilder extends KnownKeys {
  readonly keys: Map<string, KnownKeysBuilder | null>;
}

/** Makes a row from its cells in declared column order. */
export type RowFactory = (values: readonly Cell[]) => Record<string, Cell>;

/**
 * How to make one table's row from one record. Columns are grouped by origin so the per-row loops
 * see one object shape each, and cells are gathered by column position, then turned into a row by
 * `makeRow`.
 */
export interface RecordPlan {
  readonly table: TableName;
  /** One null per column: the start of every row's cells. */
  readonly blank: readonly Cell[];
  readonly nodes: readonly ObjectNode[];
  readonly paths: readonly PathColumn[];
  /** Positions of the single-origin columns; -1 when the table has none. */
  readonly parentIndex: number;
  readonly ordinalIndex: number;
  readonly extraIndex: number;
  /** Name of the `[extra]` column, which quarantine entries about unknown fields name too. */
  readonly extraColumn: string | null;
  readonly lineage: readonly LineageColumn[];
  /** Set on the finished row, in declaration order: a derived column may read those before it. */
  readonly derived: readonly DerivedColumn[];
  readonly known: KnownKeys;
  readonly makeRow: RowFactory;
}

export interface ChildPlan extends RecordPlan {
  readonly table: ChildTableName;
  readonly arrayPath: string;
  /** The main plan's node holding the array, and the array's key in it. */
  readonly holderNode: number;
  readonly arrayKey: string;
}

export interface NormalizePlan {
  readonly main: RecordPlan;
  readonly children: readonly ChildPlan[];
  /** Key of the referral's id (the main table's non-nullable path column). */
  readonly idKey: string;
  /** Position of the main-table column holding the id: child rows' parent key. */
  readonly idIndex: number;
  /** Position of the main-table column holding updatedDateTime, for `_source_updated_date_time`. */
  readonly updatedIndex: number;
}

class PlanBuilder {
  readonly nodes: ObjectNode[] = [{ parent: -1, key: '', path: '' }];
  private readonly index = new Map<string, number>([['', 0]]);
  private readonly known: KnownKeysBuilder = { path: '', keys: new Map() };

  /** Index of the object node at `segments`, adding it and its parents as needed. */
  node(segments: readonly string[]): number {
    let parent = 0;
    for (let depth = 1; depth <= segments.length; depth++) {
      const path = segments.slice(0, depth).join('/');
      let found = this.index.get(path);
      if (found === undefined) {
        found = this.nodes.length;
        this.nodes.push({ parent, key: segments[depth - 1] ?? '', path });
        this.index.set(path, found);
      }
      parent = found;
    }
    return parent;
  }

  /** Records that the declaration reads `segments` whole (as a scalar or as a child table's array). */
  markKnown(table: string, segments: readonly string[]): void {
    let level = this.known;
    for (const [i, segment] of segments.entries()) {
      const last = i === segments.length - 1;
      const existing = level.keys.get(segment);
      if (last) {
        if (existing !== undefined)
          throw new Error(`${table}: ${segments.join('/')} is declared twice or as an object`);
        level.keys.set(segment, null);
        return;
      }
      if (existing === null) throw new Error(`${table}: ${segments.join('/')} goes through a scalar`);
      const next: KnownKeysBuilder = existing ?? { path: `${segments.slice(0, i + 1).join('/')}/`, keys: new Map() };
      level.keys.set(segment, next);
      level = next;
    }
  }

  knownKeys(): KnownKeys {
    return this.known;
  }
}

function splitPath(source: string): string[] {
  const segments = source.split('/');
  if (segments.some((s) => s === '')) throw new Error(`bad source path "${source}"`);
  return segments;
}

type MutablePlan = {
  -readonly [K in keyof RecordPlan]: RecordPlan[K] extends readonly (infer T)[] ? T[] : RecordPlan[K];
};

function compileColumn(table: LakeTableSpec, index: number, builder: PlanBuilder, plan: MutablePlan): void {
  const column = table.columns[index];
  if (!column) return;
  const { name, source } = column;
  if (isPathSource(source)) {
    const segments = splitPath(source);
    builder.markKnown(table.name, segments);
    const node = builder.node(segments.slice(0, -1));
    const key = segments[segments.length - 1] ?? '';
    plan.paths.push({ name, index, node, key, source, convert: CONVERTERS[column.type] });
    return;
  }
  switch (source) {
    case ORIGIN.parent:
      plan.parentIndex = onlyOne(table, plan.parentIndex, index);
      return;
    case ORIGIN.ordinal:
      plan.ordinalIndex = onlyOne(table, plan.ordinalIndex, index);
      return;
    case ORIGIN.extra:
      plan.extraIndex = onlyOne(table, plan.extraIndex, index);
      plan.extraColumn = name;
      return;
    case ORIGIN.lineage: {
      const fn = LINEAGE[name];
      if (!fn) throw new Error(`${table.name}.${name}: no LINEAGE function`);
      plan.lineage.push({ index, fn });
      return;
    }
    case ORIGIN.derived: {
      const fn = DERIVED[table.name]?.[name];
      if (!fn) throw new Error(`${table.name}.${name}: no DERIVED function`);
      if (table.arrayPath !== undefined)
        throw new Error(`${table.name}.${name}: derived columns live in referrals only`);
      plan.derived.push({ name, fn });
      return;
    }
    default:
      throw new Error(`${table.name}.${name}: unknown source ${source}`);
  }
}

function onlyOne(table: LakeTableSpec, existing: number, index: number): number {
  if (existing !== -1) throw new Error(`${table.name}: columns ${existing} and ${index} have the same origin`);
  return index;
}

/**
 * A row factory with the column names written out as an object literal. This is the one piece
 * of generated code, and it is there for speed: V8 builds a literal in one allocation with a
 * shape known in advance, whereas adding or copying dozens of properties by computed name (or
 * spreading templates of nine shapes at one call site) took most of the normalizer's time. Names
 * enter the source only as JSON string literals.
 */
function rowFactory(table: LakeTableSpec): RowFactory {
  const fields = table.columns.map((c, i) => `${JSON.stringify(c.name)}: values[${i}]`);
  return new Function('values', `"use strict"; return { ${fields.join(', ')} };`) as RowFactory;
}

function compileRecord(table: LakeTableSpec, builder: PlanBuilder): RecordPlan {
  const plan: MutablePlan = {
    table: table.name,
    blank: table.columns.map(() => null),
    nodes: builder.nodes,
    paths: [],
    parentIndex: -1,
    ordinalIndex: -1,
    extraIndex: -1,
    extraColumn: null,
    lineage: [],
    derived: [],
    known: builder.knownKeys(),
    makeRow: rowFactory(table),
  };
  for (let index = 0; index < table.columns.length; index++) compileColumn(table, index, builder, plan);
  return plan;
}

/** Compiles TABLES (or a test's variant): the first table is the referral, the rest its arrays. */
export function compilePlan(tables: readonly LakeTableSpec[] = TABLES): NormalizePlan {
  const [mainTable, ...childTables] = tables;
  if (!mainTable || mainTable.arrayPath !== undefined) throw new Error('the first table must be the referrals table');
  const mainBuilder = new PlanBuilder();
  const children: ChildPlan[] = childTables.map((table) => {
    if (table.arrayPath === undefined || table.name === 'referrals') throw new Error(`${table.name}: no arrayPath`);
    const segments = splitPath(table.arrayPath);
    mainBuilder.markKnown(table.name, segments);
    const holderNode = mainBuilder.node(segments.slice(0, -1));
    const plan = compileRecord(table, new PlanBuilder());
    return {
      ...plan,
      table: table.name,
      arrayPath: table.arrayPath,
      holderNode,
      arrayKey: segments[segments.length - 1] ?? '',
    };
  });
  const main = compileRecord(mainTable, mainBuilder);
  const idIndex = mainTable.columns.findIndex((c) => !c.nullable && isPathSource(c.source));
  const idKey = mainTable.columns[idIndex]?.source;
  const updatedIndex = mainTable.columns.findIndex((c) => c.source === 'updatedDateTime');
  if (idKey === undefined || idKey.includes('/')) throw new Error('referrals needs a non-nullable top-level id column');
  if (updatedIndex < 0) throw new Error('referrals needs an updatedDateTime column for lineage');
  return { main, children, idKey, idIndex, updatedIndex };
}

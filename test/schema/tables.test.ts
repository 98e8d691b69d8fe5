import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/normalize/compile.js';
import { type Field, REFERRAL_FIELDS, type ScalarKind } from '../../src/schema/referral-resource.js';
import type { ColumnType, TableSpec } from '../../src/schema/table.js';
import {
  DERIVED,
  findTable,
  getTable,
  isPathSource,
  isTableName,
  type LakeTableSpec,
  LINEAGE,
  ORIGIN,
  resolveArrayField,
  resolveColumnField,
  SCHEMA_VERSION,
  schemaFingerprint,
  TABLE_NAMES,
  TABLES,
  type TableName,
} from '../../src/schema/tables.js';

/** Every scalar of the resource model: its path, and the array it sits in (if any). */
interface ScalarPath {
  readonly path: string;
  readonly kind: ScalarKind;
  readonly nullable: boolean;
  /** The array field's path, and the scalar's path relative to one item. */
  readonly arrayPath?: string;
  readonly itemPath?: string;
}

function scalarPaths(fields: readonly Field[], prefix: string[] = [], array?: string): ScalarPath[] {
  const out: ScalarPath[] = [];
  for (const field of fields) {
    const path = [...prefix, field.name];
    const full = path.join('/');
    if (field.kind === 'object') out.push(...scalarPaths(field.fields, path, array));
    else if (field.kind === 'array') out.push(...scalarPaths(field.items, [], full));
    else {
      const base = { kind: field.kind, nullable: field.nullable ?? false };
      out.push(
        array === undefined
          ? { ...base, path: full }
          : { ...base, path: `${array}/${full}`, arrayPath: array, itemPath: full },
      );
    }
  }
  return out;
}

function arrayPaths(fields: readonly Field[], prefix: string[] = []): string[] {
  return fields.flatMap((field) => {
    const path = [...prefix, field.name];
    if (field.kind === 'object') return arrayPaths(field.fields, path);
    return field.kind === 'array' ? [path.join('/')] : [];
  });
}

const COMPATIBLE: Record<ScalarKind, ColumnType> = {
  string: 'string',
  enum: 'string',
  number: 'double',
  boolean: 'boolean',
  datetime: 'timestamp',
};

const MAIN = getTable('referrals');

describe('table declaration', () => {
  it('maps every scalar of the resource model to a column of the right table', () => {
    const scalars = scalarPaths(REFERRAL_FIELDS);
    expect(scalars.length).toBeGreaterThan(60);
    const unmapped = scalars
      .filter((s) => {
        const table = s.arrayPath === undefined ? MAIN : TABLES.find((t) => t.arrayPath === s.arrayPath);
        const source = s.itemPath ?? s.path;
        return !table?.columns.some((c) => c.source === source);
      })
      .map((s) => s.path);
    expect(unmapped, `scalars without a column: ${unmapped.join(', ')}`).toEqual([]);
  });

  it('has one child table per array of the resource model, and no other', () => {
    const arrays = arrayPaths(REFERRAL_FIELDS).sort();
    const children = TABLES.filter((t) => t.arrayPath !== undefined).map((t) => t.arrayPath ?? '');
    expect([...children].sort()).toEqual(arrays);
    expect(TABLES[0]?.name).toBe('referrals');
    expect(TABLES[0]?.arrayPath).toBeUndefined();
  });

  it('reads every path column from a scalar of a compatible type, no stricter than the wire', () => {
    const problems: string[] = [];
    for (const table of TABLES) {
      for (const column of table.columns.filter((c) => isPathSource(c.source))) {
        const field = resolveColumnField(table, column);
        const where = `${table.name}.${column.name} (${column.source})`;
        if (!field) problems.push(`${where}: not in the resource model`);
        else if (field.kind === 'object' || field.kind === 'array')
          problems.push(`${where}: reads a whole ${field.kind}`);
        else if (COMPATIBLE[field.kind] !== column.type) problems.push(`${where}: ${field.kind} as ${column.type}`);
        // A wire value can fail to parse, so only the referral id (no id, no row) may be non-nullable.
        else if (!column.nullable && !(table === MAIN && column.source === 'id'))
          problems.push(`${where}: not nullable`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses unique snake_case names: tables and columns', () => {
    expect(new Set(TABLES.map((t) => t.name)).size).toBe(TABLES.length);
    expect(TABLES.map((t) => t.name)).toEqual([...TABLE_NAMES]);
    for (const table of TABLES) {
      expect(table.name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      const names = table.columns.map((c) => c.name);
      expect(new Set(names).size, `${table.name} has a duplicate column`).toBe(names.length);
      for (const name of names) expect(name, `${table.name}.${name}`).toMatch(/^_?[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      for (const column of table.columns) {
        expect(column.doc.length, `${table.name}.${column.name} doc`).toBeGreaterThan(5);
        expect(column.doc, `${table.name}.${column.name} doc is one line`).not.toContain('\n');
      }
    }
  });

  it('names path columns after their path (the rules in tables.ts)', () => {
    const wrong = TABLES.flatMap((table) =>
      table.columns
        .filter((c) => isPathSource(c.source))
        .filter((c) => c.name !== expectedName(table, c.source))
        .map((c) => `${table.name}.${c.name} (expected ${expectedName(table, c.source)})`),
    );
    expect(wrong).toEqual([]);
  });

  it('puts lineage and _extra_json last in every table, and the key first in child tables', () => {
    const trailer = ['_run_id', '_extracted_at', '_source_updated_date_time', '_extra_json'];
    for (const table of TABLES) {
      const names = table.columns.map((c) => c.name);
      expect(names.slice(-4), table.name).toEqual(trailer);
      expect(table.columns.slice(-4).map((c) => c.source)).toEqual([
        ORIGIN.lineage,
        ORIGIN.lineage,
        ORIGIN.lineage,
        ORIGIN.extra,
      ]);
      expect(table.columns.find((c) => c.name === '_extracted_at')).toMatchObject({
        type: 'timestamp',
        nullable: false,
      });
      expect(table.columns.find((c) => c.name === '_run_id')).toMatchObject({ type: 'string', nullable: false });
      if (table.arrayPath === undefined) continue;
      expect(table.columns.slice(0, 2)).toMatchObject([
        { name: 'referral_id', type: 'string', nullable: false, source: ORIGIN.parent },
        { name: 'ordinal', type: 'int64', nullable: false, source: ORIGIN.ordinal },
      ]);
    }
    expect(MAIN.columns[0]).toMatchObject({ name: 'referral_id', type: 'string', nullable: false, source: 'id' });
  });

  it('has a function for every derived and lineage column, and none left over', () => {
    for (const table of TABLES) {
      const derived = table.columns.filter((c) => c.source === ORIGIN.derived).map((c) => c.name);
      expect(Object.keys(DERIVED[table.name] ?? {}).sort(), table.name).toEqual([...derived].sort());
      const lineage = table.columns.filter((c) => c.source === ORIGIN.lineage).map((c) => c.name);
      expect(Object.keys(LINEAGE).sort()).toEqual([...lineage].sort());
    }
  });

  it('finds tables by name', () => {
    expect(findTable('referral_products')?.arrayPath).toBe('details/requirements/products');
    expect(findTable('nope')).toBeUndefined();
    expect(isTableName('referral_targets')).toBe(true);
    expect(isTableName('referral_target')).toBe(false);
    expect(getTable('referrals')).toBe(TABLES[0]);
    expect(resolveArrayField('customerProfile/ids')?.name).toBe('ids');
    expect(resolveArrayField('customerProfile/name')).toBeUndefined();
  });

  it('pins the schema version to the column shape: bump SCHEMA_VERSION on any column change', () => {
    // When this fails after a column change: bump SCHEMA_VERSION, then put the new fingerprint here.
    expect({ version: SCHEMA_VERSION, fingerprint: schemaFingerprint() }).toEqual({
      version: 1,
      fingerprint: '14f807ed08af91b1',
    });
    const renamed = TABLES.map((t) => (t.name === 'referrals' ? { ...t, columns: t.columns.slice(1) } : t));
    expect(schemaFingerprint(renamed)).not.toBe(schemaFingerprint());
    const reworded = TABLES.map((t) => ({ ...t, doc: `${t.doc} (reworded)` }));
    expect(schemaFingerprint(reworded)).toBe(schemaFingerprint());
  });
});

describe('compilePlan rejects an inconsistent declaration', () => {
  const withColumn = (column: LakeTableSpec['columns'][number]): LakeTableSpec[] =>
    TABLES.map((t) => (t.name === 'referrals' ? { ...t, columns: [...t.columns, column] } : t));

  it('accepts TABLES', () => {
    expect(() => compilePlan()).not.toThrow();
  });

  it('throws on a derived column without a function', () => {
    const tables = withColumn({ name: 'mystery', type: 'string', nullable: true, source: ORIGIN.derived, doc: 'x' });
    expect(() => compilePlan(tables)).toThrow(/mystery: no DERIVED function/);
  });

  it('throws on a path through a scalar, a duplicate path and an unknown origin', () => {
    const through = withColumn({ name: 'x', type: 'string', nullable: true, source: 'status/code', doc: 'x' });
    expect(() => compilePlan(through)).toThrow(/through a scalar/);
    const twice = withColumn({ name: 'x', type: 'string', nullable: true, source: 'status', doc: 'x' });
    expect(() => compilePlan(twice)).toThrow(/declared twice/);
    const unknown = withColumn({ name: 'x', type: 'string', nullable: true, source: '[magic]', doc: 'x' });
    expect(() => compilePlan(unknown)).toThrow(/unknown source/);
  });
});

// ---------------------------------------------------------------------------------------------
// The naming rules of tables.ts, written out independently of the declaration.

const SEGMENT_NAMES: Record<string, string> = {
  customerProfile: 'customer',
  eTag: 'etag',
  consentToToShareInfoWithOthers: 'consent_to_share_info_with_others',
};

/** The word an item's id/name/type carry in each child table (rule 4). */
const ENTITY: Partial<Record<TableName, string>> = {
  referral_products: 'product',
  referral_solutions: 'solution',
  referral_services: 'service',
  referral_industries: 'industry',
  referral_customer_ids: 'profile',
  referral_targets: 'target',
};

function snake(segment: string): string {
  return SEGMENT_NAMES[segment] ?? segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function expectedName(table: TableSpec, source: string): string {
  if (table.arrayPath === undefined && source === 'id') return 'referral_id';
  const parts = source.split('/').map(snake);
  const entity = isTableName(table.name) ? ENTITY[table.name] : undefined;
  if (entity && parts.length === 1 && ['id', 'name', 'type'].includes(parts[0] ?? '')) parts.unshift(entity);
  const kept: string[] = [];
  for (const part of parts) {
    const previous = kept[kept.length - 1];
    if (previous !== undefined && part.startsWith(`${previous}_`)) kept[kept.length - 1] = part;
    else kept.push(part);
  }
  return kept.join('_');
}

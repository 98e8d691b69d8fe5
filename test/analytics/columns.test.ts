/**
 * The analytics files (analytics/synapse, powerbi, spark) against the schema declaration: the
 * committed files are the generator's output, their column lists (parsed back from the files
 * themselves) are TABLES' names and types in order, their paths and filepath() indexes follow the
 * lake layout, and DuckDB finds exactly those columns in the Parquet a real sync writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { READER_TYPES, renderAnalytics, synapseType } from '../../src/analytics/render.js';
import { silentLogger } from '../../src/common/log.js';
import { dataFilePath, latestFolder } from '../../src/lake/layout/paths.js';
import type { TableSpec } from '../../src/schema/table.js';
import { HISTORY_TABLES, TABLES } from '../../src/schema/tables.js';
import { runSyncJob } from '../../src/sync/job.js';
import { deltaParquetSource } from '../helpers/delta-replay.js';
import { type DuckDb, duckdbType, openDuckDb, sqlString } from '../helpers/duckdb.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

type Column = readonly [name: string, type: string];

/** What a table's columns must read as, by reader. */
const expected = (table: TableSpec, reader: 'synapse' | 'powerQuery' | 'spark'): Column[] =>
  table.columns.map((c) => [c.name, reader === 'synapse' ? synapseType(c) : READER_TYPES[c.type][reader]]);

// ---- Parsers: read the files back, independently of how they were rendered -------------------

interface SynapseView {
  readonly name: string;
  readonly bulk: string;
  readonly format: string;
  readonly columns: Column[];
  /** Partition column → filepath() index. */
  readonly partitions: Map<string, number>;
}

function synapseViews(sql: string): SynapseView[] {
  return [...sql.matchAll(/CREATE OR ALTER VIEW dbo\.(\w+) AS\n([\s\S]*?)\nGO/g)].map(([, name = '', body = '']) => {
    const withBlock = /\) WITH \(\n([\s\S]*?)\n\) AS r/.exec(body)?.[1] ?? '';
    const columns = withBlock.split('\n').map((line): Column => {
      const m = /^ {4}(\w+) ([A-Z0-9]+(?:\((?:\d+|MAX)\))?),?(?: +--.*)?$/.exec(line);
      if (!m) throw new Error(`unparsed column line in ${name}: ${line}`);
      return [m[1] ?? '', m[2] ?? ''];
    });
    const partitions = new Map(
      [...body.matchAll(/CAST\(r\.filepath\((\d+)\) AS [A-Z0-9()]+\) AS (\w+)/g)].map((m) => [
        m[2] ?? '',
        Number(m[1]),
      ]),
    );
    const format = /FORMAT = '(\w+)'/.exec(body)?.[1] ?? '';
    return { name, bulk: /BULK '([^']+)'/.exec(body)?.[1] ?? '', format, columns, partitions };
  });
}

function powerQueryColumns(m: string): { folder: string; names: string[]; types: Map<string, string> } {
  const selected = /Table\.SelectColumns\(\s*Combined,\s*\{([\s\S]*?)\}\s*\)/.exec(m)?.[1] ?? '';
  const types = new Map<string, string>();
  for (const [, name = '', type = ''] of m.matchAll(/\{"(\w+)", (?:each [^\n]*?, )?(type \w+|Int64\.Type)\}/g)) {
    types.set(name, type);
  }
  return {
    folder: /LakeUrl & "\/(\w+)"/.exec(m)?.[1] ?? '',
    names: [...selected.matchAll(/"(\w+)"/g)].map((x) => x[1] ?? ''),
    types,
  };
}

function sparkSchemas(py: string): Map<string, Column[]> {
  const schemas = new Map<string, Column[]>();
  for (const [, table = '', body = ''] of py.matchAll(/^ {4}"(\w+)": ", "\.join\(\[\n([\s\S]*?)\n {4}\]\),$/gm)) {
    schemas.set(
      table,
      [...body.matchAll(/"(\w+) (\w+)"/g)].map((x): Column => [x[1] ?? '', x[2] ?? '']),
    );
  }
  return schemas;
}

/** `<table>/snapshot_date=*\/run_id=*\/*.parquet`, from the layout's own path for a data file. */
function layoutGlob(table: string): string {
  const path = dataFilePath({ table, snapshotDate: '2026-01-02', runId: '20260102T030405Z-abcd' }, 'parquet');
  return path.replace(/=[^/]+/g, '=*').replace(/[^/]+\.parquet$/, '*.parquet');
}

// ---- The tests --------------------------------------------------------------------------------

describe('analytics files', () => {
  it('are the generator’s output, and nothing else is in analytics/', () => {
    const rendered = renderAnalytics();
    for (const [path, content] of rendered) {
      const committed = (() => {
        try {
          return read(path);
        } catch {
          return '';
        }
      })();
      expect(committed === content, `${path} is stale: run \`npm run analytics:gen\``).toBe(true);
    }
    const onDisk = readdirSync(join(REPO, 'analytics'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(REPO, join(e.parentPath, e.name)));
    expect(onDisk.sort()).toEqual([...rendered.keys()].sort());
  });

  it('rendering changes with the schema, so a column change makes the files stale', () => {
    const extra = { name: 'new_col', type: 'string', nullable: true, source: 'newCol', doc: 'New.' } as const;
    const changed = TABLES.map((t) => (t.name === 'referral_targets' ? { ...t, columns: [...t.columns, extra] } : t));
    const path = 'analytics/synapse/referral_targets.sql';
    expect(renderAnalytics(changed).get(path)).toContain('new_col VARCHAR(8000)');
    expect(renderAnalytics(changed).get(path)).not.toBe(renderAnalytics().get(path));
  });

  describe('Synapse serverless views', () => {
    for (const table of TABLES) {
      it(`${table.name}.sql: snapshot and latest views with the declared columns and types`, () => {
        const views = synapseViews(read(`analytics/synapse/${table.name}.sql`));
        expect(views.map((v) => v.name)).toEqual([table.name, latestFolder(table.name)]);
        const [snapshot, latest] = views;
        expect(snapshot?.columns).toEqual(expected(table, 'synapse'));
        expect(latest?.columns).toEqual(expected(table, 'synapse'));
        expect(snapshot?.bulk).toBe(layoutGlob(table.name));
        // The Delta table's root, read through its log: a glob would also count earlier versions' files.
        expect(latest?.bulk).toBe(`${latestFolder(table.name)}/`);
        expect(latest?.format).toBe('DELTA');
        expect(latest?.partitions.size).toBe(0);
      });
    }

    it('partition columns come from the wildcard of their own folder (filepath index)', () => {
      for (const table of TABLES) {
        const [snapshot] = synapseViews(read(`analytics/synapse/${table.name}.sql`));
        const wildcards = (snapshot?.bulk ?? '').split('/').filter((s) => s.includes('*'));
        expect([...(snapshot?.partitions.keys() ?? [])]).toEqual(['snapshot_date', 'run_id']);
        for (const [name, index] of snapshot?.partitions ?? []) expect(wildcards[index - 1]).toBe(`${name}=*`);
      }
    });

    it('every type used is one the mapping allows for the declared type', () => {
      const allowed = new Set<string>([...Object.values(READER_TYPES).map((t) => t.synapse), 'VARCHAR(MAX)']);
      for (const table of TABLES) {
        for (const view of synapseViews(read(`analytics/synapse/${table.name}.sql`))) {
          for (const [, type] of view.columns) expect(allowed, `${view.name}: ${type}`).toContain(type);
        }
      }
    });
  });

  describe('the history tables (Delta tables at the lake root)', () => {
    for (const table of HISTORY_TABLES) {
      it(`${table.name}: a Synapse view over the Delta table and a Power Query with DeltaLake.Table`, () => {
        const views = synapseViews(read(`analytics/synapse/${table.name}.sql`));
        expect(views.map((v) => [v.name, v.bulk, v.format])).toEqual([[table.name, `${table.name}/`, 'DELTA']]);
        expect(views[0]?.columns).toEqual(expected(table, 'synapse'));
        const m = read(`analytics/powerbi/${table.name}.pq`);
        expect(m).toContain('DeltaLake.Table(');
        const parsed = powerQueryColumns(m);
        expect(parsed.folder).toBe(table.name);
        expect(parsed.names.map((n) => [n, parsed.types.get(n)])).toEqual(expected(table, 'powerQuery'));
      });
    }
  });

  describe('Power Query', () => {
    for (const table of TABLES) {
      it(`${latestFolder(table.name)}.pq reads the latest folder with the declared columns and types`, () => {
        const m = read(`analytics/powerbi/${latestFolder(table.name)}.pq`);
        expect(m).toContain('AzureStorage.DataLake(');
        expect(m).toContain('DeltaLake.Table(');
        expect(m).not.toContain('Parquet.Document(');
        const parsed = powerQueryColumns(m);
        expect(parsed.folder).toBe(latestFolder(table.name));
        expect(parsed.names).toEqual(table.columns.map((c) => c.name));
        expect(parsed.names.map((n) => [n, parsed.types.get(n)])).toEqual(expected(table, 'powerQuery'));
      });
    }
  });

  describe('Spark', () => {
    it('read_lake.py declares every table with the declared columns and Spark types', () => {
      const py = read('analytics/spark/read_lake.py');
      const schemas = sparkSchemas(py);
      const all = [...TABLES, ...HISTORY_TABLES];
      expect([...schemas.keys()]).toEqual(all.map((t) => t.name));
      for (const table of all) expect(schemas.get(table.name), table.name).toEqual(expected(table, 'spark'));
      expect(py).toContain('spark.read.format("delta").load(f"{LAKE}/{table}")');
      expect(py).toContain('.option("basePath", root)');
      expect(py).toContain(`{root}/${layoutGlob('referrals').replace('referrals/', '')}`);
    });
  });
});

describe('analytics columns against Parquet a real sync wrote (DuckDB)', () => {
  let sandbox: Sandbox;
  let lake: string;
  let duck: DuckDb;

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 120, seed: 9 });
    lake = await mkdtemp(join(tmpdir(), 'analytics-lake-'));
    await runSyncJob(
      { ...sandbox.env, LAKE_LOCAL_DIR: lake, PARTNER_CENTER_TOKEN_CACHE: 'lake', SYNC_CONCURRENCY: '2' },
      { mode: 'full' },
      { logger: silentLogger },
    );
    duck = await openDuckDb();
  });
  afterAll(async () => {
    duck?.close();
    await sandbox?.close();
    if (lake) await rm(lake, { recursive: true, force: true });
  });

  for (const table of TABLES) {
    it(`${table.name}: the views' columns are the files' columns, partitions included`, async () => {
      const [snapshot, latest] = synapseViews(read(`analytics/synapse/${table.name}.sql`));
      const glob = join(lake, ...(snapshot?.bulk ?? '').split('/'));
      const found = await duck.describe(`read_parquet(${sqlString(glob)}, hive_partitioning = true)`);
      const declared = Object.fromEntries(table.columns.map((c) => [c.name, duckdbType(c)]));
      expect(found).toEqual({ ...declared, snapshot_date: 'DATE', run_id: 'VARCHAR' });
      // The files' own columns in the views' order; DuckDB appends the partition columns (in its own order).
      const partitions = [...(snapshot?.partitions.keys() ?? [])];
      expect(Object.keys(found).filter((n) => !partitions.includes(n))).toEqual(snapshot?.columns.map(([n]) => n));
      expect(
        Object.keys(found)
          .filter((n) => partitions.includes(n))
          .sort(),
      ).toEqual([...partitions].sort());
      const latestFound = await duck.describe(deltaParquetSource(join(lake, ...(latest?.bulk ?? '').split('/'))));
      expect(Object.keys(latestFound)).toEqual(latest?.columns.map(([n]) => n));
      expect(latestFound).toEqual(declared);
    });
  }
});

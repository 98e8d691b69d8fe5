/**
 * referral_status_history, checked where it can run. The view's SQL is one core rendered per
 * dialect (src/analytics/status-history.ts); here DuckDB runs the DuckDB rendering of that core on a
 * small referral_versions table with known stretches, and the assertions are the answers worked out
 * by hand: the stretches, valid_to nulls, days in stage and the window flag, case by case.
 *
 * What that proves for the shipped files, and what not:
 * - Synapse and Spark: the committed view and read_lake.py hold the same core, rendered with their
 *   dialect; a test below shows every rendering is the core text with only the dialect's tokens
 *   filled in (clock, booleans, microseconds between instants, type names, source). So the logic
 *   DuckDB ran is theirs. Not verified here: that T-SQL and Spark SQL accept those spellings and mean
 *   by them what DuckDB does (DATEDIFF/DATEPART, unix_micros, window frames), and the Synapse
 *   OPENROWSET itself; neither engine runs offline.
 * - Power Query: its M is separate code (M cannot run the SQL). Only its structure is asserted: it
 *   reads the same columns through DeltaLake.Table, sorts and groups with GroupKind.Local on the
 *   stretch key, builds the declared columns in order from the per-column M of the same declaration,
 *   and types them as declared. Its results are not run (no M engine here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READER_TYPES } from '../../src/analytics/readers.js';
import { ANALYTICS_DOC_PATH, renderAnalyticsDoc } from '../../src/analytics/render.js';
import {
  duckdbDialect,
  SPARK_DIALECT,
  SPARK_VERSIONS_VIEW,
  type SqlDialect,
  STATUS_HISTORY_COLUMNS,
  STATUS_HISTORY_READS,
  SYNAPSE_DIALECT,
  statusHistorySql,
} from '../../src/analytics/status-history.js';
import { type DeriveContext, respondBy } from '../../src/schema/derived.js';
import { REFERRAL_VERSIONS } from '../../src/schema/tables.js';
import { type DuckDb, duckdbType, openDuckDb, type PlainRow, sqlString } from '../helpers/duckdb.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

const micros = (iso: string) => Date.parse(iso) * 1000;
const DAY = 86_400_000_000;
/** The query's "now", pinned so the current stretches and the window rule give known answers. */
const NOW = '2026-03-01T00:00:00Z';
const PINNED_NOW = `TIMESTAMPTZ '${NOW.replace('Z', '+00')}'`;

interface Version {
  readonly id: string;
  readonly at: string;
  readonly status: string | null;
  readonly substatus: string | null;
  readonly created: string;
  readonly direction?: string;
  readonly expiration?: string;
}

/** A referral_versions row as the sync writes it: respond_by derived by the normalizer's own rule. */
function versionRow(v: Version): Record<string, string | number | null> {
  const row = {
    referral_id: v.id,
    status: v.status,
    substatus: v.substatus,
    direction: v.direction ?? 'Incoming',
    type: 'Independent',
    created_date_time: micros(v.created),
    expiration_date_time: v.expiration ? micros(v.expiration) : null,
    updated_date_time: micros(v.at),
    _source_updated_date_time: micros(v.at),
    _run_id: '20260301T000000Z-abcd',
    _first_seen_run_id: '20260301T000000Z-abcd',
  };
  const respond = respondBy({ row, children: {} as DeriveContext['children'], extractedAtMicros: 0 });
  return { ...row, respond_by: respond as number | null };
}

const JAN1 = '2026-01-01T00:00:00Z';
/** Each case: its versions, and the stretches expected (status/substatus, from, to, flag). */
const CASES: Record<
  string,
  { versions: Omit<Version, 'id'>[]; stretches: [string, string, string | null, boolean | null][] }
> = {
  'answered in time (two versions in New, then Active)': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-02T06:00:00Z', status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-05T12:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-05T12:00:00Z', true],
      ['Active/Accepted', '2026-01-05T12:00:00Z', null, null],
    ],
  },
  'answered late': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-20T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-20T00:00:00Z', false],
      ['Active/Accepted', '2026-01-20T00:00:00Z', null, null],
    ],
  },
  'answered exactly at respond_by (created + 14 days)': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-15T00:00:00Z', status: 'Closed', substatus: 'Declined', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-15T00:00:00Z', true],
      ['Closed/Declined', '2026-01-15T00:00:00Z', null, null],
    ],
  },
  'left New by expiring, at respond_by': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-15T00:00:00Z', status: 'Closed', substatus: 'Expired', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-15T00:00:00Z', false],
      ['Closed/Expired', '2026-01-15T00:00:00Z', null, null],
    ],
  },
  'expirationDateTime sets the window: answered after it, inside created + 14': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1, expiration: '2026-01-05T00:00:00Z' },
      { at: '2026-01-08T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-08T00:00:00Z', false],
      ['Active/Accepted', '2026-01-08T00:00:00Z', null, null],
    ],
  },
  'still New inside the window': {
    versions: [{ at: '2026-02-20T00:00:00Z', status: 'New', substatus: 'Pending', created: '2026-02-20T00:00:00Z' }],
    stretches: [['New/Pending', '2026-02-20T00:00:00Z', null, null]],
  },
  'still New past the window': {
    versions: [{ at: '2026-02-01T00:00:00Z', status: 'New', substatus: 'Pending', created: '2026-02-01T00:00:00Z' }],
    stretches: [['New/Pending', '2026-02-01T00:00:00Z', null, false]],
  },
  'status flips back: New, Active, New again, Closed': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-03T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
      { at: '2026-01-10T00:00:00Z', status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-02-01T00:00:00Z', status: 'Closed', substatus: 'Won', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-03T00:00:00Z', true],
      ['Active/Accepted', '2026-01-03T00:00:00Z', '2026-01-10T00:00:00Z', null],
      // Its own deadline (created + 14 = Jan 15) had passed when it left New on Feb 1.
      ['New/Pending', '2026-01-10T00:00:00Z', '2026-02-01T00:00:00Z', false],
      ['Closed/Won', '2026-02-01T00:00:00Z', null, null],
    ],
  },
  'same status, another substatus: two stretches in New, both judged by when New was left': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-02T00:00:00Z', status: 'New', substatus: 'Received', created: JAN1 },
      { at: '2026-01-04T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-02T00:00:00Z', true],
      ['New/Received', '2026-01-02T00:00:00Z', '2026-01-04T00:00:00Z', true],
      ['Active/Accepted', '2026-01-04T00:00:00Z', null, null],
    ],
  },
  'substatus flips back within New: three stretches, not two': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-02T00:00:00Z', status: 'New', substatus: 'Received', created: JAN1 },
      { at: '2026-01-03T00:00:00Z', status: 'New', substatus: 'Pending', created: JAN1 },
      { at: '2026-01-20T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1 },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-01-02T00:00:00Z', false],
      ['New/Received', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z', false],
      ['New/Pending', '2026-01-03T00:00:00Z', '2026-01-20T00:00:00Z', false],
      ['Active/Accepted', '2026-01-20T00:00:00Z', null, null],
    ],
  },
  'outgoing: nothing to respond to': {
    versions: [
      { at: JAN1, status: 'New', substatus: 'Pending', created: JAN1, direction: 'Outgoing' },
      { at: '2026-02-20T00:00:00Z', status: 'Active', substatus: 'Accepted', created: JAN1, direction: 'Outgoing' },
    ],
    stretches: [
      ['New/Pending', JAN1, '2026-02-20T00:00:00Z', null],
      ['Active/Accepted', '2026-02-20T00:00:00Z', null, null],
    ],
  },
};

/** The referral id of a case: its index, so ids sort in case order. */
const caseId = (index: number) => `r${String(index).padStart(2, '0')}`;

describe('referral_status_history, the shipped SQL core run by DuckDB', () => {
  let duck: DuckDb;
  let rows: PlainRow[];

  beforeAll(async () => {
    duck = await openDuckDb();
    // referral_versions with its declared columns, typed as DuckDB reads them from our Parquet.
    const columns = REFERRAL_VERSIONS.columns.map((c) => `"${c.name}" ${duckdbType(c)}`).join(', ');
    await duck.query(`CREATE TABLE referral_versions (${columns})`);
    const versions = Object.values(CASES).flatMap((c, i) => c.versions.map((v) => versionRow({ ...v, id: caseId(i) })));
    // A version without an updatedDateTime has no place in time: the view leaves it out.
    const timeless = versionRow({
      id: caseId(0),
      at: '2026-01-03T00:00:00Z',
      status: 'Closed',
      substatus: 'Lost',
      created: JAN1,
    });
    versions.push({ ...timeless, _source_updated_date_time: null });
    for (const row of versions) {
      const names = Object.keys(row);
      const values = names.map((n) => {
        const value = row[n];
        if (value === null || value === undefined) return 'NULL';
        const column = REFERRAL_VERSIONS.columns.find((c) => c.name === n);
        return column?.type === 'timestamp' ? `to_timestamp(0) + to_microseconds(${value})` : sqlString(String(value));
      });
      await duck.query(`INSERT INTO referral_versions (${names.join(', ')}) VALUES (${values.join(', ')})`);
    }
    const sql = statusHistorySql(duckdbDialect('referral_versions', PINNED_NOW));
    rows = await duck.query(`SELECT * FROM (${sql}) ORDER BY referral_id, valid_from`);
  });
  afterAll(() => duck?.close());

  Object.entries(CASES).forEach(([name, { stretches }], index) => {
    it(name, () => {
      const found = rows.filter((r) => r.referral_id === caseId(index));
      expect(
        found.map((r) => [`${r.status}/${r.substatus}`, r.valid_from, r.valid_to, r.responded_within_window]),
      ).toEqual(stretches.map(([pair, from, to, flag]) => [pair, micros(from), to ? micros(to) : null, flag]));
      for (const [i, row] of found.entries()) {
        const [, from, to] = stretches[i] ?? [];
        expect(row.is_current, `stretch ${i}`).toBe(to === null);
        // Days to valid_to, or to "now" while current: exact, not rounded.
        const end = to ? micros(to) : micros(NOW);
        expect(row.days_in_stage, `stretch ${i}`).toBeCloseTo((end - micros(from ?? '')) / DAY, 9);
      }
    });
  });

  it('counts the versions of a stretch, carries its last version, and leaves out versions without a time', () => {
    const [first, second] = rows.filter((r) => r.referral_id === caseId(0));
    expect(first?.versions).toBe(2);
    expect(second?.versions).toBe(1);
    expect(first?.respond_by).toBe(micros('2026-01-15T00:00:00Z'));
    expect(second?.respond_by).toBe(null);
    expect(rows.some((r) => r.status === 'Closed' && r.referral_id === caseId(0))).toBe(false);
    expect(first?.direction).toBe('Incoming');
    expect(first?.created_date_time).toBe(micros(JAN1));
  });

  it('days are exact to the microsecond', async () => {
    const sql = statusHistorySql(duckdbDialect('precise', PINNED_NOW));
    await duck.query(`CREATE TABLE precise AS SELECT * FROM referral_versions WHERE referral_id = '${caseId(1)}'`);
    await duck.query(
      `UPDATE precise SET _source_updated_date_time = _source_updated_date_time + INTERVAL 1 MICROSECOND WHERE status = 'New'`,
    );
    const [row] = await duck.query(`SELECT days_in_stage FROM (${sql}) WHERE status = 'New'`);
    expect(row?.days_in_stage).toBe((19 * DAY - 1) / DAY);
  });

  it('gives the declared columns, in order, with the declared types', async () => {
    const sql = statusHistorySql(duckdbDialect('referral_versions'));
    const found = await duck.describe(`(${sql})`);
    expect(Object.entries(found)).toEqual(STATUS_HISTORY_COLUMNS.map((c) => [c.name, duckdbType(c)]));
  });
});

describe('referral_status_history, the shipped files', () => {
  /** A dialect whose every token is a marker: what is left between markers is the core, the same for all. */
  const MARKED: SqlDialect = {
    typeName: (type) => `⟪type ${type}⟫`,
    source: '⟪source⟫',
    now: '⟪now⟫',
    true: '⟪true⟫',
    false: '⟪false⟫',
    microsBetween: () => '⟪micros⟫',
  };
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const core = new RegExp(
    `^${statusHistorySql(MARKED)
      .split(/⟪[^⟫]*⟫/)
      .map(escapeRegExp)
      .join('[\\s\\S]+?')}$`,
  );

  it('every rendering is the one core with only the dialect tokens filled in', () => {
    const dialects = [SYNAPSE_DIALECT, SPARK_DIALECT, duckdbDialect('referral_versions')];
    for (const dialect of dialects) expect(statusHistorySql(dialect)).toMatch(core);
    // And they do differ where the dialects do (the check is not vacuous).
    expect(statusHistorySql(SYNAPSE_DIALECT)).toContain('SYSUTCDATETIME()');
    expect(statusHistorySql(SPARK_DIALECT)).toContain('unix_micros(');
  });

  it('the Synapse view holds the Synapse rendering, over the Delta table, declaring the columns it reads', () => {
    const sql = read('analytics/synapse/referral_status_history.sql');
    expect(sql).toContain(
      `CREATE OR ALTER VIEW dbo.referral_status_history AS\n${statusHistorySql(SYNAPSE_DIALECT)};\nGO\n`,
    );
    expect(sql).toContain("BULK 'referral_versions/'");
    expect(sql).toContain("FORMAT = 'DELTA'");
    for (const c of STATUS_HISTORY_COLUMNS) expect(sql).toContain(`--   ${c.name}: `);
  });

  it('read_lake.py runs the Spark rendering over referral_versions read as Delta', () => {
    const py = read('analytics/spark/read_lake.py');
    expect(py).toContain(`STATUS_HISTORY_SQL = """\n${statusHistorySql(SPARK_DIALECT)}\n"""`);
    expect(py).toContain(
      `def referral_status_history(spark: SparkSession) -> DataFrame:\n    """One row per stretch of (status, substatus) per referral, from the Delta table referral_versions."""\n    read_delta(spark, "referral_versions").createOrReplaceTempView("${SPARK_VERSIONS_VIEW}")\n    return spark.sql(STATUS_HISTORY_SQL)\n`,
    );
    expect(py).not.toContain('"""\n"""');
  });

  it('the Power Query: same columns read, GroupKind.Local on the stretch key, the declared columns built and typed', () => {
    const m = read('analytics/powerbi/referral_status_history.pq');
    expect(m).toContain('AzureStorage.DataLake(LakeUrl & "/referral_versions", [HierarchicalNavigation = true])');
    expect(m).toContain('DeltaLake.Table(Folder)');
    const selected = /Table\.SelectColumns\(\s*Combined,\s*\{([\s\S]*?)\}\s*\)/.exec(m)?.[1] ?? '';
    expect([...selected.matchAll(/"(\w+)"/g)].map((x) => x[1])).toEqual(STATUS_HISTORY_READS.map((c) => c.name));
    expect(m).toContain(
      'Table.Buffer(Table.Sort(Known, {{"referral_id", Order.Ascending}, {"_source_updated_date_time", Order.Ascending}}))',
    );
    expect(m).toMatch(
      /Stretches = Table\.Group\(\s*Sorted,\s*\{"referral_id", "status", "substatus"\},[\s\S]*?GroupKind\.Local\s*\)/,
    );
    // The row record: every declared column, in order, with its declared M.
    const record = /in\n {20}\[\n([\s\S]*?)\n {20}\]/.exec(m)?.[1] ?? '';
    const fields = [...record.matchAll(/^ {24}(#"\w+"|\w+) = /gm)].map((x) => (x[1] ?? '').replace(/^#"(\w+)"$/, '$1'));
    expect(fields).toEqual(STATUS_HISTORY_COLUMNS.map((c) => c.name));
    for (const c of STATUS_HISTORY_COLUMNS) expect(record).toContain(c.m.split('\n')[0]);
    const typed = /Typed = Table\.TransformColumnTypes\(\s*History,\s*\{([\s\S]*?)\n {8}\}/.exec(m)?.[1] ?? '';
    const types = [...typed.matchAll(/\{"(\w+)", (type \w+|Int64\.Type)\}/g)].map((x) => [x[1], x[2]]);
    expect(types).toEqual(STATUS_HISTORY_COLUMNS.map((c) => [c.name, READER_TYPES[c.type].powerQuery]));
  });

  it(`${ANALYTICS_DOC_PATH}: the column list is the declaration's`, () => {
    const doc = read(ANALYTICS_DOC_PATH);
    expect(renderAnalyticsDoc(doc) === doc, 'stale: run `npm run analytics:gen`').toBe(true);
    for (const c of STATUS_HISTORY_COLUMNS) expect(doc).toContain(`- \`${c.name}\` (${c.type}`);
  });
});

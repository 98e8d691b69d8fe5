/**
 * `referral_status_history`: each stretch of a referral's consecutive versions with the same
 * (status, substatus), from referral_versions, with when it began and ended, how long it lasted and,
 * for the stretches in New, whether the referral was answered inside its response window.
 *
 * Declared once, as data: STATUS_HISTORY_COLUMNS gives each output column its type, its doc (for the
 * docs block and the Synapse comments), its SQL and its Power Query expression. The SQL is one core,
 * statusHistorySql(), rendered for a dialect by a mechanical switch (SqlDialect: the clock, booleans,
 * microseconds between two instants, type names, the source): Synapse (the view), Spark SQL (the
 * function in read_lake.py) and DuckDB (the tests run it). Power Query cannot run SQL on a Delta
 * table, so its query is its own M (Table.Group with GroupKind.Local), built from the same columns.
 *
 * The rule for responded_within_window (list-referrals.md "Business rule", referrals-api.md;
 * src/schema/derived.ts respondBy): an incoming referral in status New must be answered by its
 * respond_by (expirationDateTime when the API sends one, else created + 14 days) or it expires.
 */
import { RESPONSE_WINDOW_DAYS } from '../schema/referral-resource.js';
import type { ColumnSpec, ColumnType } from '../schema/table.js';
import { ORIGIN, REFERRAL_VERSIONS } from '../schema/tables.js';
import {
  generatedHeader,
  mList,
  oneLine,
  powerQueryOpen,
  powerQueryPreamble,
  powerQueryTypes,
  READER_TYPES,
  synapseDeltaRowset,
} from './readers.js';

export const STATUS_HISTORY_VIEW = 'referral_status_history';

/** The status a referral waits in for an answer, and the substatus Partner Center gives it when none came. */
const NEW = 'New';
const EXPIRED = 'Expired';

/** How one SQL engine spells what the core needs; everything else in the core is the same text for all. */
export interface SqlDialect {
  /** A declared type as its casts spell it (READER_TYPES). */
  typeName(type: ColumnType): string;
  /** What the versions are read from (a rowset, a view, a table). */
  readonly source: string;
  /** The current instant, UTC: the end of a current stretch and the clock of the window rule. */
  readonly now: string;
  readonly true: string;
  readonly false: string;
  /** Whole microseconds from one instant to another, as a 64-bit integer expression. */
  microsBetween(from: string, to: string): string;
}

/** A column of the view: its declaration, its SQL in the core's last SELECT, its M in the query's row record. */
interface HistoryColumn extends ColumnSpec {
  readonly sql: (d: SqlDialect) => string;
  /**
   * In Power Query's per-stretch record. Names in scope: `Row` (the stretch: referral_id, status,
   * substatus, valid_from, versions), `Last` (the stretch's last version), `ValidTo`, `LeftNew` (the
   * first later stretch not in New, or null) and `Now`.
   */
  readonly m: string;
}

function column(
  name: string,
  type: ColumnType,
  nullable: boolean,
  doc: string,
  sql: (d: SqlDialect) => string,
  m: string,
): HistoryColumn {
  return { name, type, nullable, source: ORIGIN.derived, doc, sql, m };
}

/** A column passed through from the stretch (`Row`) or its last version (`Last`) under its own name. */
function carried(name: string, type: ColumnType, nullable: boolean, doc: string, from: 'Row' | 'Last'): HistoryColumn {
  return column(name, type, nullable, doc, () => name, `${from}[${mField(name)}]`);
}

const bool = (d: SqlDialect, condition: string) => `CASE WHEN ${condition} THEN ${d.true} ELSE ${d.false} END`;
const cast = (d: SqlDialect, expression: string, type: ColumnType) => `CAST(${expression} AS ${d.typeName(type)})`;

export const STATUS_HISTORY_COLUMNS: readonly HistoryColumn[] = [
  carried('referral_id', 'string', false, 'Referral id (referrals.referral_id).', 'Row'),
  carried('status', 'string', true, 'The status of every version in the stretch.', 'Row'),
  carried('substatus', 'string', true, 'The substatus of every version in the stretch.', 'Row'),
  carried(
    'valid_from',
    'timestamp',
    false,
    'Start of the stretch: the updatedDateTime of its first recorded version (UTC). The stage began then, or earlier if the sync first saw the referral in it or missed the version that entered it.',
    'Row',
  ),
  column(
    'valid_to',
    'timestamp',
    true,
    "End of the stretch: the next stretch's valid_from (UTC); null while the stretch is current.",
    () => 'valid_to',
    'ValidTo',
  ),
  column(
    'is_current',
    'boolean',
    false,
    "True for the referral's last stretch (valid_to is null): its stage as the latest recorded version has it.",
    (d) => bool(d, 'valid_to IS NULL'),
    '(ValidTo = null)',
  ),
  column(
    'days_in_stage',
    'double',
    false,
    'Days from valid_from to valid_to, or to the query time while current: a decimal, exact to the microsecond, not rounded (36 hours = 1.5).',
    (d) => `${cast(d, d.microsBetween('valid_from', `COALESCE(valid_to, ${d.now})`), 'double')} / 86400000000.0`,
    'Duration.TotalDays((if ValidTo = null then Now else ValidTo) - Row[valid_from])',
  ),
  column(
    'versions',
    'int64',
    false,
    'How many recorded versions the stretch has (referral_versions rows).',
    (d) => cast(d, 'versions', 'int64'),
    'Row[versions]',
  ),
  carried('direction', 'string', true, "Incoming or Outgoing, as the stretch's last version has it.", 'Last'),
  carried('type', 'string', true, "Independent or Shared, as the stretch's last version has it.", 'Last'),
  carried('created_date_time', 'timestamp', true, 'When the referral was created (UTC).', 'Last'),
  carried(
    'respond_by',
    'timestamp',
    true,
    `Response deadline of the stretch's last version: for an incoming referral in ${NEW}, expiration_date_time, else created_date_time + ${RESPONSE_WINDOW_DAYS} days; null otherwise.`,
    'Last',
  ),
  column(
    'responded_within_window',
    'boolean',
    true,
    `For a stretch in ${NEW} with a respond_by: true when the referral left ${NEW} at or before respond_by (the first later stretch not in ${NEW} has valid_from <= respond_by) and not by expiring (that stretch's substatus is not ${EXPIRED}); false when it left later or by expiring, or is still in ${NEW} past respond_by; null while still in ${NEW} up to respond_by, and for every other stretch.`,
    (d) => `CASE
    WHEN status = '${NEW}' AND respond_by IS NOT NULL THEN
        CASE
            WHEN left_new_at IS NOT NULL THEN ${bool(d, 'left_new_at <= respond_by AND answered_at = left_new_at')}
            WHEN ${d.now} > respond_by THEN ${d.false}
        END
END`,
    `if Row[status] <> "${NEW}" or Last[respond_by] = null then null
else if LeftNew <> null then LeftNew[valid_from] <= Last[respond_by] and LeftNew[substatus] <> "${EXPIRED}"
else if Now > Last[respond_by] then false
else null`,
  ),
];

/** The referral_versions columns the view reads, as that table declares them. */
export const STATUS_HISTORY_READS: readonly ColumnSpec[] = [
  'referral_id',
  'status',
  'substatus',
  'direction',
  'type',
  'created_date_time',
  'respond_by',
  '_source_updated_date_time',
].map((name) => {
  const found = REFERRAL_VERSIONS.columns.find((c) => c.name === name);
  if (!found) throw new Error(`${REFERRAL_VERSIONS.name} declares no column ${name}`);
  return found;
});

const READ_NAMES = STATUS_HISTORY_READS.map((c) => c.name).join(', ');

/** Each stretch's window over the referral's later stretches. */
const LATER = 'PARTITION BY referral_id ORDER BY valid_from ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING';
const STRETCH = 'PARTITION BY referral_id, status, substatus, island';

/**
 * The one SQL of the view, for a dialect. Gaps and islands: in a referral's versions by time, the
 * row number minus the row number within the same (status, substatus) is constant along a run of
 * consecutive versions with that pair and changes when another pair comes between (PARTITION BY
 * groups nulls together in every dialect, so a null status is a pair like any other).
 */
export function statusHistorySql(d: SqlDialect): string {
  const select = STATUS_HISTORY_COLUMNS.map((c) => {
    const value = c.sql(d);
    return value === c.name ? value : `${value} AS ${c.name}`;
  })
    .join(',\n')
    .replaceAll('\n', '\n    ');
  return `WITH known AS (
    -- Every recorded version with a place in time; consecutive versions with the same pair share an island.
    SELECT
        ${READ_NAMES},
        ROW_NUMBER() OVER (PARTITION BY referral_id ORDER BY _source_updated_date_time)
            - ROW_NUMBER() OVER (PARTITION BY referral_id, status, substatus ORDER BY _source_updated_date_time) AS island
    FROM ${d.source.replaceAll('\n', '\n    ')} AS v
    WHERE _source_updated_date_time IS NOT NULL
),
stretches AS (
    -- One row per stretch: its last version, with the stretch's start and number of versions.
    SELECT *
    FROM (
        SELECT
            k.*,
            MIN(_source_updated_date_time) OVER (${STRETCH}) AS valid_from,
            COUNT(*) OVER (${STRETCH}) AS versions,
            ROW_NUMBER() OVER (${STRETCH} ORDER BY _source_updated_date_time DESC) AS from_end
        FROM known AS k
    ) AS s
    WHERE from_end = 1
),
timed AS (
    -- The next stretch's start, when the referral next left ${NEW}, and when it next left ${NEW} other than by expiring.
    SELECT
        s.*,
        LEAD(valid_from) OVER (PARTITION BY referral_id ORDER BY valid_from) AS valid_to,
        MIN(CASE WHEN status = '${NEW}' THEN NULL ELSE valid_from END) OVER (${LATER}) AS left_new_at,
        MIN(CASE WHEN status = '${NEW}' OR substatus = '${EXPIRED}' THEN NULL ELSE valid_from END) OVER (${LATER}) AS answered_at
    FROM stretches AS s
)
SELECT
    ${select}
FROM timed`;
}

// ---------------------------------------------------------------------------------------------
// The dialects

/** Synapse serverless: the versions straight from the Delta table (only the columns read), T-SQL's spellings. */
export const SYNAPSE_DIALECT: SqlDialect = {
  typeName: (type) => READER_TYPES[type].synapse,
  source: synapseDeltaRowset(REFERRAL_VERSIONS.name, STATUS_HISTORY_READS),
  now: 'SYSUTCDATETIME()',
  true: 'CAST(1 AS BIT)',
  false: 'CAST(0 AS BIT)',
  // DATEDIFF counts second boundaries (an INT: fine for 68 years); the microsecond parts make it exact.
  microsBetween: (from, to) =>
    `(CAST(DATEDIFF(second, ${from}, ${to}) AS BIGINT) * 1000000 + DATEPART(microsecond, ${to}) - DATEPART(microsecond, ${from}))`,
};

/** The temporary view read_lake.py registers over referral_versions for the Spark SQL. */
export const SPARK_VERSIONS_VIEW = 'referrals_lake_referral_versions';

export const SPARK_DIALECT: SqlDialect = {
  typeName: (type) => READER_TYPES[type].spark,
  source: SPARK_VERSIONS_VIEW,
  now: 'current_timestamp()',
  true: 'TRUE',
  false: 'FALSE',
  microsBetween: (from, to) => `(unix_micros(${to}) - unix_micros(${from}))`,
};

/** DuckDB, for the tests: `source` is a table or table function of referral_versions rows; `now` can be pinned. */
export function duckdbDialect(source: string, now = 'now()'): SqlDialect {
  return {
    typeName: (type) => READER_TYPES[type].duckdb,
    source,
    now,
    true: 'TRUE',
    false: 'FALSE',
    microsBetween: (from, to) => `(epoch_us(${to}) - epoch_us(${from}))`,
  };
}

// ---------------------------------------------------------------------------------------------
// The renderings

const DOC = `${STATUS_HISTORY_VIEW}: each stretch of consecutive versions of a referral with the same (status, substatus), from ${REFERRAL_VERSIONS.name}.`;
const CAVEAT =
  'Versions that came and went between two runs are not in referral_versions (the API keeps only the current one), so neither are their stretches.';

export function synapseStatusHistory(): string {
  const docs = STATUS_HISTORY_COLUMNS.map((c) => `--   ${c.name}: ${oneLine(c.doc)}`).join('\n');
  return `${generatedHeader('--')}
--
-- ${DOC}
-- ${CAVEAT}
-- Columns (docs/analytics.md):
${docs}
CREATE OR ALTER VIEW dbo.${STATUS_HISTORY_VIEW} AS
${statusHistorySql(SYNAPSE_DIALECT)};
GO
`;
}

/** The Spark part of read_lake.py: the SQL core and the function that runs it. */
export function sparkStatusHistory(readDelta: string): string {
  return `# ${DOC}
# ${CAVEAT}
# Columns: docs/analytics.md. The same SQL as the Synapse view dbo.${STATUS_HISTORY_VIEW}.
STATUS_HISTORY_SQL = """
${statusHistorySql(SPARK_DIALECT)}
"""


def ${STATUS_HISTORY_VIEW}(spark: SparkSession) -> DataFrame:
    """One row per stretch of (status, substatus) per referral, from the Delta table ${REFERRAL_VERSIONS.name}."""
    ${readDelta}(spark, "${REFERRAL_VERSIONS.name}").createOrReplaceTempView("${SPARK_VERSIONS_VIEW}")
    return spark.sql(STATUS_HISTORY_SQL)
`;
}

/** Record field names that are M keywords need quoting. */
function mField(name: string): string {
  return ['type', 'each', 'let', 'in', 'if', 'then', 'else', 'error', 'try', 'otherwise'].includes(name)
    ? `#"${name}"`
    : name;
}

export function powerQueryStatusHistory(): string {
  const record = STATUS_HISTORY_COLUMNS.map(
    (c) => `${mField(c.name)} = ${c.m.replaceAll('\n', `\n${' '.repeat(28)}`)}`,
  ).join(`,\n${' '.repeat(24)}`);
  const updated = '_source_updated_date_time';
  return `${powerQueryPreamble(`${DOC}
// ${CAVEAT}
// Columns: docs/analytics.md. The same rules as the Synapse view dbo.${STATUS_HISTORY_VIEW}.`)}
${powerQueryOpen(REFERRAL_VERSIONS.name, STATUS_HISTORY_READS)}
    // The instant current stretches end at, and the window rule's clock: the refresh's time, UTC.
    Now = DateTimeZone.RemoveZone(DateTimeZone.UtcNow()),
    Known = Table.SelectRows(Utc, each [${updated}] <> null),
    // Gaps and islands: in referral and time order, GroupKind.Local starts a new group each time
    // referral_id, status or substatus differs from the row before, so each group is one stretch.
    Sorted = Table.Buffer(Table.Sort(Known, {{"referral_id", Order.Ascending}, {"${updated}", Order.Ascending}})),
    Stretches = Table.Group(
        Sorted,
        {"referral_id", "status", "substatus"},
        ${mList([
          `{"valid_from", each List.Min([${updated}]), type datetime}`,
          '{"versions", each Table.RowCount(_), Int64.Type}',
          '{"last", each Table.Last(_), type record}',
        ])},
        GroupKind.Local
    ),
    // One referral's stretches (records in time order) as the view's rows; what depends on the
    // stretches after each one (valid_to, when the referral left ${NEW}) is read from the list.
    Timed = (stretches as list) as list =>
        List.Transform(
            List.Positions(stretches),
            (i) =>
                let
                    Row = stretches{i},
                    Last = Row[last],
                    ValidTo = if i + 1 < List.Count(stretches) then stretches{i + 1}[valid_from] else null,
                    LeftNew = List.First(List.Select(List.Skip(stretches, i + 1), each [status] <> "${NEW}"))
                in
                    [
                        ${record}
                    ]
        ),
    ByReferral = Table.Group(
        Stretches,
        {"referral_id"},
        {{"rows", each Timed(Table.ToRecords(_)), type list}},
        GroupKind.Local
    ),
    History = Table.FromRecords(
        List.Combine(ByReferral[rows]),
        ${mList(STATUS_HISTORY_COLUMNS.map((c) => `"${c.name}"`))}
    ),
    Typed = Table.TransformColumnTypes(
        History,
        ${powerQueryTypes(STATUS_HISTORY_COLUMNS)}
    )
in
    Typed
`;
}

/** The column list of docs/analytics.md, between its markers: one bullet a column. */
export function statusHistoryDocList(): string {
  return STATUS_HISTORY_COLUMNS.map(
    (c) => `- \`${c.name}\` (${c.type}${c.nullable ? '' : ', never null'}): ${oneLine(c.doc)}`,
  ).join('\n');
}

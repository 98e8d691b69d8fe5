/**
 * The lake's flat tables, declared once as data: `referrals` (one row per referral) and one child
 * table per array in the referral. This declaration drives the normalizer (src/normalize), the
 * Parquet schema and NDJSON rows (src/lake) and docs/schema.md (render-doc.ts).
 *
 * Column names are the source path in snake_case, so an analyst can find the wire field:
 * 1. each path segment in snake_case (`dealValue` → `deal_value`, `addressLine1` → `address_line1`);
 * 2. `customerProfile` reads `customer`, `eTag` reads `etag`, the wire typo
 *    `consentToToShareInfoWithOthers` is not repeated, and the referral's `id` is `referral_id` in
 *    every table so joins read `USING (referral_id)`;
 * 3. a segment that starts with its parent's name drops the repetition
 *    (`customerProfile/address/addressLine1` → `customer_address_line1`, `consent/consentToContact` →
 *    `consent_to_contact`);
 * 4. in child tables an item's `id`/`name`/`type` carry the entity (`product_id`, `solution_name`,
 *    `target_type`), since bare `id` would clash with `referral_id` in every join.
 * test/schema/tables.test.ts checks these rules against every column.
 *
 * SCHEMA_VERSION: bump it on ANY column change (added, removed, renamed, reordered, type,
 * nullability or source) and on any table change; doc-only edits do not bump it. The test pins the
 * version together with `schemaFingerprint()`, so a column change without a bump fails.
 */

import { createHash } from 'node:crypto';
import {
  ageDays,
  type DeriveFn,
  daysToRespond,
  extractedAtLineage,
  idList,
  isExpiredRisk,
  type LineageFn,
  respondBy,
  rowCount,
  runIdLineage,
  sourceUpdatedLineage,
} from './derived.js';
import { type ArrayField, type Field, REFERRAL_FIELDS, resolveFieldPath } from './referral-resource.js';
import type { ColumnSpec, ColumnType, TableSpec } from './table.js';

export const SCHEMA_VERSION = 1;

/** A pending incoming referral whose deadline is this close (or past) is flagged `is_expired_risk`. */
export const EXPIRY_RISK_DAYS = 3;

export const TABLE_NAMES = [
  'referrals',
  'referral_products',
  'referral_solutions',
  'referral_services',
  'referral_industries',
  'referral_team_members',
  'referral_customer_contacts',
  'referral_customer_ids',
  'referral_targets',
] as const;

export type TableName = (typeof TABLE_NAMES)[number];
export type ChildTableName = Exclude<TableName, 'referrals'>;

export interface LakeTableSpec extends TableSpec {
  readonly name: TableName;
}

/**
 * Origins of values the pipeline makes rather than reads from a path (table.ts lists the first
 * four; `[extra]` is the unknown-fields column).
 */
export const ORIGIN = {
  lineage: '[lineage]',
  derived: '[derived]',
  ordinal: '[ordinal]',
  parent: '[parent]',
  extra: '[extra]',
  /** Added by the sync to the tables that keep a referral's history (not from the API). */
  history: '[history]',
  /** A Delta partition column: in the table's log, not in its data files. */
  partition: '[partition]',
} as const;

export type Origin = (typeof ORIGIN)[keyof typeof ORIGIN];

/** True when `source` is a `/`-separated path into the referral (or the array item), not an origin. */
export function isPathSource(source: string): boolean {
  return !source.startsWith('[');
}

// ---------------------------------------------------------------------------------------------
// Column helpers: they only shorten the literal; every column is still written out below.

function col(name: string, type: ColumnType, source: string, doc: string, nullable = true): ColumnSpec {
  return { name, type, nullable, source, doc };
}

const text = (name: string, source: string, doc: string): ColumnSpec => col(name, 'string', source, doc);
const time = (name: string, source: string, doc: string): ColumnSpec => col(name, 'timestamp', source, doc);
const flag = (name: string, source: string, doc: string): ColumnSpec => col(name, 'boolean', source, doc);

/** Lineage and unknown fields, last in every table. */
const TRAILER: readonly ColumnSpec[] = [
  col('_run_id', 'string', ORIGIN.lineage, 'Id of the sync run that extracted this row.', false),
  col(
    '_extracted_at',
    'timestamp',
    ORIGIN.lineage,
    'When the run extracted the data (UTC); derived values are relative to it.',
    false,
  ),
  time(
    '_source_updated_date_time',
    ORIGIN.lineage,
    "The referral's updatedDateTime: which version of the referral this row comes from.",
  ),
  text(
    '_extra_json',
    ORIGIN.extra,
    'JSON object of the fields this schema does not declare (nested keys keep their path); null when none.',
  ),
];

/** Key of every child table: the referral and the item's 0-based position in its array. */
const CHILD_KEY: readonly ColumnSpec[] = [
  col('referral_id', 'string', ORIGIN.parent, 'Id of the referral the item belongs to (referrals.referral_id).', false),
  col('ordinal', 'int64', ORIGIN.ordinal, '0-based position of the item in its array.', false),
];

function memberColumns(who: string): readonly ColumnSpec[] {
  return [
    text('first_name', 'firstName', `First name of the ${who}.`),
    text('last_name', 'lastName', `Last name of the ${who}.`),
    text('email', 'email', `Email address of the ${who}.`),
    text('phone_number', 'phoneNumber', `Phone number of the ${who}.`),
    text('contact_preference_locale', 'contactPreference/locale', 'Preferred locale, e.g. en-US.'),
    flag(
      'contact_preference_disable_notifications',
      'contactPreference/disableNotifications',
      'True when notifications are off.',
    ),
  ];
}

function childTable(
  name: ChildTableName,
  arrayPath: string,
  doc: string,
  columns: readonly ColumnSpec[],
): LakeTableSpec {
  return { name, doc, arrayPath, columns: [...CHILD_KEY, ...columns, ...TRAILER] };
}

// ---------------------------------------------------------------------------------------------
// The tables

const REFERRALS: LakeTableSpec = {
  name: 'referrals',
  doc: 'One row per referral (lead or co-sell opportunity) as listed by the Partner Center Referrals API.',
  columns: [
    col('referral_id', 'string', 'id', 'Referral id (GUID), unique per referral.', false),
    text('engagement_id', 'engagementId', 'Engagement id (GUID); related referrals share one.'),
    text('organization_id', 'organizationId', 'Owner organisation id.'),
    text('organization_name', 'organizationName', 'Owner organisation name.'),
    text('business_profile_id', 'businessProfileId', 'Business profile id (older docs).'),
    text('name', 'name', 'Referral name.'),
    text('external_reference_id', 'externalReferenceId', "External reference, e.g. the partner's own CRM id."),
    time('created_date_time', 'createdDateTime', 'When the referral was created (UTC).'),
    time('updated_date_time', 'updatedDateTime', 'When the referral was last updated (UTC).'),
    time('expiration_date_time', 'expirationDateTime', 'Response deadline, when the API sends one (UTC).'),
    time('accepted_date_time', 'acceptedDateTime', 'When the referral was accepted (UTC).'),
    text('status', 'status', 'Referral status.'),
    text('substatus', 'substatus', 'Referral substatus; fits the status.'),
    text('status_reason', 'statusReason', 'Why the status is what it is, e.g. why it was lost.'),
    text('type', 'type', 'Independent (one partner) or Shared (co-sell).'),
    text('qualification', 'qualification', 'Where the referral was qualified.'),
    text('direction', 'direction', 'Incoming (sent to you) or Outgoing (sent by you).'),
    text('referral_source', 'referralSource', 'Source of a marketplace lead.'),
    text('call_to_action', 'callToAction', 'Call to action.'),
    text('sales_stage', 'salesStage', 'Sales stage.'),
    text('campaign_id', 'campaignId', 'Marketing campaign id.'),
    flag('favorite', 'favorite', 'Marked as favourite.'),
    text('last_modified_via', 'lastModifiedVia', 'Channel of the last modification.'),
    text('last_run_id', 'lastRunId', "Partner Center's last run id (not this pipeline's run)."),
    text('etag', 'eTag', 'Concurrency token, quotes included as sent.'),
    text('customer_name', 'customerProfile/name', 'Customer name.'),
    text('customer_size', 'customerProfile/size', 'Company size band, e.g. 51to250employees.'),
    text('customer_address_line1', 'customerProfile/address/addressLine1', 'Customer address, first line.'),
    text('customer_address_line2', 'customerProfile/address/addressLine2', 'Customer address, second line.'),
    text('customer_address_city', 'customerProfile/address/city', 'Customer city.'),
    text('customer_address_state', 'customerProfile/address/state', 'Customer state or province.'),
    text('customer_address_postal_code', 'customerProfile/address/postalCode', 'Customer postal code.'),
    text('customer_address_country', 'customerProfile/address/country', 'Customer country (ISO 3166 code).'),
    text('customer_address_region', 'customerProfile/address/region', 'Customer region.'),
    flag('consent_to_contact', 'consent/consentToContact', 'Customer agreed to be contacted.'),
    flag(
      'consent_to_share_info_with_others',
      'consent/consentToToShareInfoWithOthers',
      'Customer agreed to share their info with others (wire name has a doubled "To").',
    ),
    text('details_notes', 'details/notes', 'Free-text notes, as sent (can be long, multi-line, any script).'),
    col(
      'details_deal_value',
      'double',
      'details/dealValue',
      'Estimated deal value in details_currency (DOUBLE; a numeric string is read).',
    ),
    text('details_currency', 'details/currency', 'ISO 4217 currency of the deal value.'),
    time('details_closing_date_time', 'details/closingDateTime', 'Expected closing date (UTC).'),
    text('details_customer_action', 'details/customerAction', 'What the customer asked for.'),
    flag('details_customer_requested_contact', 'details/customerRequestedContact', 'Customer asked to be contacted.'),
    text('invite_context_notes', 'inviteContext/notes', 'Invitation notes of a shared referral.'),
    text(
      'invite_context_invited_by_organization_id',
      'inviteContext/invitedBy/organizationId',
      'Inviting organisation id.',
    ),
    text(
      'invite_context_invited_by_organization_name',
      'inviteContext/invitedBy/organizationName',
      'Inviting organisation name.',
    ),
    text('invite_context_assistance_request_code', 'inviteContext/assistanceRequestCode', 'What help was requested.'),
    text(
      'links_related_referrals_uri',
      'links/relatedReferrals/uri',
      'URI listing the referrals of the same engagement.',
    ),
    text(
      'links_related_referrals_method',
      'links/relatedReferrals/method',
      'HTTP method of links_related_referrals_uri.',
    ),
    text('links_self_uri', 'links/self/uri', 'URI of this referral.'),
    text('links_self_method', 'links/self/method', 'HTTP method of links_self_uri.'),
    text('product_ids', ORIGIN.derived, 'Comma-joined product ids (referral_products), for slicers; null when none.'),
    text(
      'solution_ids',
      ORIGIN.derived,
      'Comma-joined solution ids (referral_solutions), for slicers; null when none.',
    ),
    text('service_ids', ORIGIN.derived, 'Comma-joined service ids (referral_services), for slicers; null when none.'),
    text(
      'industry_ids',
      ORIGIN.derived,
      'Comma-joined industry ids (referral_industries), for slicers; null when none.',
    ),
    col('team_member_count', 'int64', ORIGIN.derived, 'Rows in referral_team_members; null when the API sent no team.'),
    col(
      'customer_contact_count',
      'int64',
      ORIGIN.derived,
      'Rows in referral_customer_contacts; null when the API sent no customer team.',
    ),
    time(
      'respond_by',
      ORIGIN.derived,
      'Response deadline of a pending incoming referral (Incoming, status New): expiration_date_time, else created_date_time + 14 days; null otherwise.',
    ),
    col(
      'days_to_respond',
      'int64',
      ORIGIN.derived,
      'Whole days from _extracted_at to respond_by, rounded down (negative: overdue); null when respond_by is null.',
    ),
    col(
      'is_expired_risk',
      'boolean',
      ORIGIN.derived,
      `True when respond_by is at most ${EXPIRY_RISK_DAYS} days after _extracted_at, or past; false otherwise.`,
      false,
    ),
    col(
      'age_days',
      'int64',
      ORIGIN.derived,
      'Whole days from created_date_time to _extracted_at, rounded down; null when created_date_time is null.',
    ),
    ...TRAILER,
  ],
};

export const TABLES: readonly LakeTableSpec[] = [
  REFERRALS,
  childTable('referral_products', 'details/requirements/products', 'Products the customer needs.', [
    text('product_id', 'id', 'Product id (taxonomy string, e.g. Microsoft365).'),
  ]),
  childTable('referral_solutions', 'details/requirements/solutions', 'Solutions the customer needs.', [
    text('solution_id', 'id', 'Solution id, e.g. SOL-Microsoft365.'),
    text('solution_name', 'name', 'Solution name.'),
    text('solution_type', 'type', 'Solution tag type.'),
  ]),
  childTable('referral_services', 'details/requirements/services', 'Services the customer needs.', [
    text('service_id', 'id', 'Service id (taxonomy string, e.g. LearningAndCertification).'),
  ]),
  childTable('referral_industries', 'details/requirements/industries', "The customer's industries.", [
    text('industry_id', 'id', 'Industry id (taxonomy string, e.g. Education).'),
  ]),
  childTable(
    'referral_team_members',
    'team',
    'The partner-side sales team of the referral.',
    memberColumns('team member'),
  ),
  childTable(
    'referral_customer_contacts',
    'customerProfile/team',
    "The customer's contacts (the customer profile's team).",
    memberColumns('contact'),
  ),
  childTable('referral_customer_ids', 'customerProfile/ids', 'External ids of the customer (DUNS or another system).', [
    text('profile_id', 'id', 'The id in that system.'),
    text('profile_type', 'profileType', 'Which system: Duns or External.'),
  ]),
  childTable('referral_targets', 'target', 'What the referral targets, e.g. a solution profile.', [
    text('target_type', 'type', 'Target type, e.g. SolutionProfile.'),
    text('target_id', 'id', 'Target id, e.g. SOL-34104-EBB.'),
  ]),
];

/**
 * A referral that left the book: the sync keeps its last latest row here when a full run no longer
 * finds it. A Delta table at the lake root, appended by full runs (src/sync/vanished.ts).
 */
export const REFERRALS_VANISHED: TableSpec = {
  name: 'referrals_vanished',
  doc:
    'Referrals that were in referrals_latest and that a later full run did not find: their last row, and when ' +
    'and in which run they vanished. One row per vanishing (a referral that comes back and leaves again has ' +
    'two). Partner Center cannot tell a deleted referral from one the signed-in user no longer sees.',
  columns: [
    ...REFERRALS.columns,
    col(
      '_vanished_at',
      'timestamp',
      ORIGIN.history,
      'Start of the full run that no longer found the referral (UTC).',
      false,
    ),
    col('_vanished_run_id', 'string', ORIGIN.history, 'Id of that run.', false),
  ],
};

/**
 * Every version of every referral the sync has seen: a Delta table at the lake root, appended by
 * every run with the versions no earlier run recorded (src/sync/versions.ts). The analytics views
 * `referral_status_history` read it.
 */
export const REFERRAL_VERSIONS: TableSpec = {
  name: 'referral_versions',
  doc:
    'Every distinct version of every referral the sync has seen: one row per referral_id and ' +
    "_source_updated_date_time (the referral's updatedDateTime), never twice, with the run that saw it first. " +
    'Versions that came and went between two runs are not in it: the API keeps only the current one.',
  columns: [
    ...REFERRALS.columns,
    col('_first_seen_run_id', 'string', ORIGIN.history, 'Id of the sync run that first saw this version.', false),
    col('_first_seen_at', 'timestamp', ORIGIN.history, 'Start of that run (UTC).', false),
  ],
};

/** The tables the sync derives from the runs and the latest tables (not one row set per referral). */
export const HISTORY_TABLES: readonly TableSpec[] = [REFERRAL_VERSIONS, REFERRALS_VANISHED];

/**
 * The run tables (`referrals/`, …) are Delta tables partitioned by the run's snapshot date: a column
 * of the table that its data files do not hold (Delta keeps it in each file's partitionValues).
 */
export const SNAPSHOT_DATE_COLUMN: ColumnSpec = col(
  'snapshot_date',
  'date',
  ORIGIN.partition,
  'UTC day the run started: the partition column of the run tables.',
  false,
);

/** A run table as its Delta log declares it: its columns, then the partition column. */
export function runTableSchema(spec: TableSpec): TableSpec {
  return { ...spec, columns: [...spec.columns, SNAPSHOT_DATE_COLUMN] };
}

/**
 * How each `[derived]` column is computed, by table and column. A derived column may read the
 * row's path columns and the derived columns declared before it, and the referral's child rows.
 */
export const DERIVED: Readonly<Partial<Record<TableName, Readonly<Record<string, DeriveFn>>>>> = {
  referrals: {
    product_ids: idList('referral_products', 'product_id'),
    solution_ids: idList('referral_solutions', 'solution_id'),
    service_ids: idList('referral_services', 'service_id'),
    industry_ids: idList('referral_industries', 'industry_id'),
    team_member_count: rowCount('referral_team_members'),
    customer_contact_count: rowCount('referral_customer_contacts'),
    respond_by: respondBy,
    days_to_respond: daysToRespond,
    is_expired_risk: isExpiredRisk(EXPIRY_RISK_DAYS),
    age_days: ageDays,
  },
};

/** How each `[lineage]` column is filled; the same in every table. */
export const LINEAGE: Readonly<Record<string, LineageFn>> = {
  _run_id: runIdLineage,
  _extracted_at: extractedAtLineage,
  _source_updated_date_time: sourceUpdatedLineage,
};

/**
 * The quarantine list's columns (NDJSON written by the lake stage; not a lake table). A value the
 * normalizer could not keep losslessly becomes null in its row and one entry here.
 */
export const QUARANTINE_COLUMNS: readonly ColumnSpec[] = [
  col(
    'referral_id',
    'string',
    '[referral]',
    'Id of the referral; null when it has none (then the whole referral is here).',
  ),
  col('table', 'string', '[table]', 'Table the value was meant for.', false),
  col(
    'column',
    'string',
    '[column]',
    'Column the value was meant for; null for a whole object, array, item or referral.',
  ),
  col(
    'source',
    'string',
    '[path]',
    "Path of the value in the referral, array indexes included (`team/2/email`); '' for the whole referral.",
    false,
  ),
  col(
    'reason',
    'string',
    '[reason]',
    'Why it was not kept: a code such as `wrong_type` or `unparseable_timestamp`, then a detail.',
    false,
  ),
  col('value', 'string', '[value]', 'The value as JSON text, cut to 1,000 characters.'),
];

// ---------------------------------------------------------------------------------------------
// Look-ups

const BY_NAME: ReadonlyMap<string, LakeTableSpec> = new Map(TABLES.map((t) => [t.name, t]));

/** The table of that name, or undefined (names from outside, e.g. a CLI argument). */
export function findTable(name: string): LakeTableSpec | undefined {
  return BY_NAME.get(name);
}

/** The table of that name; a TableName always has one. */
export function getTable(name: TableName): LakeTableSpec {
  const table = BY_NAME.get(name);
  if (!table) throw new Error(`no table ${name} in TABLES`);
  return table;
}

export function isTableName(name: string): name is TableName {
  return BY_NAME.has(name);
}

/** The wire field a path column reads, resolved in the resource model; undefined for origins. */
export function resolveColumnField(table: TableSpec, column: ColumnSpec): Field | undefined {
  if (!isPathSource(column.source)) return undefined;
  const path = column.source.split('/');
  if (table.arrayPath === undefined) return resolveFieldPath(REFERRAL_FIELDS, path);
  const array = resolveArrayField(table.arrayPath);
  return array ? resolveFieldPath(array.items, path) : undefined;
}

/** The array field a child table expands, or undefined. */
export function resolveArrayField(arrayPath: string): ArrayField | undefined {
  const field = resolveFieldPath(REFERRAL_FIELDS, arrayPath.split('/'));
  return field?.kind === 'array' ? field : undefined;
}

/**
 * A short hash of what readers depend on (tables, column names, types, nullability, sources, in
 * order). Docs are left out: rewording a doc line changes no file a reader opens.
 */
export function schemaFingerprint(tables: readonly TableSpec[] = TABLES): string {
  const shape = tables.map((t) => [
    t.name,
    t.arrayPath ?? null,
    t.columns.map((c) => [c.name, c.type, c.nullable, c.source]),
  ]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

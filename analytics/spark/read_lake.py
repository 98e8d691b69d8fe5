# Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
#
# Read the lake from Spark: Synapse Spark, Microsoft Fabric notebooks, Databricks. Every table is a
# Delta table, opened through its log (format("delta")), never by a glob of its files. The reading
# identity needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md). In
# Fabric, a OneLake shortcut to the container works too: set LAKE to its path (e.g. "Files/referrals-lake").
#
#   referrals = read_table(spark, "referrals")           # every committed run (+ snapshot_date, _run_id)
#   latest = read_latest(spark, "referrals")             # current state, one version per referral
#   latest.groupBy("status", "substatus").count().show()
#   read_latest(spark, "referrals", version=3)           # time travel: an earlier version (or timestamp="2026-11-24")
from pyspark.sql import DataFrame, SparkSession

# azd outputs: LAKE_STORAGE_ACCOUNT_NAME, LAKE_CONTAINER (+ "/<LAKE_PREFIX>" if one is set).
LAKE = "abfss://referrals-lake@<account>.dfs.core.windows.net"

# Each table's columns as its Delta log declares them (src/schema/tables.ts, docs/schema.md). The run
# tables end with their partition column snapshot_date, which the log holds and the data files do not.
SCHEMAS = {
    "referrals": ", ".join([
        "referral_id STRING",
        "engagement_id STRING",
        "organization_id STRING",
        "organization_name STRING",
        "business_profile_id STRING",
        "name STRING",
        "external_reference_id STRING",
        "created_date_time TIMESTAMP",
        "updated_date_time TIMESTAMP",
        "expiration_date_time TIMESTAMP",
        "accepted_date_time TIMESTAMP",
        "status STRING",
        "substatus STRING",
        "status_reason STRING",
        "type STRING",
        "qualification STRING",
        "direction STRING",
        "referral_source STRING",
        "call_to_action STRING",
        "sales_stage STRING",
        "campaign_id STRING",
        "favorite BOOLEAN",
        "last_modified_via STRING",
        "last_run_id STRING",
        "etag STRING",
        "customer_name STRING",
        "customer_size STRING",
        "customer_address_line1 STRING",
        "customer_address_line2 STRING",
        "customer_address_city STRING",
        "customer_address_state STRING",
        "customer_address_postal_code STRING",
        "customer_address_country STRING",
        "customer_address_region STRING",
        "consent_to_contact BOOLEAN",
        "consent_to_share_info_with_others BOOLEAN",
        "details_notes STRING",
        "details_deal_value DOUBLE",
        "details_currency STRING",
        "details_closing_date_time TIMESTAMP",
        "details_customer_action STRING",
        "details_customer_requested_contact BOOLEAN",
        "invite_context_notes STRING",
        "invite_context_invited_by_organization_id STRING",
        "invite_context_invited_by_organization_name STRING",
        "invite_context_assistance_request_code STRING",
        "links_related_referrals_uri STRING",
        "links_related_referrals_method STRING",
        "links_self_uri STRING",
        "links_self_method STRING",
        "product_ids STRING",
        "solution_ids STRING",
        "service_ids STRING",
        "industry_ids STRING",
        "team_member_count BIGINT",
        "customer_contact_count BIGINT",
        "respond_by TIMESTAMP",
        "days_to_respond BIGINT",
        "is_expired_risk BOOLEAN",
        "age_days BIGINT",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_products": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "product_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_solutions": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "solution_id STRING",
        "solution_name STRING",
        "solution_type STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_services": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "service_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_industries": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "industry_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_team_members": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "first_name STRING",
        "last_name STRING",
        "email STRING",
        "phone_number STRING",
        "contact_preference_locale STRING",
        "contact_preference_disable_notifications BOOLEAN",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_customer_contacts": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "first_name STRING",
        "last_name STRING",
        "email STRING",
        "phone_number STRING",
        "contact_preference_locale STRING",
        "contact_preference_disable_notifications BOOLEAN",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_customer_ids": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "profile_id STRING",
        "profile_type STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_targets": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "target_type STRING",
        "target_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "snapshot_date DATE",
    ]),
    "referral_versions": ", ".join([
        "referral_id STRING",
        "engagement_id STRING",
        "organization_id STRING",
        "organization_name STRING",
        "business_profile_id STRING",
        "name STRING",
        "external_reference_id STRING",
        "created_date_time TIMESTAMP",
        "updated_date_time TIMESTAMP",
        "expiration_date_time TIMESTAMP",
        "accepted_date_time TIMESTAMP",
        "status STRING",
        "substatus STRING",
        "status_reason STRING",
        "type STRING",
        "qualification STRING",
        "direction STRING",
        "referral_source STRING",
        "call_to_action STRING",
        "sales_stage STRING",
        "campaign_id STRING",
        "favorite BOOLEAN",
        "last_modified_via STRING",
        "last_run_id STRING",
        "etag STRING",
        "customer_name STRING",
        "customer_size STRING",
        "customer_address_line1 STRING",
        "customer_address_line2 STRING",
        "customer_address_city STRING",
        "customer_address_state STRING",
        "customer_address_postal_code STRING",
        "customer_address_country STRING",
        "customer_address_region STRING",
        "consent_to_contact BOOLEAN",
        "consent_to_share_info_with_others BOOLEAN",
        "details_notes STRING",
        "details_deal_value DOUBLE",
        "details_currency STRING",
        "details_closing_date_time TIMESTAMP",
        "details_customer_action STRING",
        "details_customer_requested_contact BOOLEAN",
        "invite_context_notes STRING",
        "invite_context_invited_by_organization_id STRING",
        "invite_context_invited_by_organization_name STRING",
        "invite_context_assistance_request_code STRING",
        "links_related_referrals_uri STRING",
        "links_related_referrals_method STRING",
        "links_self_uri STRING",
        "links_self_method STRING",
        "product_ids STRING",
        "solution_ids STRING",
        "service_ids STRING",
        "industry_ids STRING",
        "team_member_count BIGINT",
        "customer_contact_count BIGINT",
        "respond_by TIMESTAMP",
        "days_to_respond BIGINT",
        "is_expired_risk BOOLEAN",
        "age_days BIGINT",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "_first_seen_run_id STRING",
        "_first_seen_at TIMESTAMP",
    ]),
    "referrals_vanished": ", ".join([
        "referral_id STRING",
        "engagement_id STRING",
        "organization_id STRING",
        "organization_name STRING",
        "business_profile_id STRING",
        "name STRING",
        "external_reference_id STRING",
        "created_date_time TIMESTAMP",
        "updated_date_time TIMESTAMP",
        "expiration_date_time TIMESTAMP",
        "accepted_date_time TIMESTAMP",
        "status STRING",
        "substatus STRING",
        "status_reason STRING",
        "type STRING",
        "qualification STRING",
        "direction STRING",
        "referral_source STRING",
        "call_to_action STRING",
        "sales_stage STRING",
        "campaign_id STRING",
        "favorite BOOLEAN",
        "last_modified_via STRING",
        "last_run_id STRING",
        "etag STRING",
        "customer_name STRING",
        "customer_size STRING",
        "customer_address_line1 STRING",
        "customer_address_line2 STRING",
        "customer_address_city STRING",
        "customer_address_state STRING",
        "customer_address_postal_code STRING",
        "customer_address_country STRING",
        "customer_address_region STRING",
        "consent_to_contact BOOLEAN",
        "consent_to_share_info_with_others BOOLEAN",
        "details_notes STRING",
        "details_deal_value DOUBLE",
        "details_currency STRING",
        "details_closing_date_time TIMESTAMP",
        "details_customer_action STRING",
        "details_customer_requested_contact BOOLEAN",
        "invite_context_notes STRING",
        "invite_context_invited_by_organization_id STRING",
        "invite_context_invited_by_organization_name STRING",
        "invite_context_assistance_request_code STRING",
        "links_related_referrals_uri STRING",
        "links_related_referrals_method STRING",
        "links_self_uri STRING",
        "links_self_method STRING",
        "product_ids STRING",
        "solution_ids STRING",
        "service_ids STRING",
        "industry_ids STRING",
        "team_member_count BIGINT",
        "customer_contact_count BIGINT",
        "respond_by TIMESTAMP",
        "days_to_respond BIGINT",
        "is_expired_risk BOOLEAN",
        "age_days BIGINT",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
        "_vanished_at TIMESTAMP",
        "_vanished_run_id STRING",
    ]),
}


def read_delta(spark: SparkSession, folder: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """The Delta table in a folder of the lake: its newest version, or the one at `version` or `timestamp` (time travel).

    History tables: referral_versions, referrals_vanished. DESCRIBE HISTORY delta.`<path>` lists the versions.
    """
    if version is not None and timestamp is not None:
        raise ValueError("time travel takes a version or a timestamp, not both")
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    if timestamp is not None:
        reader = reader.option("timestampAsOf", timestamp)
    return reader.load(f"{LAKE}/{folder}")


def read_table(spark: SparkSession, table: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """Every committed run of a table, one append commit a run; snapshot_date is its partition column, _run_id the run."""
    return read_delta(spark, table, version, timestamp)


def read_latest(spark: SparkSession, table: str, version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """The current state of a table: the Delta table <table>_latest, one overwrite commit a run."""
    return read_delta(spark, f"{table}_latest", version, timestamp)


def read_runs(spark: SparkSession) -> DataFrame:
    """One row per run that wrote its manifest (_runs/<run_id>.json): mode, times, counts. Join on runId = _run_id."""
    return spark.read.option("multiLine", True).json(f"{LAKE}/_runs/*.json")


# referral_status_history: each stretch of consecutive versions of a referral with the same (status, substatus), from referral_versions.
# Versions that came and went between two runs are not in referral_versions (the API keeps only the current one), so neither are their stretches.
# Columns: docs/analytics.md. The same SQL as the Synapse view dbo.referral_status_history.
STATUS_HISTORY_SQL = """
WITH known AS (
    -- Every recorded version with a place in time; consecutive versions with the same pair share an island.
    SELECT
        referral_id, status, substatus, direction, type, created_date_time, respond_by, _source_updated_date_time,
        ROW_NUMBER() OVER (PARTITION BY referral_id ORDER BY _source_updated_date_time)
            - ROW_NUMBER() OVER (PARTITION BY referral_id, status, substatus ORDER BY _source_updated_date_time) AS island
    FROM referrals_lake_referral_versions AS v
    WHERE _source_updated_date_time IS NOT NULL
),
stretches AS (
    -- One row per stretch: its last version, with the stretch's start and number of versions.
    SELECT *
    FROM (
        SELECT
            k.*,
            MIN(_source_updated_date_time) OVER (PARTITION BY referral_id, status, substatus, island) AS valid_from,
            COUNT(*) OVER (PARTITION BY referral_id, status, substatus, island) AS versions,
            ROW_NUMBER() OVER (PARTITION BY referral_id, status, substatus, island ORDER BY _source_updated_date_time DESC) AS from_end
        FROM known AS k
    ) AS s
    WHERE from_end = 1
),
timed AS (
    -- The next stretch's start, when the referral next left New, and when it next left New other than by expiring.
    SELECT
        s.*,
        LEAD(valid_from) OVER (PARTITION BY referral_id ORDER BY valid_from) AS valid_to,
        MIN(CASE WHEN status = 'New' THEN NULL ELSE valid_from END) OVER (PARTITION BY referral_id ORDER BY valid_from ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS left_new_at,
        MIN(CASE WHEN status = 'New' OR substatus = 'Expired' THEN NULL ELSE valid_from END) OVER (PARTITION BY referral_id ORDER BY valid_from ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS answered_at
    FROM stretches AS s
)
SELECT
    referral_id,
    status,
    substatus,
    valid_from,
    valid_to,
    CASE WHEN valid_to IS NULL THEN TRUE ELSE FALSE END AS is_current,
    CAST((unix_micros(COALESCE(valid_to, current_timestamp())) - unix_micros(valid_from)) AS DOUBLE) / 86400000000.0 AS days_in_stage,
    CAST(versions AS BIGINT) AS versions,
    direction,
    type,
    created_date_time,
    respond_by,
    CASE
        WHEN status = 'New' AND respond_by IS NOT NULL THEN
            CASE
                WHEN left_new_at IS NOT NULL THEN CASE WHEN left_new_at <= respond_by AND answered_at = left_new_at THEN TRUE ELSE FALSE END
                WHEN current_timestamp() > respond_by THEN FALSE
            END
    END AS responded_within_window
FROM timed
"""


def referral_status_history(spark: SparkSession) -> DataFrame:
    """One row per stretch of (status, substatus) per referral, from the Delta table referral_versions."""
    read_delta(spark, "referral_versions").createOrReplaceTempView("referrals_lake_referral_versions")
    return spark.sql(STATUS_HISTORY_SQL)

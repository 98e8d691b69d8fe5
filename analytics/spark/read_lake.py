# Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
#
# Read the lake from Spark: Synapse Spark, Microsoft Fabric notebooks, Databricks. The reading identity
# needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md). In Fabric, a OneLake shortcut to the container
# works too: set LAKE to its path (e.g. "Files/referrals-lake").
#
#   referrals = read_table(spark, "referrals")           # every committed snapshot (+ snapshot_date, run_id)
#   latest = read_latest(spark, "referrals")             # current state (a Delta table), one version per referral
#   latest.groupBy("status", "substatus").count().show()
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

# azd outputs: LAKE_STORAGE_ACCOUNT_NAME, LAKE_CONTAINER (+ "/<LAKE_PREFIX>" if one is set).
LAKE = "abfss://referrals-lake@<account>.dfs.core.windows.net"

# Column lists as declared in src/schema/tables.ts (docs/schema.md); Parquet holds exactly these.
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
    ]),
    "referral_products": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "product_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
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
    ]),
    "referral_services": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "service_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
    ]),
    "referral_industries": ", ".join([
        "referral_id STRING",
        "ordinal BIGINT",
        "industry_id STRING",
        "_run_id STRING",
        "_extracted_at TIMESTAMP",
        "_source_updated_date_time TIMESTAMP",
        "_extra_json STRING",
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

# Hive-style partition folders under each table: snapshot_date=…/run_id=…
PARTITIONS = ", ".join([
        "snapshot_date DATE",
        "run_id STRING",
])


def committed_runs(spark: SparkSession) -> DataFrame:
    """Run ids that have a manifest (_runs/<run_id>.json, written last): their files are complete."""
    runs = spark.read.option("multiLine", True).json(f"{LAKE}/_runs/*.json")
    return runs.select(F.col("runId").alias("run_id")).distinct()


def read_table(spark: SparkSession, table: str) -> DataFrame:
    """Every committed snapshot of a table; partition discovery adds snapshot_date and run_id."""
    root = f"{LAKE}/{table}"
    frame = (
        spark.read.schema(f"{SCHEMAS[table]}, {PARTITIONS}")
        .option("basePath", root)
        .parquet(f"{root}/snapshot_date=*/run_id=*/*.parquet")
    )
    return frame.join(committed_runs(spark), "run_id", "left_semi")


def read_delta(spark: SparkSession, table: str) -> DataFrame:
    """A table the sync keeps as a Delta table at the lake root: referrals_vanished."""
    return spark.read.format("delta").load(f"{LAKE}/{table}")


def read_latest(spark: SparkSession, table: str, version: int | None = None) -> DataFrame:
    """The current state of a table: the Delta table <table>_latest, one commit per run (or an earlier version)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(f"{LAKE}/{table}_latest")

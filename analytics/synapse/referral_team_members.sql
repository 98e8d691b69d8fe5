-- Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
--
-- referral_team_members: The partner-side sales team of the referral.
-- referral_team_members_latest: the same columns, current state only (one version per referral).
-- Columns and types: docs/schema.md.

-- Every committed run: a Delta table, one append commit a run, partitioned by snapshot_date
-- (a column of the log, not of the files); _run_id names the run. A run that never committed is not in
-- the log, so it is never read. A filter on snapshot_date reads only those days' files.
CREATE OR ALTER VIEW dbo.referral_team_members AS
SELECT r.*
FROM OPENROWSET(
    BULK 'referral_team_members/',
    DATA_SOURCE = 'referrals_lake',
    FORMAT = 'DELTA'
) WITH (
    referral_id VARCHAR(8000),                               -- Id of the referral the item belongs to (referrals.referral_id).
    ordinal BIGINT,                                          -- 0-based position of the item in its array.
    first_name VARCHAR(8000),                                -- First name of the team member.
    last_name VARCHAR(8000),                                 -- Last name of the team member.
    email VARCHAR(8000),                                     -- Email address of the team member.
    phone_number VARCHAR(8000),                              -- Phone number of the team member.
    contact_preference_locale VARCHAR(8000),                 -- Preferred locale, e.g. en-US.
    contact_preference_disable_notifications BIT,            -- True when notifications are off.
    _run_id VARCHAR(8000),                                   -- Id of the sync run that extracted this row.
    _extracted_at DATETIME2(6),                              -- When the run extracted the data (UTC); derived values are relative to it.
    _source_updated_date_time DATETIME2(6),                  -- The referral's updatedDateTime: which version of the referral this row comes from.
    _extra_json VARCHAR(MAX),                                -- JSON object of the fields this schema does not declare (nested keys keep their path); null when none.
    snapshot_date DATE                                       -- UTC day the run started: the partition column of the run tables.
) AS r;
GO

-- The current state: a Delta table, overwritten by one commit every run. Its log names the files
-- of the current version; older files stay for time travel, so never read its folder by a glob.
CREATE OR ALTER VIEW dbo.referral_team_members_latest AS
SELECT r.*
FROM OPENROWSET(
    BULK 'referral_team_members_latest/',
    DATA_SOURCE = 'referrals_lake',
    FORMAT = 'DELTA'
) WITH (
    referral_id VARCHAR(8000),                               -- Id of the referral the item belongs to (referrals.referral_id).
    ordinal BIGINT,                                          -- 0-based position of the item in its array.
    first_name VARCHAR(8000),                                -- First name of the team member.
    last_name VARCHAR(8000),                                 -- Last name of the team member.
    email VARCHAR(8000),                                     -- Email address of the team member.
    phone_number VARCHAR(8000),                              -- Phone number of the team member.
    contact_preference_locale VARCHAR(8000),                 -- Preferred locale, e.g. en-US.
    contact_preference_disable_notifications BIT,            -- True when notifications are off.
    _run_id VARCHAR(8000),                                   -- Id of the sync run that extracted this row.
    _extracted_at DATETIME2(6),                              -- When the run extracted the data (UTC); derived values are relative to it.
    _source_updated_date_time DATETIME2(6),                  -- The referral's updatedDateTime: which version of the referral this row comes from.
    _extra_json VARCHAR(MAX)                                 -- JSON object of the fields this schema does not declare (nested keys keep their path); null when none.
) AS r;
GO

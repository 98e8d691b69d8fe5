-- Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
--
-- referral_status_history: each stretch of consecutive versions of a referral with the same (status, substatus), from referral_versions.
-- Versions that came and went between two runs are not in referral_versions (the API keeps only the current one), so neither are their stretches.
-- Columns (docs/analytics.md):
--   referral_id: Referral id (referrals.referral_id).
--   status: The status of every version in the stretch.
--   substatus: The substatus of every version in the stretch.
--   valid_from: Start of the stretch: the updatedDateTime of its first recorded version (UTC). The stage began then, or earlier if the sync first saw the referral in it or missed the version that entered it.
--   valid_to: End of the stretch: the next stretch's valid_from (UTC); null while the stretch is current.
--   is_current: True for the referral's last stretch (valid_to is null): its stage as the latest recorded version has it.
--   days_in_stage: Days from valid_from to valid_to, or to the query time while current: a decimal, exact to the microsecond, not rounded (36 hours = 1.5).
--   versions: How many recorded versions the stretch has (referral_versions rows).
--   direction: Incoming or Outgoing, as the stretch's last version has it.
--   type: Independent or Shared, as the stretch's last version has it.
--   created_date_time: When the referral was created (UTC).
--   respond_by: Response deadline of the stretch's last version: for an incoming referral in New, expiration_date_time, else created_date_time + 14 days; null otherwise.
--   responded_within_window: For a stretch in New with a respond_by: true when the referral left New at or before respond_by (the first later stretch not in New has valid_from <= respond_by) and not by expiring (that stretch's substatus is not Expired); false when it left later or by expiring, or is still in New past respond_by; null while still in New up to respond_by, and for every other stretch.
CREATE OR ALTER VIEW dbo.referral_status_history AS
WITH known AS (
    -- Every recorded version with a place in time; consecutive versions with the same pair share an island.
    SELECT
        referral_id, status, substatus, direction, type, created_date_time, respond_by, _source_updated_date_time,
        ROW_NUMBER() OVER (PARTITION BY referral_id ORDER BY _source_updated_date_time)
            - ROW_NUMBER() OVER (PARTITION BY referral_id, status, substatus ORDER BY _source_updated_date_time) AS island
    FROM OPENROWSET(
        BULK 'referral_versions/',
        DATA_SOURCE = 'referrals_lake',
        FORMAT = 'DELTA'
    ) WITH (
        referral_id VARCHAR(8000),                -- Referral id (GUID), unique per referral.
        status VARCHAR(8000),                     -- Referral status.
        substatus VARCHAR(8000),                  -- Referral substatus; fits the status.
        direction VARCHAR(8000),                  -- Incoming (sent to you) or Outgoing (sent by you).
        type VARCHAR(8000),                       -- Independent (one partner) or Shared (co-sell).
        created_date_time DATETIME2(6),           -- When the referral was created (UTC).
        respond_by DATETIME2(6),                  -- Response deadline of a pending incoming referral (Incoming, status New): expiration_date_time, else created_date_time + 14 days; null otherwise.
        _source_updated_date_time DATETIME2(6)    -- The referral's updatedDateTime: which version of the referral this row comes from.
    ) AS v
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
    CASE WHEN valid_to IS NULL THEN CAST(1 AS BIT) ELSE CAST(0 AS BIT) END AS is_current,
    CAST((CAST(DATEDIFF(second, valid_from, COALESCE(valid_to, SYSUTCDATETIME())) AS BIGINT) * 1000000 + DATEPART(microsecond, COALESCE(valid_to, SYSUTCDATETIME())) - DATEPART(microsecond, valid_from)) AS FLOAT) / 86400000000.0 AS days_in_stage,
    CAST(versions AS BIGINT) AS versions,
    direction,
    type,
    created_date_time,
    respond_by,
    CASE
        WHEN status = 'New' AND respond_by IS NOT NULL THEN
            CASE
                WHEN left_new_at IS NOT NULL THEN CASE WHEN left_new_at <= respond_by AND answered_at = left_new_at THEN CAST(1 AS BIT) ELSE CAST(0 AS BIT) END
                WHEN SYSUTCDATETIME() > respond_by THEN CAST(0 AS BIT)
            END
    END AS responded_within_window
FROM timed;
GO

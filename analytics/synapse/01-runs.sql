-- Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
--
-- runs: one row per sync run that wrote its manifest (_runs/<run_id>.json, written last): what
-- kind of run, when, how long, how many referrals. Join it to a run table on run_id = _run_id. The
-- table views need it for nothing: a run is in a Delta table once its commit is, never half.
-- Each manifest is read whole as one value (0x0b never occurs in it).
CREATE OR ALTER VIEW dbo.runs AS
SELECT
    CAST(JSON_VALUE(m.doc, '$.runId') AS VARCHAR(24)) AS run_id,
    CAST(JSON_VALUE(m.doc, '$.status') AS VARCHAR(20)) AS status,
    CAST(JSON_VALUE(m.doc, '$.mode') AS VARCHAR(20)) AS mode,
    CAST(JSON_VALUE(m.doc, '$.snapshotDate') AS DATE) AS snapshot_date,
    CONVERT(DATETIME2(3), JSON_VALUE(m.doc, '$.startedAt'), 127) AS started_at,
    CONVERT(DATETIME2(3), JSON_VALUE(m.doc, '$.finishedAt'), 127) AS finished_at,
    CAST(JSON_VALUE(m.doc, '$.durationSeconds') AS FLOAT) AS duration_seconds,
    CAST(JSON_VALUE(m.doc, '$.counts.referrals') AS BIGINT) AS referrals,
    CAST(JSON_VALUE(m.doc, '$.counts.quarantined') AS BIGINT) AS quarantined,
    CAST(JSON_VALUE(m.doc, '$.schemaVersion') AS INT) AS schema_version,
    CONVERT(DATETIME2(7), JSON_VALUE(m.doc, '$.watermark'), 127) AS watermark
FROM OPENROWSET(
    BULK '_runs/*.json',
    DATA_SOURCE = 'referrals_lake',
    FORMAT = 'CSV',
    FIELDTERMINATOR = '0x0b',
    FIELDQUOTE = '0x0b',
    ROWTERMINATOR = '0x0b'
) WITH (doc VARCHAR(MAX)) AS m;
GO

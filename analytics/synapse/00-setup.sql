-- Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
--
-- Run once in the Synapse serverless SQL pool ("Built-in"), connected to master, then run
-- 01-runs.sql and every table file in the new database (any order). Replace <account> with the
-- lake account (azd output LAKE_STORAGE_ACCOUNT_NAME); add /<LAKE_PREFIX> to LOCATION if one is set.
--
-- The UTF-8 binary collation is what serverless SQL reads Parquet strings best with (and it
-- pushes filters down); comparisons are then case-sensitive: status = 'New', not 'new'.
CREATE DATABASE referrals_lake COLLATE Latin1_General_100_BIN2_UTF8;
GO
USE referrals_lake;
GO
-- No credential: each reader's own Entra identity is passed through to the lake, so reading a view
-- needs read access to the table folders and _runs/ (ADLS Gen2 ACLs: docs/security.md).
CREATE EXTERNAL DATA SOURCE referrals_lake
WITH (LOCATION = 'https://<account>.dfs.core.windows.net/referrals-lake');
GO

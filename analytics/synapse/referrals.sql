-- Generated from src/schema/tables.ts by src/analytics/render.ts (schema version 1, fingerprint 14f807ed08af91b1): do not edit, run `npm run analytics:gen`.
--
-- referrals: One row per referral (lead or co-sell opportunity) as listed by the Partner Center Referrals API.
-- referrals_latest: the same columns, current state only (one version per referral).
-- Columns and types: docs/schema.md.

-- Every committed run: a Delta table, one append commit a run, partitioned by snapshot_date
-- (a column of the log, not of the files); _run_id names the run. A run that never committed is not in
-- the log, so it is never read. A filter on snapshot_date reads only those days' files.
CREATE OR ALTER VIEW dbo.referrals AS
SELECT r.*
FROM OPENROWSET(
    BULK 'referrals/',
    DATA_SOURCE = 'referrals_lake',
    FORMAT = 'DELTA'
) WITH (
    referral_id VARCHAR(8000),                                  -- Referral id (GUID), unique per referral.
    engagement_id VARCHAR(8000),                                -- Engagement id (GUID); related referrals share one.
    organization_id VARCHAR(8000),                              -- Owner organisation id.
    organization_name VARCHAR(8000),                            -- Owner organisation name.
    business_profile_id VARCHAR(8000),                          -- Business profile id (older docs).
    name VARCHAR(8000),                                         -- Referral name.
    external_reference_id VARCHAR(8000),                        -- External reference, e.g. the partner's own CRM id.
    created_date_time DATETIME2(6),                             -- When the referral was created (UTC).
    updated_date_time DATETIME2(6),                             -- When the referral was last updated (UTC).
    expiration_date_time DATETIME2(6),                          -- Response deadline, when the API sends one (UTC).
    accepted_date_time DATETIME2(6),                            -- When the referral was accepted (UTC).
    status VARCHAR(8000),                                       -- Referral status.
    substatus VARCHAR(8000),                                    -- Referral substatus; fits the status.
    status_reason VARCHAR(8000),                                -- Why the status is what it is, e.g. why it was lost.
    type VARCHAR(8000),                                         -- Independent (one partner) or Shared (co-sell).
    qualification VARCHAR(8000),                                -- Where the referral was qualified.
    direction VARCHAR(8000),                                    -- Incoming (sent to you) or Outgoing (sent by you).
    referral_source VARCHAR(8000),                              -- Source of a marketplace lead.
    call_to_action VARCHAR(8000),                               -- Call to action.
    sales_stage VARCHAR(8000),                                  -- Sales stage.
    campaign_id VARCHAR(8000),                                  -- Marketing campaign id.
    favorite BIT,                                               -- Marked as favourite.
    last_modified_via VARCHAR(8000),                            -- Channel of the last modification.
    last_run_id VARCHAR(8000),                                  -- Partner Center's last run id (not this pipeline's run).
    etag VARCHAR(8000),                                         -- Concurrency token, quotes included as sent.
    customer_name VARCHAR(8000),                                -- Customer name.
    customer_size VARCHAR(8000),                                -- Company size band, e.g. 51to250employees.
    customer_address_line1 VARCHAR(8000),                       -- Customer address, first line.
    customer_address_line2 VARCHAR(8000),                       -- Customer address, second line.
    customer_address_city VARCHAR(8000),                        -- Customer city.
    customer_address_state VARCHAR(8000),                       -- Customer state or province.
    customer_address_postal_code VARCHAR(8000),                 -- Customer postal code.
    customer_address_country VARCHAR(8000),                     -- Customer country (ISO 3166 code).
    customer_address_region VARCHAR(8000),                      -- Customer region.
    consent_to_contact BIT,                                     -- Customer agreed to be contacted.
    consent_to_share_info_with_others BIT,                      -- Customer agreed to share their info with others (wire name has a doubled "To").
    details_notes VARCHAR(MAX),                                 -- Free-text notes, as sent (can be long, multi-line, any script).
    details_deal_value FLOAT,                                   -- Estimated deal value in details_currency (DOUBLE; a numeric string is read).
    details_currency VARCHAR(8000),                             -- ISO 4217 currency of the deal value.
    details_closing_date_time DATETIME2(6),                     -- Expected closing date (UTC).
    details_customer_action VARCHAR(8000),                      -- What the customer asked for.
    details_customer_requested_contact BIT,                     -- Customer asked to be contacted.
    invite_context_notes VARCHAR(MAX),                          -- Invitation notes of a shared referral.
    invite_context_invited_by_organization_id VARCHAR(8000),    -- Inviting organisation id.
    invite_context_invited_by_organization_name VARCHAR(8000),  -- Inviting organisation name.
    invite_context_assistance_request_code VARCHAR(8000),       -- What help was requested.
    links_related_referrals_uri VARCHAR(8000),                  -- URI listing the referrals of the same engagement.
    links_related_referrals_method VARCHAR(8000),               -- HTTP method of links_related_referrals_uri.
    links_self_uri VARCHAR(8000),                               -- URI of this referral.
    links_self_method VARCHAR(8000),                            -- HTTP method of links_self_uri.
    product_ids VARCHAR(8000),                                  -- Comma-joined product ids (referral_products), for slicers; null when none.
    solution_ids VARCHAR(8000),                                 -- Comma-joined solution ids (referral_solutions), for slicers; null when none.
    service_ids VARCHAR(8000),                                  -- Comma-joined service ids (referral_services), for slicers; null when none.
    industry_ids VARCHAR(8000),                                 -- Comma-joined industry ids (referral_industries), for slicers; null when none.
    team_member_count BIGINT,                                   -- Rows in referral_team_members; null when the API sent no team.
    customer_contact_count BIGINT,                              -- Rows in referral_customer_contacts; null when the API sent no customer team.
    respond_by DATETIME2(6),                                    -- Response deadline of a pending incoming referral (Incoming, status New): expiration_date_time, else created_date_time + 14 days; null otherwise.
    days_to_respond BIGINT,                                     -- Whole days from _extracted_at to respond_by, rounded down (negative: overdue); null when respond_by is null.
    is_expired_risk BIT,                                        -- True when respond_by is at most 3 days after _extracted_at, or past; false otherwise.
    age_days BIGINT,                                            -- Whole days from created_date_time to _extracted_at, rounded down; null when created_date_time is null.
    _run_id VARCHAR(8000),                                      -- Id of the sync run that extracted this row.
    _extracted_at DATETIME2(6),                                 -- When the run extracted the data (UTC); derived values are relative to it.
    _source_updated_date_time DATETIME2(6),                     -- The referral's updatedDateTime: which version of the referral this row comes from.
    _extra_json VARCHAR(MAX),                                   -- JSON object of the fields this schema does not declare (nested keys keep their path); null when none.
    snapshot_date DATE                                          -- UTC day the run started: the partition column of the run tables.
) AS r;
GO

-- The current state: a Delta table, overwritten by one commit every run. Its log names the files
-- of the current version; older files stay for time travel, so never read its folder by a glob.
CREATE OR ALTER VIEW dbo.referrals_latest AS
SELECT r.*
FROM OPENROWSET(
    BULK 'referrals_latest/',
    DATA_SOURCE = 'referrals_lake',
    FORMAT = 'DELTA'
) WITH (
    referral_id VARCHAR(8000),                                  -- Referral id (GUID), unique per referral.
    engagement_id VARCHAR(8000),                                -- Engagement id (GUID); related referrals share one.
    organization_id VARCHAR(8000),                              -- Owner organisation id.
    organization_name VARCHAR(8000),                            -- Owner organisation name.
    business_profile_id VARCHAR(8000),                          -- Business profile id (older docs).
    name VARCHAR(8000),                                         -- Referral name.
    external_reference_id VARCHAR(8000),                        -- External reference, e.g. the partner's own CRM id.
    created_date_time DATETIME2(6),                             -- When the referral was created (UTC).
    updated_date_time DATETIME2(6),                             -- When the referral was last updated (UTC).
    expiration_date_time DATETIME2(6),                          -- Response deadline, when the API sends one (UTC).
    accepted_date_time DATETIME2(6),                            -- When the referral was accepted (UTC).
    status VARCHAR(8000),                                       -- Referral status.
    substatus VARCHAR(8000),                                    -- Referral substatus; fits the status.
    status_reason VARCHAR(8000),                                -- Why the status is what it is, e.g. why it was lost.
    type VARCHAR(8000),                                         -- Independent (one partner) or Shared (co-sell).
    qualification VARCHAR(8000),                                -- Where the referral was qualified.
    direction VARCHAR(8000),                                    -- Incoming (sent to you) or Outgoing (sent by you).
    referral_source VARCHAR(8000),                              -- Source of a marketplace lead.
    call_to_action VARCHAR(8000),                               -- Call to action.
    sales_stage VARCHAR(8000),                                  -- Sales stage.
    campaign_id VARCHAR(8000),                                  -- Marketing campaign id.
    favorite BIT,                                               -- Marked as favourite.
    last_modified_via VARCHAR(8000),                            -- Channel of the last modification.
    last_run_id VARCHAR(8000),                                  -- Partner Center's last run id (not this pipeline's run).
    etag VARCHAR(8000),                                         -- Concurrency token, quotes included as sent.
    customer_name VARCHAR(8000),                                -- Customer name.
    customer_size VARCHAR(8000),                                -- Company size band, e.g. 51to250employees.
    customer_address_line1 VARCHAR(8000),                       -- Customer address, first line.
    customer_address_line2 VARCHAR(8000),                       -- Customer address, second line.
    customer_address_city VARCHAR(8000),                        -- Customer city.
    customer_address_state VARCHAR(8000),                       -- Customer state or province.
    customer_address_postal_code VARCHAR(8000),                 -- Customer postal code.
    customer_address_country VARCHAR(8000),                     -- Customer country (ISO 3166 code).
    customer_address_region VARCHAR(8000),                      -- Customer region.
    consent_to_contact BIT,                                     -- Customer agreed to be contacted.
    consent_to_share_info_with_others BIT,                      -- Customer agreed to share their info with others (wire name has a doubled "To").
    details_notes VARCHAR(MAX),                                 -- Free-text notes, as sent (can be long, multi-line, any script).
    details_deal_value FLOAT,                                   -- Estimated deal value in details_currency (DOUBLE; a numeric string is read).
    details_currency VARCHAR(8000),                             -- ISO 4217 currency of the deal value.
    details_closing_date_time DATETIME2(6),                     -- Expected closing date (UTC).
    details_customer_action VARCHAR(8000),                      -- What the customer asked for.
    details_customer_requested_contact BIT,                     -- Customer asked to be contacted.
    invite_context_notes VARCHAR(MAX),                          -- Invitation notes of a shared referral.
    invite_context_invited_by_organization_id VARCHAR(8000),    -- Inviting organisation id.
    invite_context_invited_by_organization_name VARCHAR(8000),  -- Inviting organisation name.
    invite_context_assistance_request_code VARCHAR(8000),       -- What help was requested.
    links_related_referrals_uri VARCHAR(8000),                  -- URI listing the referrals of the same engagement.
    links_related_referrals_method VARCHAR(8000),               -- HTTP method of links_related_referrals_uri.
    links_self_uri VARCHAR(8000),                               -- URI of this referral.
    links_self_method VARCHAR(8000),                            -- HTTP method of links_self_uri.
    product_ids VARCHAR(8000),                                  -- Comma-joined product ids (referral_products), for slicers; null when none.
    solution_ids VARCHAR(8000),                                 -- Comma-joined solution ids (referral_solutions), for slicers; null when none.
    service_ids VARCHAR(8000),                                  -- Comma-joined service ids (referral_services), for slicers; null when none.
    industry_ids VARCHAR(8000),                                 -- Comma-joined industry ids (referral_industries), for slicers; null when none.
    team_member_count BIGINT,                                   -- Rows in referral_team_members; null when the API sent no team.
    customer_contact_count BIGINT,                              -- Rows in referral_customer_contacts; null when the API sent no customer team.
    respond_by DATETIME2(6),                                    -- Response deadline of a pending incoming referral (Incoming, status New): expiration_date_time, else created_date_time + 14 days; null otherwise.
    days_to_respond BIGINT,                                     -- Whole days from _extracted_at to respond_by, rounded down (negative: overdue); null when respond_by is null.
    is_expired_risk BIT,                                        -- True when respond_by is at most 3 days after _extracted_at, or past; false otherwise.
    age_days BIGINT,                                            -- Whole days from created_date_time to _extracted_at, rounded down; null when created_date_time is null.
    _run_id VARCHAR(8000),                                      -- Id of the sync run that extracted this row.
    _extracted_at DATETIME2(6),                                 -- When the run extracted the data (UTC); derived values are relative to it.
    _source_updated_date_time DATETIME2(6),                     -- The referral's updatedDateTime: which version of the referral this row comes from.
    _extra_json VARCHAR(MAX)                                    -- JSON object of the fields this schema does not declare (nested keys keep their path); null when none.
) AS r;
GO

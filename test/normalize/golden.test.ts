/**
 * The docs' example response (list-referrals.example.json, copied verbatim into test/fixtures)
 * normalized to every row and cell, written out by hand. Timestamps are epoch microseconds; each
 * is annotated with its ISO text.
 */

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeReferral, normalizeReferrals } from '../../src/normalize/normalize.js';
import { rowProblems } from './conformance.js';

const FIXTURE = new URL('../fixtures/list-referrals.example.json', import.meta.url);
const SHARED = new URL('../../../shared/partner-center/list-referrals.example.json', import.meta.url);

const example = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { value: unknown[] };
const referral = example.value[0];

const RUN_ID = 'run-20201111T060000Z-golden';
const EXTRACTED_AT = 1_605_074_400_000_000; // 2020-11-11T06:00:00Z
const CREATED = 1_604_091_780_000_000; // 2020-10-30T21:03:00.0000000Z
const ID = 'c5fbb3b6-be74-4795-9fb5-4324c73fed37';

const LINEAGE_CELLS = {
  _run_id: RUN_ID,
  _extracted_at: EXTRACTED_AT,
  _source_updated_date_time: CREATED, // updatedDateTime equals createdDateTime in the example
  _extra_json: null,
};

const EXPECTED_REFERRAL = {
  referral_id: ID,
  engagement_id: '65edc0b5-3485-41b7-a17e-dfa9ef4706e2',
  organization_id: '00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
  organization_name: 'Contoso Company',
  business_profile_id: null,
  name: null,
  external_reference_id: null,
  created_date_time: CREATED,
  updated_date_time: CREATED,
  expiration_date_time: null,
  accepted_date_time: null,
  status: 'New',
  substatus: 'Pending',
  status_reason: null,
  type: 'Independent',
  qualification: 'Direct',
  direction: 'Incoming',
  referral_source: null,
  call_to_action: null,
  sales_stage: null,
  campaign_id: null,
  favorite: null,
  last_modified_via: null,
  last_run_id: null,
  etag: null,
  customer_name: 'Fabrikam Customer Inc',
  customer_size: null,
  customer_address_line1: 'One Microsoft Way',
  customer_address_line2: '',
  customer_address_city: 'Redmond',
  customer_address_state: 'WA',
  customer_address_postal_code: '98052',
  customer_address_country: 'US',
  customer_address_region: null,
  consent_to_contact: null,
  consent_to_share_info_with_others: null,
  details_notes:
    'We are interested in deploying Microsoft 365 and are looking for support in training our employees. Can you help?',
  details_deal_value: 10000,
  details_currency: 'USD',
  details_closing_date_time: 1_606_780_800_000_000, // 2020-12-01T00:00:00Z
  details_customer_action: null,
  details_customer_requested_contact: null,
  invite_context_notes: null,
  invite_context_invited_by_organization_id: null,
  invite_context_invited_by_organization_name: null,
  invite_context_assistance_request_code: null,
  links_related_referrals_uri:
    "https://api.partner.microsoft.com/v1.0/engagements/referrals?$filter=engagementId eq '65edc0b5-3485-41b7-a17e-dfa9ef4706e2'",
  links_related_referrals_method: 'GET',
  links_self_uri: 'https://api.partner.microsoft.com/v1.0/engagements/referrals/c5fbb3b6-be74-4795-9fb5-4324c73fed37',
  links_self_method: 'GET',
  product_ids: 'Microsoft365',
  solution_ids: 'SOL-Microsoft365',
  service_ids: 'LearningAndCertification',
  industry_ids: 'Education',
  team_member_count: null, // the example has no team: unknown, not zero
  customer_contact_count: null,
  respond_by: 1_605_301_380_000_000, // 2020-11-13T21:03:00Z: no expirationDateTime, so created + 14 days
  days_to_respond: 2, // 2 days 15 h 3 min after extraction, rounded down
  is_expired_risk: true, // within 3 days
  age_days: 11, // 11 days 8 h 57 min
  ...LINEAGE_CELLS,
};

const EXPECTED_ROWS = {
  referrals: [EXPECTED_REFERRAL],
  referral_products: [{ referral_id: ID, ordinal: 0, product_id: 'Microsoft365', ...LINEAGE_CELLS }],
  referral_solutions: [
    {
      referral_id: ID,
      ordinal: 0,
      solution_id: 'SOL-Microsoft365',
      solution_name: 'Microsoft365',
      solution_type: null,
      ...LINEAGE_CELLS,
    },
  ],
  referral_services: [{ referral_id: ID, ordinal: 0, service_id: 'LearningAndCertification', ...LINEAGE_CELLS }],
  referral_industries: [{ referral_id: ID, ordinal: 0, industry_id: 'Education', ...LINEAGE_CELLS }],
  referral_team_members: [],
  referral_customer_contacts: [],
  referral_customer_ids: [],
  referral_targets: [],
};

describe('golden: the docs example referral', () => {
  it('normalizes to exactly the expected rows, in column order, with no quarantine', () => {
    const result = normalizeReferral(referral, { runId: RUN_ID, extractedAtMicros: EXTRACTED_AT });
    expect(result).toStrictEqual({ rows: EXPECTED_ROWS, quarantine: [] });
    expect(Object.keys(result.rows.referrals[0] ?? {})).toEqual(Object.keys(EXPECTED_REFERRAL));
    expect(rowProblems(result)).toEqual([]);
  });

  it('computes derived values from extracted_at only', () => {
    // 17 days later the same referral is 14 days 8 h 57 min overdue: floor gives -15.
    const later = EXTRACTED_AT + 17 * 86_400_000_000;
    const row = normalizeReferral(referral, { runId: RUN_ID, extractedAtMicros: later }).rows.referrals[0];
    expect(row).toMatchObject({ respond_by: EXPECTED_REFERRAL.respond_by, days_to_respond: -15, age_days: 28 });
    const early = EXTRACTED_AT - 5 * 86_400_000_000;
    expect(normalizeReferral(referral, { runId: RUN_ID, extractedAtMicros: early }).rows.referrals[0]).toMatchObject({
      days_to_respond: 7,
      is_expired_risk: false,
    });
  });

  it('gives the same rows through the batch API', () => {
    const batch = normalizeReferrals(example.value, { runId: RUN_ID, extractedAtMicros: EXTRACTED_AT });
    expect(batch).toStrictEqual({ rows: EXPECTED_ROWS, quarantine: [] });
  });

  it.skipIf(!existsSync(SHARED))('keeps the fixture identical to the shared example', () => {
    expect(readFileSync(FIXTURE, 'utf8')).toBe(readFileSync(SHARED, 'utf8'));
  });
});

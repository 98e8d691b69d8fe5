/**
 * The Partner Center Referral resource as it arrives on the wire, declared once as data.
 *
 * Sources: ../shared/partner-center/referrals-api.md. This tree drives what the OData layer accepts
 * (filterable paths and their types), the sandbox's generator checks, and the flat tables' source
 * paths. The API sends more than any document lists, so nothing here may be used to *drop* data:
 * unknown fields are kept by the normalizer and the raw copy.
 */

export type ScalarKind = 'string' | 'datetime' | 'number' | 'boolean' | 'enum';

interface FieldBase {
  readonly name: string;
  readonly doc: string;
  /** True where the API is documented or seen to send `null` (or leave the field out). */
  readonly nullable?: boolean;
}

export interface ScalarField extends FieldBase {
  readonly kind: Exclude<ScalarKind, 'enum'>;
}

export interface EnumField extends FieldBase {
  readonly kind: 'enum';
  /** Known values; the API is not bound to them, so they document rather than validate. */
  readonly values: readonly string[];
}

export interface ObjectField extends FieldBase {
  readonly kind: 'object';
  readonly fields: readonly Field[];
}

export interface ArrayField extends FieldBase {
  readonly kind: 'array';
  /** Every array in this resource is an array of objects. */
  readonly items: readonly Field[];
}

export type Field = ScalarField | EnumField | ObjectField | ArrayField;

const str = (name: string, doc: string, nullable = true): ScalarField => ({ name, doc, kind: 'string', nullable });
const dt = (name: string, doc: string, nullable = true): ScalarField => ({ name, doc, kind: 'datetime', nullable });
const bool = (name: string, doc: string): ScalarField => ({ name, doc, kind: 'boolean', nullable: true });
const num = (name: string, doc: string): ScalarField => ({ name, doc, kind: 'number', nullable: true });
const enm = (name: string, values: readonly string[], doc: string): EnumField => ({
  name,
  doc,
  kind: 'enum',
  values,
  nullable: true,
});
const obj = (name: string, fields: readonly Field[], doc: string): ObjectField => ({
  name,
  doc,
  kind: 'object',
  fields,
  nullable: true,
});
const arr = (name: string, items: readonly Field[], doc: string): ArrayField => ({
  name,
  doc,
  kind: 'array',
  items,
  nullable: true,
});

export const REFERRAL_STATUS = ['None', 'New', 'Active', 'Closed'] as const;
export const REFERRAL_SUBSTATUS = [
  'None',
  'Pending',
  'Received',
  'Accepted',
  'Won',
  'Lost',
  'Declined',
  'Expired',
] as const;
/** Which substatus values each status allows (referrals-api.md, "Allowed pairs"). */
export const SUBSTATUS_BY_STATUS: Readonly<Record<string, readonly string[]>> = {
  None: ['None'],
  New: ['Pending', 'Received'],
  Active: ['Accepted'],
  Closed: ['Won', 'Lost', 'Declined', 'Expired'],
};
/**
 * Where each status may go: the docs' "Status & Substatus transition states" table. Forward only
 * (New → Active → Closed, or New → Closed); staying put lets the substatus or reason change.
 */
export const STATUS_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  New: ['New', 'Active', 'Closed'],
  Active: ['Active', 'Closed'],
  Closed: ['Closed'],
};
/** Reasons a flow or an operator declines a lead with (the API takes any text as statusReason). */
export const DECLINE_REASONS = [
  'Not a fit for our practice',
  'Outside our geography',
  'No capacity this quarter',
  'Customer already engaged with another partner',
  'Duplicate of an existing opportunity',
] as const;
export const REFERRAL_TYPE = ['Independent', 'Shared'] as const;
export const REFERRAL_QUALIFICATION = ['None', 'Direct', 'MarketingQualified', 'SalesQualified'] as const;
export const DIRECTION = ['Incoming', 'Outgoing'] as const;
export const SALES_STAGE = ['Qualify', 'Develop', 'Propose', 'Close'] as const;
export const ASSISTANCE_REQUEST_CODE = [
  'Unknown',
  'GeneralOrOther',
  'CustomerTechnicalArchitecture',
  'ProofOfConceptOrDemo',
  'QuotesOrLicensing',
  'PostSalesCustomerSuccess',
  'WorkloadSpecificValueProposition',
] as const;
export const SOLUTION_TAG_TYPE = ['None', 'Category', 'Name'] as const;
export const CUSTOMER_PROFILE_ID_TYPE = ['Duns', 'External'] as const;
export const CUSTOMER_SIZE = [
  '1to9employees',
  '10to50employees',
  '51to250employees',
  '251to1000employees',
  '1001to5000employees',
  '5001to10000employees',
  '10001to20000employees',
  'Morethan20000employees',
  '1to50employees',
  '51to500employees',
  'Morethan500employees',
] as const;

/** Days an incoming referral may stay unanswered before Partner Center archives it as Expired. */
export const RESPONSE_WINDOW_DAYS = 14;

const memberFields: readonly Field[] = [
  str('firstName', 'First name.'),
  str('lastName', 'Last name.'),
  str('email', 'Email address; `team/any(t:t/email eq …)` filters on it.'),
  str('phoneNumber', 'Phone number.'),
  obj(
    'contactPreference',
    [str('locale', 'Preferred locale, e.g. en-US.'), bool('disableNotifications', 'True when notifications are off.')],
    'How the member wants to be contacted.',
  ),
];

const addressFields: readonly Field[] = [
  str('addressLine1', 'First address line.'),
  str('addressLine2', 'Second address line.'),
  str('city', 'City.'),
  str('state', 'State or province.'),
  str('postalCode', 'Postal code.'),
  str('country', 'ISO 3166 country code.'),
  str('region', 'Region.'),
];

const idOnly: readonly Field[] = [str('id', 'Taxonomy id (an open string; the taxonomy changes every fiscal year).')];

const linkFields: readonly Field[] = [str('uri', 'Absolute URI.'), str('method', 'HTTP method.')];

/** The Referral resource's top-level fields, in the order the docs list them. */
export const REFERRAL_FIELDS: readonly Field[] = [
  str('id', 'Referral id (GUID), unique per referral.', false),
  str('engagementId', 'Engagement id (GUID); several referrals can share one engagement.'),
  str('organizationId', 'Owner organisation id.'),
  str('organizationName', 'Owner organisation name.'),
  str('businessProfileId', 'Business profile id (older docs).'),
  str('name', 'Referral name.'),
  str('externalReferenceId', "External reference, e.g. the partner's own CRM id."),
  dt('createdDateTime', 'When the referral was created (UTC).', false),
  dt('updatedDateTime', 'When the referral was last updated (UTC); the incremental cursor.', false),
  dt('expirationDateTime', 'Response deadline, when present.'),
  dt('acceptedDateTime', 'When the referral was accepted; for outgoing referrals equals creation.'),
  enm('status', REFERRAL_STATUS, 'Referral status.'),
  enm('substatus', REFERRAL_SUBSTATUS, 'Referral substatus; must fit the status.'),
  str('statusReason', 'Why the status is what it is, e.g. why it was lost.'),
  enm('type', REFERRAL_TYPE, 'Independent (one partner) or Shared (co-sell).'),
  enm('qualification', REFERRAL_QUALIFICATION, 'Where the referral was qualified.'),
  enm('direction', DIRECTION, 'Incoming (sent to you) or Outgoing (sent by you).'),
  str('referralSource', 'Source of a marketplace lead (newer docs).'),
  str('callToAction', 'Call to action (newer docs).'),
  enm('salesStage', SALES_STAGE, 'Sales stage (connector definition).'),
  str('campaignId', 'Marketing campaign id.'),
  bool('favorite', 'Marked as favourite.'),
  str('lastModifiedVia', 'Channel of the last modification.'),
  str('lastRunId', 'Last run id.'),
  str('eTag', 'Concurrency token (a quoted string).'),
  obj(
    'customerProfile',
    [
      str('name', 'Customer name.'),
      str('size', 'Company size band, e.g. 51to250employees.'),
      obj('address', addressFields, 'Customer address.'),
      arr('team', memberFields, 'Customer contacts.'),
      arr(
        'ids',
        [str('id', 'Profile id.'), enm('profileType', CUSTOMER_PROFILE_ID_TYPE, 'Duns or External.')],
        'External customer ids (arrives as [] or {}).',
      ),
    ],
    'The customer.',
  ),
  obj(
    'consent',
    [
      bool('consentToContact', 'Customer agreed to be contacted.'),
      bool('consentToToShareInfoWithOthers', 'Customer agreed to share info (the doubled "To" is the wire name).'),
    ],
    'Customer consent.',
  ),
  obj(
    'details',
    [
      str('notes', 'Free-text notes.'),
      num('dealValue', 'Deal value (may arrive as a string).'),
      str('currency', 'ISO 4217 currency code.'),
      dt('closingDateTime', 'Expected closing date (UTC).'),
      str('customerAction', 'What the customer asked for.'),
      bool('customerRequestedContact', 'Customer asked to be contacted.'),
      obj(
        'requirements',
        [
          arr('industries', idOnly, 'Industries.'),
          arr('products', idOnly, 'Products.'),
          arr('services', idOnly, 'Services.'),
          arr(
            'solutions',
            [
              str('id', 'Solution id.'),
              str('name', 'Solution name.'),
              enm('type', SOLUTION_TAG_TYPE, 'Solution tag type.'),
            ],
            'Solutions.',
          ),
        ],
        'What the customer needs.',
      ),
    ],
    'Deal details.',
  ),
  arr('team', memberFields, 'The partner-side sales team.'),
  obj(
    'inviteContext',
    [
      str('notes', 'Invitation notes.'),
      obj(
        'invitedBy',
        [str('organizationId', 'Inviting organisation id.'), str('organizationName', 'Inviting organisation name.')],
        'Who invited.',
      ),
      enm('assistanceRequestCode', ASSISTANCE_REQUEST_CODE, 'What help was requested.'),
    ],
    'Invitation context of a shared referral.',
  ),
  arr('target', [str('type', 'Target type, e.g. SolutionProfile.'), str('id', 'Target id.')], 'Targets.'),
  obj(
    'links',
    [obj('relatedReferrals', linkFields, 'Related referrals.'), obj('self', linkFields, 'This referral.')],
    'Links.',
  ),
];

/** Finds the field a `/`-separated path names inside a field list, or undefined. */
export function resolveFieldPath(fields: readonly Field[], path: readonly string[]): Field | undefined {
  let current: readonly Field[] = fields;
  let found: Field | undefined;
  for (const [i, segment] of path.entries()) {
    found = current.find((f) => f.name === segment);
    if (!found) return undefined;
    if (i === path.length - 1) return found;
    if (found.kind !== 'object') return undefined;
    current = found.fields;
  }
  return found;
}

// Loose wire types: what the docs describe. Wire data is untrusted, so code that reads the API
// treats these as hints and checks every value (the normalizer never trusts them).
export interface Member {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phoneNumber?: string | null;
  contactPreference?: { locale?: string | null; disableNotifications?: boolean | null } | null;
}

export interface Address {
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  state?: string | null;
  postalCode?: string | null;
  country?: string | null;
  region?: string | null;
}

export interface Referral {
  id: string;
  engagementId?: string | null;
  organizationId?: string | null;
  organizationName?: string | null;
  businessProfileId?: string | null;
  name?: string | null;
  externalReferenceId?: string | null;
  createdDateTime: string;
  updatedDateTime: string;
  expirationDateTime?: string | null;
  acceptedDateTime?: string | null;
  status?: string | null;
  substatus?: string | null;
  statusReason?: string | null;
  type?: string | null;
  qualification?: string | null;
  direction?: string | null;
  referralSource?: string | null;
  callToAction?: string | null;
  salesStage?: string | null;
  campaignId?: string | null;
  favorite?: boolean | null;
  lastModifiedVia?: string | null;
  lastRunId?: string | null;
  eTag?: string | null;
  customerProfile?: {
    name?: string | null;
    size?: string | null;
    address?: Address | null;
    team?: Member[] | null;
    ids?: { id?: string | null; profileType?: string | null }[] | Record<string, never> | null;
  } | null;
  consent?: { consentToContact?: boolean | null; consentToToShareInfoWithOthers?: boolean | null } | null;
  details?: {
    notes?: string | null;
    dealValue?: number | string | null;
    currency?: string | null;
    closingDateTime?: string | null;
    customerAction?: string | null;
    customerRequestedContact?: boolean | null;
    requirements?: {
      industries?: { id: string }[] | null;
      products?: { id: string }[] | null;
      services?: { id: string }[] | null;
      solutions?: { id: string; name?: string | null; type?: string | null }[] | null;
    } | null;
  } | null;
  team?: Member[] | null;
  inviteContext?: {
    notes?: string | null;
    invitedBy?: { organizationId?: string | null; organizationName?: string | null } | null;
    assistanceRequestCode?: string | null;
  } | null;
  target?: { type?: string | null; id?: string | null }[] | null;
  links?: {
    relatedReferrals?: { uri?: string | null; method?: string | null } | null;
    self?: { uri?: string | null; method?: string | null } | null;
  } | null;
  /** Fields the docs do not list; the real API sends them (isMatchingComplete, title, …). */
  [extra: string]: unknown;
}

/**
 * The OpenAPI 2.0 description of the write routes: a connector of its own ("Partner Center
 * Referral Writes"), because Power Automate gives a connector one key and the write routes take
 * a key the read routes never accept (docs/security.md). Generated from the same declarations the
 * handlers check (rules.ts: the patchable fields, the decline reasons) and the lake's referrals row
 * (the answer). Served at /api/openapi-writes.json, kept as docs/openapi-writes.json.
 */
import { NEW_REFERRAL_FIELDS, type NewReferralField, PATCH_FIELDS, type PatchField } from '../actions/rules.js';
import { DECLINE_REASONS } from '../schema/referral-resource.js';
import { FLAT_COLUMNS } from './encode.js';
import {
  columnProperties,
  fieldLabel,
  ID_PARAM,
  PLACEHOLDER_HOST,
  PROBLEM_DEFINITION,
  PROBLEM_RESPONSE,
} from './openapi.js';
import { WRITES_SETTING } from './writes.js';

export const OPENAPI_WRITES_PATH = 'docs/openapi-writes.json';

const CONDITION_HEADERS = [
  {
    name: 'If-Match',
    in: 'header',
    required: false,
    type: 'string',
    description:
      "The referral's eTag as you read it: the change applies only to that version (412 otherwise). Without it, the eTag the function reads just before the change.",
    'x-ms-summary': 'If-Match (ETag)',
    'x-ms-visibility': 'advanced',
  },
  {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    type: 'string',
    description:
      'Any unique text: a retry with the same key gets the first answer, with no second change (kept 24 h; a failure that changed nothing, such as throttling, frees the key).',
    'x-ms-summary': 'Idempotency Key',
    'x-ms-visibility': 'advanced',
  },
];

/** Refusals every write can meet: a bad request, writes off, a key in use or reused, Partner Center failing. */
const REFUSALS = {
  400: PROBLEM_RESPONSE,
  403: { ...PROBLEM_RESPONSE, description: `Writes are off (${WRITES_SETTING})` },
  409: PROBLEM_RESPONSE,
  422: { ...PROBLEM_RESPONSE, description: 'The Idempotency-Key was used for another request' },
  500: { ...PROBLEM_RESPONSE, description: 'The function app is misconfigured (its log has the details)' },
  502: PROBLEM_RESPONSE,
  503: PROBLEM_RESPONSE,
};

/**
 * What a change of an existing referral answers: the refusals, and those of a referral that is not
 * there (404) or has moved on from the If-Match version (412). A create has neither, so lists neither.
 */
const CHANGE_RESPONSES = {
  200: { description: 'The referral after the change', schema: { $ref: '#/definitions/FlatReferral' } },
  ...REFUSALS,
  404: PROBLEM_RESPONSE,
  412: { ...PROBLEM_RESPONSE, description: 'The referral changed since the version If-Match names' },
};

/** One team member or contact, as a flow author fills it in. */
const PERSON = {
  type: 'object',
  required: ['email'],
  properties: {
    email: { type: 'string', description: 'E-mail address (required).', 'x-ms-summary': 'E-mail' },
    firstName: { type: 'string', description: 'Given name.', 'x-ms-summary': 'First Name' },
    lastName: { type: 'string', description: 'Family name.', 'x-ms-summary': 'Last Name' },
    phoneNumber: { type: 'string', description: 'Phone number, with its country code.', 'x-ms-summary': 'Phone' },
  },
};

/** The JSON body of a write: Power Platform shows its summary and description, as for any parameter. */
function bodyParameter(definition: string, summary: string, description: string): Record<string, unknown> {
  return {
    name: 'body',
    in: 'body',
    required: true,
    description,
    'x-ms-summary': summary,
    schema: { $ref: `#/definitions/${definition}` },
  };
}

/** The body schema of each declared field type, the patch's and the create's. */
const FIELD_TYPES: Readonly<Record<NewReferralField['type'] | PatchField['type'], Record<string, unknown>>> = {
  string: { type: 'string' },
  number: { type: 'number', format: 'double' },
  'date-time': { type: 'string', format: 'date-time' },
  team: { type: 'array', items: PERSON },
  boolean: { type: 'boolean' },
  contact: PERSON,
};

/** A body's properties from declared fields (PATCH_FIELDS, NEW_REFERRAL_FIELDS): type, values, description, label. */
function fieldProperties(fields: readonly (NewReferralField | PatchField)[]): Record<string, unknown> {
  return Object.fromEntries(
    fields.map((f) => [
      f.name,
      {
        ...FIELD_TYPES[f.type],
        ...(f.values ? { enum: [...f.values] } : {}),
        description: f.description,
        'x-ms-summary': fieldLabel(f.name),
      },
    ]),
  );
}

export function buildWritesOpenApi(host: string = PLACEHOLDER_HOST): Record<string, unknown> {
  return {
    swagger: '2.0',
    info: {
      // At most 30 characters, and no "API" in title or description: Power Platform's rules.
      title: 'Partner Center Referral Writes',
      description:
        'Accept, decline and update referrals in Microsoft Partner Center through the referrals-lake function ' +
        "app: checked against Partner Center's rules before anything is sent, conditional on the eTag, audited. Off " +
        `unless the app setting ${WRITES_SETTING} is true; the key is the write routes' own.`,
      version: '1.0',
    },
    host,
    basePath: '/api',
    schemes: ['https'],
    consumes: ['application/json'],
    produces: ['application/json'],
    securityDefinitions: {
      writeKey: {
        type: 'apiKey',
        in: 'header',
        name: 'x-functions-key',
        description: "The write routes' function key (the read routes' key is refused).",
      },
    },
    security: [{ writeKey: [] }],
    paths: {
      '/referrals': {
        post: {
          operationId: 'CreateReferral',
          summary: 'Create a co-sell referral',
          description:
            'An outgoing co-sell referral to Microsoft, with the fields Partner Center requires checked first. A create ' +
            'is sent once: give an Idempotency-Key to retry safely.',
          parameters: [
            CONDITION_HEADERS[1],
            bodyParameter('NewReferral', 'Referral', 'The referral to create; the required fields are marked.'),
          ],
          responses: {
            201: { description: 'The referral created', schema: { $ref: '#/definitions/FlatReferral' } },
            ...REFUSALS,
          },
        },
      },
      '/referrals/{id}/accept': {
        post: {
          operationId: 'AcceptReferral',
          summary: 'Accept a lead',
          description: 'An incoming referral waiting for an answer (New) becomes Active / Accepted.',
          parameters: [ID_PARAM, ...CONDITION_HEADERS],
          responses: CHANGE_RESPONSES,
        },
      },
      '/referrals/{id}/decline': {
        post: {
          operationId: 'DeclineReferral',
          summary: 'Decline a lead',
          description: 'An incoming referral waiting for an answer (New) becomes Closed / Declined, with the reason.',
          parameters: [
            ID_PARAM,
            ...CONDITION_HEADERS,
            bodyParameter('Decline', 'Decline', 'Why the lead is declined.'),
          ],
          responses: CHANGE_RESPONSES,
        },
      },
      '/referrals/{id}': {
        patch: {
          operationId: 'UpdateReferral',
          summary: 'Update a referral',
          description:
            'Changes the fields given (status within the allowed transitions, deal value, currency, closing date, notes, team).',
          parameters: [
            ID_PARAM,
            ...CONDITION_HEADERS,
            bodyParameter('ReferralChanges', 'Changes', 'The fields to change; the others stay as they are.'),
          ],
          responses: CHANGE_RESPONSES,
        },
      },
    },
    definitions: {
      Decline: {
        type: 'object',
        required: ['reason'],
        properties: {
          reason: {
            type: 'string',
            enum: [...DECLINE_REASONS],
            'x-ms-summary': 'Reason',
            description: 'Why the lead is declined.',
          },
        },
      },
      NewReferral: {
        type: 'object',
        required: NEW_REFERRAL_FIELDS.filter((f) => f.required).map((f) => f.name),
        properties: fieldProperties(NEW_REFERRAL_FIELDS),
      },
      ReferralChanges: {
        type: 'object',
        properties: fieldProperties(PATCH_FIELDS),
      },
      FlatReferral: {
        type: 'object',
        description: "The lake's referrals row of the referral after the change.",
        properties: columnProperties(FLAT_COLUMNS),
      },
      Problem: PROBLEM_DEFINITION,
    },
  };
}

export function renderWritesOpenApi(): string {
  return `${JSON.stringify(buildWritesOpenApi(), null, 2)}\n`;
}

/**
 * The OpenAPI 2.0 description Power Automate imports as a custom connector, generated from the
 * same parameter declarations the handler accepts (params.ts) and the lake's `referrals` columns.
 * Served at /api/openapi.json (with the caller's host) and kept in the repo as docs/openapi.json
 * (`npm run openapi:doc`, src/live/openapi-doc.ts; a test checks the file is current).
 */
import type { ColumnSpec, ColumnType } from '../schema/table.js';
import { REFERRAL_VERSIONS } from '../schema/tables.js';
import { FLAT_COLUMNS } from './encode.js';
import { FRIENDLY_PARAMS, type FriendlyParam, OPTION_PARAMS, SHAPES } from './params.js';
import { TRIGGER_FILTERS } from './trigger/filters.js';
import { BACKLOG_POLL_SECONDS, FEED_LIMITS, POLL_SECONDS } from './trigger/polling.js';
import { STATE_PARAM } from './trigger/state.js';

/** Placeholder host of the kept file; the served description names the host it was fetched from. */
export const PLACEHOLDER_HOST = 'your-function-app.azurewebsites.net';

const COLUMN_SCHEMAS: Readonly<Record<ColumnType, Record<string, string>>> = {
  string: { type: 'string' },
  int64: { type: 'integer', format: 'int64' },
  double: { type: 'number', format: 'double' },
  boolean: { type: 'boolean' },
  timestamp: { type: 'string', format: 'date-time' },
  date: { type: 'string', format: 'date' },
};

/** The referral a `/referrals/{id}` route is about. */
export const ID_PARAM = {
  name: 'id',
  in: 'path',
  required: true,
  type: 'string',
  description: 'Referral id (a GUID).',
  'x-ms-summary': 'Referral ID',
};

/** Short words a title keeps in lower case between its first and last (articles, conjunctions, short prepositions). */
const LOWER_IN_TITLES = new Set('a an and as at by for in of on or per the to'.split(' '));

/** Words a label spells its own way. */
const SPELLED: Readonly<Record<string, string>> = {
  etag: 'ETag',
  id: 'ID',
  ids: 'IDs',
  json: 'JSON',
  uri: 'URI',
  url: 'URL',
};

/**
 * The name Power Automate shows a flow author for a field (`x-ms-summary`): title case, as
 * Microsoft's connector guidance asks, so `customer_name` and `customerName` both read "Customer Name"
 * rather than the identifier.
 */
export function fieldLabel(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[_\s]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase())
    .map((word, i, words) => {
      const inner = i > 0 && i < words.length - 1;
      return SPELLED[word] ?? (inner && LOWER_IN_TITLES.has(word) ? word : capitalized(word));
    })
    .join(' ');
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** problem+json, as src/live/problem.ts writes it. */
export const PROBLEM_DEFINITION = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    target: { type: 'string' },
    correlationId: { type: 'string' },
  },
};

export const PROBLEM_RESPONSE = { description: 'problem+json', schema: { $ref: '#/definitions/Problem' } };

/** The polling protocol's headers: where to poll next (the state is in it) and when. */
const TRIGGER_HEADERS = {
  Location: { type: 'string', description: 'The URL to poll next, with the trigger state.' },
  'Retry-After': {
    type: 'integer',
    description: `Seconds until the next poll: ${POLL_SECONDS}, or ${BACKLOG_POLL_SECONDS} while a backlog drains.`,
  },
};

export function buildOpenApi(host: string = PLACEHOLDER_HOST): Record<string, unknown> {
  const friendly = FRIENDLY_PARAMS.map(friendlyParameter);
  const options = OPTION_PARAMS.map((p) => ({
    name: p.name,
    in: 'query',
    required: false,
    type: p.type,
    ...(p.values ? { enum: [...p.values] } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.maximum !== undefined ? { minimum: 1, maximum: p.maximum } : {}),
    ...(p.example !== undefined ? { 'x-example': p.example } : {}),
    description: p.description,
    'x-ms-summary': p.summary,
    'x-ms-visibility': p.internal ? 'internal' : p.advanced ? 'advanced' : 'important',
  }));
  const shape = options.find((p) => p.name === 'shape');
  return {
    swagger: '2.0',
    info: {
      // At most 30 characters: Power Platform refuses a longer connector title.
      title: 'Partner Center Referrals',
      description:
        'Referrals (leads and co-sell opportunities) read live from Microsoft Partner Center through the ' +
        "referrals-lake function app, filtered. shape=flat gives the data lake's `referrals` row: scalar " +
        "columns only; the team, products, solutions and other arrays are in the lake's child tables.",
      version: '1.0',
    },
    host,
    basePath: '/api',
    schemes: ['https'],
    produces: ['application/json'],
    securityDefinitions: {
      functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key', description: 'The function key.' },
    },
    security: [{ functionKey: [] }],
    paths: {
      '/referrals': {
        get: {
          operationId: 'ListReferrals',
          summary: 'List referrals',
          description:
            'Referrals matching every filter given, newest pages first when ordered so. More than one answer ' +
            'holds? nextLink continues (Power Automate follows it when Pagination is on).',
          'x-ms-pageable': { nextLinkName: 'nextLink' },
          produces: ['application/json', 'application/x-ndjson', 'text/csv'],
          parameters: [...friendly, ...options],
          responses: {
            200: { description: 'One answer of the listing', schema: { $ref: '#/definitions/ReferralPage' } },
            400: PROBLEM_RESPONSE,
            502: PROBLEM_RESPONSE,
            503: PROBLEM_RESPONSE,
          },
        },
      },
      '/triggers/referrals': {
        get: {
          operationId: 'OnReferralChanged',
          summary: 'When a referral is created or changes',
          description:
            'Polling trigger: each new version of a referral that matches the filters, once, in the order the lake ' +
            'recorded them (oldest updatedDateTime first within a run), as the ' +
            "lake records it (webhook events within a minute, the scheduled sync as the backstop). Reads the lake's " +
            'referral_versions table, not Partner Center. The first poll starts from now.',
          'x-ms-trigger': 'batch',
          'x-ms-trigger-hint': 'To see it work, change a referral in Partner Center.',
          parameters: [
            ...TRIGGER_FILTERS.map(friendlyParameter),
            {
              name: STATE_PARAM,
              in: 'query',
              required: false,
              type: 'string',
              description: 'Sealed trigger state from the last Location; the flow engine fills it.',
              'x-ms-summary': 'Trigger State',
              'x-ms-visibility': 'internal',
            },
          ],
          responses: {
            200: {
              description: `New changes (at most ${FEED_LIMITS.changes} a poll), oldest first.`,
              schema: { $ref: '#/definitions/ReferralChanges' },
              headers: TRIGGER_HEADERS,
            },
            202: { description: 'Nothing new since the state.', headers: TRIGGER_HEADERS },
            400: PROBLEM_RESPONSE,
            410: PROBLEM_RESPONSE,
          },
        },
      },
      '/referrals/{id}': {
        get: {
          operationId: 'GetReferral',
          summary: 'Get a referral',
          description: 'One referral by id.',
          parameters: [ID_PARAM, { ...shape, enum: [...SHAPES] }],
          responses: {
            200: { description: 'The referral', schema: { $ref: '#/definitions/FlatReferral' } },
            400: PROBLEM_RESPONSE,
            404: PROBLEM_RESPONSE,
            502: PROBLEM_RESPONSE,
            503: PROBLEM_RESPONSE,
          },
        },
      },
    },
    definitions: {
      ReferralPage: {
        type: 'object',
        properties: {
          value: {
            type: 'array',
            items: { $ref: '#/definitions/FlatReferral' },
            description: 'The referrals of this answer.',
            'x-ms-summary': 'Referrals',
          },
          count: { type: 'integer', description: 'Referrals in this answer.', 'x-ms-summary': 'Count' },
          nextLink: {
            type: 'string',
            description: 'The next answer; absent on the last.',
            'x-ms-summary': 'Next Link',
            'x-ms-visibility': 'internal',
          },
        },
      },
      FlatReferral: {
        type: 'object',
        description: "The lake's referrals row (shape=flat); shape=raw answers the Partner Center object instead.",
        properties: columnProperties(FLAT_COLUMNS),
      },
      ReferralChanges: {
        type: 'object',
        properties: {
          value: {
            type: 'array',
            items: { $ref: '#/definitions/ReferralChange' },
            description: 'The new versions, oldest first.',
            'x-ms-summary': 'Changes',
          },
        },
      },
      ReferralChange: {
        type: 'object',
        description: `${REFERRAL_VERSIONS.doc} One row of referral_versions.`,
        properties: columnProperties(REFERRAL_VERSIONS.columns),
      },
      Problem: PROBLEM_DEFINITION,
    },
  };
}

function friendlyParameter(p: FriendlyParam): Record<string, unknown> {
  return {
    name: p.name,
    in: 'query',
    required: false,
    type: 'string',
    ...(p.format ? { format: p.format } : {}),
    ...(p.values ? { enum: [...p.values] } : {}),
    ...(p.example !== undefined ? { 'x-example': p.example } : {}),
    description: p.description,
    'x-ms-summary': p.summary,
  };
}

export function columnProperties(columns: readonly ColumnSpec[]): Record<string, unknown> {
  return Object.fromEntries(
    columns.map((c) => [
      c.name,
      { ...COLUMN_SCHEMAS[c.type], description: c.doc, 'x-ms-summary': fieldLabel(c.name), 'x-nullable': c.nullable },
    ]),
  );
}

/** Relative to the repository root (npm scripts and tests run there). */
export const OPENAPI_PATH = 'docs/openapi.json';

export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}

/**
 * Both connector documents import into Power Automate / Logic Apps: they break none of the rules
 * Microsoft writes down for custom connectors (test/helpers/connector-rules.ts). And each rule
 * bites: a copy of a document broken the way the rule is about yields a problem naming the rule
 * and where, so a passing "no problems" means something.
 */
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/live/openapi.js';
import { buildWritesOpenApi } from '../../src/live/openapi-writes.js';
import { CONNECTOR_RULES, connectorProblems } from '../helpers/connector-rules.js';
import { isJson, resolve } from '../helpers/swagger-nodes.js';

type Mutable = Record<string, unknown>;

const DOCUMENTS = {
  read: () => buildOpenApi(),
  writes: () => buildWritesOpenApi(),
} as const;

const LIST = '/paths/~1referrals/get';
const TRIGGER = '/paths/~1triggers~1referrals/get';
const GET_ONE = '/paths/~1referrals~1{id}/get';
const CREATE = '/paths/~1referrals/post';
const ACCEPT = '/paths/~1referrals~1{id}~1accept/post';
const DECLINE = '/paths/~1referrals~1{id}~1decline/post';
const UPDATE = '/paths/~1referrals~1{id}/patch';

/** The object at a pointer of a document, to change in place (the document is a copy). */
function node(doc: Mutable, pointer: string): Mutable {
  const found = resolve(doc, pointer);
  if (!isJson(found)) throw new Error(`nothing at ${pointer}`);
  return found as Mutable;
}

function list(doc: Mutable, pointer: string): unknown[] {
  const found = resolve(doc, pointer);
  if (!Array.isArray(found)) throw new Error(`no list at ${pointer}`);
  return found;
}

/** A breakage: the object at `pointer` gets `key` set to `value`. */
function set(pointer: string, key: string, value: unknown): (doc: Mutable) => void {
  return (doc) => {
    node(doc, pointer)[key] = value;
  };
}

/** A breakage: the object at `pointer` loses `key`. */
function drop(pointer: string, key: string): (doc: Mutable) => void {
  return (doc) => {
    delete node(doc, pointer)[key];
  };
}

/** Where an operation's parameter of that name is written in a freshly built document. */
function param(document: keyof typeof DOCUMENTS, operation: string, name: string): string {
  const index = list(DOCUMENTS[document](), `${operation}/parameters`).findIndex((p) => isJson(p) && p.name === name);
  if (index < 0) throw new Error(`${operation} has no parameter ${name}`);
  return `${operation}/parameters/${index}`;
}

interface Breakage {
  readonly rule: string;
  /** What the copy gets wrong. */
  readonly breaks: string;
  readonly document: keyof typeof DOCUMENTS;
  /** Where the problem must be named. */
  readonly at: string;
  readonly mutate: (doc: Mutable) => void;
}

const BREAKAGES: readonly Breakage[] = [
  {
    rule: 'SwaggerVersion',
    breaks: 'OpenAPI 3',
    document: 'read',
    at: '/swagger',
    mutate: set('', 'swagger', '3.0'),
  },
  {
    rule: 'ConnectorTitle',
    breaks: 'a title over 30 characters',
    document: 'writes',
    at: '/info/title',
    mutate: set('/info', 'title', 'Partner Center Referral Write Actions'),
  },
  {
    rule: 'ConnectorTitle',
    breaks: 'API in the title',
    document: 'read',
    at: '/info/title',
    mutate: set('/info', 'title', 'Referrals API'),
  },
  {
    rule: 'ConnectorDescription',
    breaks: 'a Power Platform product named',
    document: 'read',
    at: '/info/description',
    mutate: (d) => {
      const info = node(d, '/info');
      info.description = `${String(info.description)} Made for Power Automate.`;
    },
  },
  {
    rule: 'ConnectorDescription',
    breaks: 'a description under 30 characters',
    document: 'writes',
    at: '/info/description',
    mutate: set('/info', 'description', 'Writes referrals.'),
  },
  {
    rule: 'HostAndBasePath',
    breaks: 'a scheme in the host',
    document: 'read',
    at: '/host',
    mutate: set('', 'host', 'https://your-function-app.azurewebsites.net'),
  },
  {
    rule: 'HostAndBasePath',
    breaks: 'a relative basePath',
    document: 'writes',
    at: '/basePath',
    mutate: set('', 'basePath', 'api'),
  },
  {
    rule: 'SecurityDefinitions',
    breaks: 'the key in a cookie',
    document: 'read',
    at: '/securityDefinitions/functionKey/in',
    mutate: set('/securityDefinitions/functionKey', 'in', 'cookie'),
  },
  {
    rule: 'SecurityDefinitions',
    breaks: 'a requirement naming no scheme',
    document: 'writes',
    at: '/security/0',
    mutate: set('', 'security', [{ readKey: [] }]),
  },
  {
    rule: 'KnownExtensions',
    breaks: 'a misspelt x-ms-visibility',
    document: 'read',
    at: `${LIST}/x-ms-visiblity`,
    mutate: set(LIST, 'x-ms-visiblity', 'important'),
  },
  {
    rule: 'OperationId',
    breaks: 'no operationId',
    document: 'read',
    at: LIST,
    mutate: drop(LIST, 'operationId'),
  },
  {
    rule: 'OperationId',
    breaks: 'a camelCase operationId',
    document: 'writes',
    at: `${CREATE}/operationId`,
    mutate: set(CREATE, 'operationId', 'createReferral'),
  },
  {
    rule: 'OperationIdUnique',
    breaks: 'two operations with one operationId',
    document: 'writes',
    at: `${DECLINE}/operationId`,
    mutate: set(DECLINE, 'operationId', 'AcceptReferral'),
  },
  {
    rule: 'OperationSummary',
    breaks: 'no summary',
    document: 'writes',
    at: ACCEPT,
    mutate: drop(ACCEPT, 'summary'),
  },
  {
    rule: 'OperationSummary',
    breaks: 'a summary ending with a period',
    document: 'writes',
    at: `${ACCEPT}/summary`,
    mutate: set(ACCEPT, 'summary', 'Accept a lead.'),
  },
  {
    rule: 'OperationSummary',
    breaks: 'a slash in the summary',
    document: 'read',
    at: `${GET_ONE}/summary`,
    mutate: set(GET_ONE, 'summary', 'Get a lead/opportunity'),
  },
  {
    rule: 'OperationSummary',
    breaks: 'a summary over 80 characters',
    document: 'read',
    at: `${LIST}/summary`,
    mutate: set(LIST, 'summary', `List ${'every '.repeat(15)}referral`),
  },
  {
    rule: 'OperationDescription',
    breaks: 'no description',
    document: 'writes',
    at: UPDATE,
    mutate: drop(UPDATE, 'description'),
  },
  {
    rule: 'OperationDescription',
    breaks: 'a description without its period',
    document: 'read',
    at: `${GET_ONE}/description`,
    mutate: set(GET_ONE, 'description', 'One referral by id'),
  },
  {
    rule: 'OperationDescription',
    breaks: 'the summary again as description',
    document: 'writes',
    at: `${ACCEPT}/description`,
    mutate: set(ACCEPT, 'description', 'Accept a lead.'),
  },
  {
    rule: 'Visibility',
    breaks: 'a parameter hidden by a value Power Platform lacks',
    document: 'read',
    at: `${param('read', LIST, '$filter')}/x-ms-visibility`,
    mutate: set(param('read', LIST, '$filter'), 'x-ms-visibility', 'hidden'),
  },
  {
    rule: 'Visibility',
    breaks: 'a response property with visibility none',
    document: 'read',
    at: '/definitions/ReferralPage/properties/nextLink/x-ms-visibility',
    mutate: set('/definitions/ReferralPage/properties/nextLink', 'x-ms-visibility', 'none'),
  },
  {
    rule: 'InternalNeedsDefault',
    breaks: 'an internal parameter made required without a default',
    document: 'read',
    at: param('read', LIST, 'continuation'),
    mutate: set(param('read', LIST, 'continuation'), 'required', true),
  },
  {
    rule: 'InternalNeedsDefault',
    breaks: 'a required body property hidden',
    document: 'writes',
    at: '/definitions/NewReferral/properties/customerName',
    mutate: set('/definitions/NewReferral/properties/customerName', 'x-ms-visibility', 'internal'),
  },
  {
    rule: 'ParameterSummary',
    breaks: 'a body parameter without x-ms-summary',
    document: 'writes',
    at: param('writes', CREATE, 'body'),
    mutate: drop(param('writes', CREATE, 'body'), 'x-ms-summary'),
  },
  {
    rule: 'ParameterSummary',
    breaks: 'a header without description',
    document: 'writes',
    at: param('writes', UPDATE, 'If-Match'),
    mutate: drop(param('writes', UPDATE, 'If-Match'), 'description'),
  },
  {
    rule: 'TitleCase',
    breaks: 'a field name as label',
    document: 'writes',
    at: '/definitions/NewReferral/properties/dealValue/x-ms-summary',
    mutate: set('/definitions/NewReferral/properties/dealValue', 'x-ms-summary', 'dealValue'),
  },
  {
    rule: 'TitleCase',
    breaks: 'a label in sentence case',
    document: 'read',
    at: `${param('read', LIST, 'maxItems')}/x-ms-summary`,
    mutate: set(param('read', LIST, 'maxItems'), 'x-ms-summary', 'Page size'),
  },
  {
    rule: 'NoBodyInGet',
    breaks: 'a body on a GET',
    document: 'read',
    at: `${GET_ONE}/parameters/2`,
    mutate: (d) => {
      const body = { name: 'body', in: 'body', description: 'Filters.', 'x-ms-summary': 'Filters', schema: {} };
      list(d, `${GET_ONE}/parameters`).push(body);
    },
  },
  {
    rule: 'PathParameters',
    breaks: 'the {id} of the path undeclared',
    document: 'writes',
    at: ACCEPT,
    mutate: (d) => {
      list(d, `${ACCEPT}/parameters`).shift();
    },
  },
  {
    rule: 'PathParameters',
    breaks: 'an optional path parameter',
    document: 'read',
    at: `${GET_ONE}/parameters/0/required`,
    mutate: set(`${GET_ONE}/parameters/0`, 'required', false),
  },
  {
    rule: 'ParameterNames',
    breaks: 'a header name with a space',
    document: 'writes',
    at: `${param('writes', ACCEPT, 'If-Match')}/name`,
    mutate: set(param('writes', ACCEPT, 'If-Match'), 'name', 'If Match'),
  },
  {
    rule: 'ParameterNames',
    breaks: 'a header declared twice',
    document: 'writes',
    at: `${CREATE}/parameters/2`,
    mutate: (d) => {
      const parameters = list(d, `${CREATE}/parameters`);
      parameters.push(structuredClone(parameters[0]));
    },
  },
  {
    rule: 'Enums',
    breaks: 'a value listed twice',
    document: 'read',
    at: `${param('read', LIST, 'status')}/enum/${list(DOCUMENTS.read(), `${param('read', LIST, 'status')}/enum`).length}`,
    mutate: (d) => {
      const values = list(d, `${param('read', LIST, 'status')}/enum`);
      values.push(values[0]);
    },
  },
  {
    rule: 'Enums',
    breaks: 'a default outside the enum',
    document: 'read',
    at: `${param('read', LIST, 'format')}/default`,
    mutate: set(param('read', LIST, 'format'), 'default', 'xml'),
  },
  {
    rule: 'SuccessResponse',
    breaks: 'no 2xx answer',
    document: 'writes',
    at: `${CREATE}/responses`,
    mutate: drop(`${CREATE}/responses`, '201'),
  },
  {
    rule: 'SuccessResponse',
    breaks: 'a 200 without its schema',
    document: 'writes',
    at: `${ACCEPT}/responses/200`,
    mutate: set(`${ACCEPT}/responses`, '200', { description: 'The referral after the change' }),
  },
  {
    rule: 'SuccessResponse',
    breaks: 'a default answer with a schema',
    document: 'read',
    at: `${GET_ONE}/responses/default`,
    mutate: set(`${GET_ONE}/responses`, 'default', {
      description: 'problem+json',
      schema: { $ref: '#/definitions/Problem' },
    }),
  },
  {
    rule: 'ResponseProperties',
    breaks: 'an answer column without x-ms-summary',
    document: 'read',
    at: '/definitions/FlatReferral/properties/status',
    mutate: drop('/definitions/FlatReferral/properties/status', 'x-ms-summary'),
  },
  {
    rule: 'BodyProperties',
    breaks: 'a body property without x-ms-summary',
    document: 'writes',
    at: '/definitions/NewReferral/properties/customerName',
    mutate: drop('/definitions/NewReferral/properties/customerName', 'x-ms-summary'),
  },
  {
    rule: 'BodyProperties',
    breaks: 'a nested body property without description',
    document: 'writes',
    at: '/definitions/ReferralChanges/properties/team/items/properties/phoneNumber',
    mutate: drop('/definitions/ReferralChanges/properties/team/items/properties/phoneNumber', 'description'),
  },
  {
    rule: 'RequiredProperties',
    breaks: 'a required field that is no property',
    document: 'writes',
    at: `/definitions/NewReferral/required/${list(DOCUMENTS.writes(), '/definitions/NewReferral/required').length}`,
    mutate: (d) => {
      list(d, '/definitions/NewReferral/required').push('customerEmail');
    },
  },
  {
    rule: 'Refs',
    breaks: 'a $ref to a definition that is not there',
    document: 'read',
    at: `${GET_ONE}/responses/200/schema/$ref`,
    mutate: set(`${GET_ONE}/responses/200/schema`, '$ref', '#/definitions/Referral'),
  },
  {
    rule: 'Refs',
    breaks: 'a $ref into a definition',
    document: 'writes',
    at: `${CREATE}/responses/201/schema/$ref`,
    mutate: set(`${CREATE}/responses/201/schema`, '$ref', '#/definitions/FlatReferral/properties/status'),
  },
  {
    rule: 'Triggers',
    breaks: 'a trigger kind Power Platform lacks',
    document: 'read',
    at: `${TRIGGER}/x-ms-trigger`,
    mutate: set(TRIGGER, 'x-ms-trigger', 'polling'),
  },
  {
    rule: 'Triggers',
    breaks: 'a trigger hint on an action',
    document: 'read',
    at: `${LIST}/x-ms-trigger-hint`,
    mutate: set(LIST, 'x-ms-trigger-hint', 'Change a referral.'),
  },
  {
    rule: 'Pageable',
    breaks: 'a next link the answer does not have',
    document: 'read',
    at: `${LIST}/x-ms-pageable/nextLinkName`,
    mutate: set(LIST, 'x-ms-pageable', { nextLinkName: '@odata.nextLink' }),
  },
];

function brokenCopy({ document, mutate }: Breakage): Mutable {
  const doc = structuredClone(DOCUMENTS[document]()) as Mutable;
  mutate(doc);
  return doc;
}

describe('Power Platform custom connector import rules (test/helpers/connector-rules.ts)', () => {
  it.each(['read', 'writes'] as const)('the %s document breaks none', (document) => {
    expect(connectorProblems(DOCUMENTS[document]())).toEqual([]);
  });

  it('neither does a document served with the host it was fetched from', () => {
    expect(connectorProblems(buildOpenApi('referrals.example.net'))).toEqual([]);
    expect(connectorProblems(buildWritesOpenApi('referrals.example.net:8443'))).toEqual([]);
  });

  it.each(BREAKAGES)('$rule catches $breaks ($document, at $at)', (breakage) => {
    const problems = connectorProblems(brokenCopy(breakage));
    const named = problems.filter((p) => p.startsWith(`${breakage.rule} at ${breakage.at}: `));
    expect(named, problems.join('\n')).not.toEqual([]);
  });

  it('an internal parameter may be required when it has a default', () => {
    const doc = structuredClone(buildOpenApi()) as Mutable;
    Object.assign(node(doc, param('read', LIST, 'continuation')), { required: true, default: 'start' });
    expect(connectorProblems(doc).filter((p) => p.startsWith('InternalNeedsDefault'))).toEqual([]);
  });

  it('every rule cites its source and is shown to catch something', () => {
    for (const rule of CONNECTOR_RULES) expect(rule.source, rule.name).toMatch(/\[\w+\]/);
    expect(new Set(BREAKAGES.map((b) => b.rule))).toEqual(new Set(CONNECTOR_RULES.map((r) => r.name)));
  });
});

/**
 * Power Platform's rules for a Swagger 2.0 document imported as a custom connector (Power
 * Automate, Logic Apps), as Microsoft writes them down: `connectorProblems(doc)` lists every rule a
 * document breaks, as `Rule at /json/pointer: what`, the pointer being the validator's "ValuePath".
 *
 * Sources, cited per rule:
 * - [schema] microsoft/PowerPlatformConnectors, schemas/apiDefinition.swagger.schema.json: the
 *   connector flavour of the Swagger 2.0 schema (which x-ms-* extensions go where, their values).
 * - [validator] "Fix Swagger Validator errors",
 *   https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-swagger-validator-rules,
 *   and the validator's messages as Microsoft's reviewers quote them on PowerPlatformConnectors
 *   pull requests (#550, #1095, #3407, #3841, #4041, #4160).
 * - [extensions] "Extend an OpenAPI definition for a custom connector",
 *   https://learn.microsoft.com/en-us/connectors/custom-connectors/openapi-extensions
 * - [strings] "Learn best practices for string fields",
 *   https://learn.microsoft.com/en-us/connectors/custom-connectors/connector-string-guidance
 * - [standards] "Follow coding standards",
 *   https://learn.microsoft.com/en-us/connectors/custom-connectors/coding-standards
 * - [swagger] the OpenAPI 2.0 specification, where Power Platform only inherits a rule.
 *
 * Certification-only demands that say nothing of how a connector imports or reads (contact,
 * x-ms-connector-metadata, an icon colour) are left out: these documents are custom connectors.
 */
import {
  documentNodes,
  entries,
  followRef,
  isJson,
  type Json,
  type Node,
  type NodeKind,
  type Operation,
  operations,
  pointer,
  reachableProperties,
  resolve,
} from './swagger-nodes.js';

interface Finding {
  readonly at: string;
  readonly message: string;
}

interface Document {
  readonly json: Json;
  readonly nodes: readonly Node[];
  readonly operations: readonly Operation[];
}

export interface ConnectorRule {
  readonly name: string;
  /** Where Microsoft writes the rule down. */
  readonly source: string;
  readonly check: (doc: Document) => Finding[];
}

export function connectorProblems(doc: unknown): string[] {
  if (!isJson(doc)) return ['SwaggerVersion at : the document is not a JSON object'];
  const document: Document = { json: doc, nodes: documentNodes(doc), operations: operations(doc) };
  const problems = CONNECTOR_RULES.flatMap((rule) =>
    rule.check(document).map((f) => `${rule.name} at ${f.at}: ${f.message}`),
  );
  return [...new Set(problems)];
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

const found = (at: string, message: string): Finding => ({ at, message });

const nodesOf = (nodes: readonly Node[], ...kinds: NodeKind[]): Node[] => nodes.filter((n) => kinds.includes(n.kind));

/** Whole words or phrases, case-insensitive: "api" flags "the API rules", not "capital". */
function restrictedWords(value: string, words: readonly string[]): string[] {
  return words.filter((w) => new RegExp(`\\b${w}\\b`, 'i').test(value));
}

// [validator] messages: "The 'title' value goes over the character limit '30'", "The value 'title'
// contains at least one of the restricted words: 'api, connector'"; [strings] "a maximum of 30
// characters in the connector title", "can't include the word API".
function connectorTitle({ json }: Document): Finding[] {
  const title = text(isJson(json.info) ? json.info.title : undefined);
  if (!title) return [found('/info', 'has no title')];
  const words = restrictedWords(title, ['api', 'connector']);
  return [
    ...(title.length > 30 ? [found('/info/title', `is ${title.length} characters, more than 30`)] : []),
    ...(words.length ? [found('/info/title', `names ${words.join(', ')}`)] : []),
  ];
}

// [validator] "The 'description' property is required. ValuePath: /info", "The 'description' value
// must be between '30' and '500' characters", "restricted words: 'power apps, power automate, logic
// apps'"; [strings] the description "can't include the word API" nor name a Power Platform product.
function connectorDescription({ json }: Document): Finding[] {
  const description = text(isJson(json.info) ? json.info.description : undefined);
  if (!description) return [found('/info', 'has no description')];
  const words = restrictedWords(description, ['api', 'power apps', 'power automate', 'logic apps']);
  const length = description.length;
  return [
    ...(length < 30 || length > 500 ? [found('/info/description', `is ${length} characters, not 30 to 500`)] : []),
    ...(words.length ? [found('/info/description', `names ${words.join(', ')}`)] : []),
  ];
}

// [schema] swagger: enum ["2.0"]; [standards] "currently, only 2.0 is supported".
function swaggerVersion({ json }: Document): Finding[] {
  return json.swagger === '2.0' ? [] : [found('/swagger', `is ${JSON.stringify(json.swagger)}, not "2.0"`)];
}

// [schema] host: a name or IP with an optional port, no scheme, path or template (pattern
// ^[^{}/ :\\]+(?::\d+)?$); basePath starts with "/"; schemes from http, https, ws, wss.
function hostAndBasePath({ json }: Document): Finding[] {
  const findings: Finding[] = [];
  if (json.host !== undefined && !(typeof json.host === 'string' && /^[^{}/ :\\]+(?::\d+)?$/.test(json.host))) {
    findings.push(found('/host', `${JSON.stringify(json.host)} is not a host name with an optional port`));
  }
  if (json.basePath !== undefined && !(typeof json.basePath === 'string' && json.basePath.startsWith('/'))) {
    findings.push(found('/basePath', `${JSON.stringify(json.basePath)} does not start with /`));
  }
  const schemes = Array.isArray(json.schemes) ? json.schemes : [];
  schemes.forEach((scheme, i) => {
    if (!['http', 'https', 'ws', 'wss'].includes(scheme)) {
      findings.push(found(`/schemes/${i}`, `${JSON.stringify(scheme)} is not http, https, ws or wss`));
    }
  });
  return findings;
}

// [schema] apiKeySecurity: a name, in "header" or "query"; [swagger] every security requirement
// names a scheme of securityDefinitions.
function securityDefinitions({ json, operations: ops }: Document): Finding[] {
  const defined = new Set(entries(json.securityDefinitions).map(([name]) => name));
  const findings = entries(json.securityDefinitions).flatMap(([name, scheme]): Finding[] => {
    const at = pointer('securityDefinitions', name);
    if (!isJson(scheme) || !['basic', 'apiKey', 'oauth2'].includes(String(scheme.type))) {
      return [found(at, 'is not a basic, apiKey or oauth2 scheme')];
    }
    if (scheme.type !== 'apiKey') return [];
    return [
      ...(text(scheme.name) ? [] : [found(at, 'names no header or query parameter for the key')]),
      ...(scheme.in === 'header' || scheme.in === 'query' ? [] : [found(`${at}/in`, 'is not header or query')]),
    ];
  });
  const requirements: [unknown, string][] = [
    [json.security, '/security'],
    ...ops.map((op): [unknown, string] => [op.value.security, `${op.at}/security`]),
  ];
  for (const [list, at] of requirements) {
    (Array.isArray(list) ? list : []).forEach((requirement, i) => {
      for (const [name] of entries(requirement)) {
        if (!defined.has(name)) findings.push(found(`${at}/${i}`, `names ${name}, which securityDefinitions lacks`));
      }
    });
  }
  return findings;
}

/** [schema] The x-ms-* extensions each kind of object may carry; any other x-ms-* key fails the schema. */
const EXTENSIONS: Readonly<Record<NodeKind | 'bodyParameter', readonly string[]>> = {
  root: ['x-ms-capabilities', 'x-ms-connector-metadata', 'x-ms-docs'],
  info: ['x-ms-api-annotation', 'x-ms-deployment-version'],
  operation: [
    'x-ms-api-annotation',
    'x-ms-capabilities',
    'x-ms-no-generic-test',
    'x-ms-notification',
    'x-ms-operation-context',
    'x-ms-pageable',
    'x-ms-safe-operation',
    'x-ms-summary',
    'x-ms-trigger',
    'x-ms-trigger-hint',
    'x-ms-trigger-metadata',
    'x-ms-visibility',
  ],
  bodyParameter: ['x-ms-dynamic-list', 'x-ms-dynamic-values', 'x-ms-summary', 'x-ms-test-value', 'x-ms-visibility'],
  parameter: [
    'x-ms-dynamic-list',
    'x-ms-dynamic-tree',
    'x-ms-dynamic-values',
    'x-ms-enum-values',
    'x-ms-localizeDefaultValue',
    'x-ms-parameter-location',
    'x-ms-skip-url-encoding',
    'x-ms-summary',
    'x-ms-test-value',
    'x-ms-trigger-value',
    'x-ms-url-encoding',
    'x-ms-visibility',
  ],
  response: ['x-ms-summary'],
  header: ['x-ms-summary', 'x-ms-visibility'],
  schema: [
    'x-ms-dynamic-list',
    'x-ms-dynamic-properties',
    'x-ms-dynamic-schema',
    'x-ms-dynamic-tree',
    'x-ms-dynamic-values',
    'x-ms-enum',
    'x-ms-enum-values',
    'x-ms-localizeDefaultValue',
    'x-ms-media-kind',
    'x-ms-notification-url',
    'x-ms-summary',
    'x-ms-test-value',
    'x-ms-visibility',
  ],
};

function knownExtensions({ nodes }: Document): Finding[] {
  return nodes.flatMap((node) => {
    const kind = node.kind === 'parameter' && node.value.in === 'body' ? 'bodyParameter' : node.kind;
    return Object.keys(node.value)
      .filter((key) => key.startsWith('x-ms-') && !EXTENSIONS[kind].includes(key))
      .map((key) => found(`${node.at}/${key}`, `is not an extension the connector schema allows on this ${kind}`));
  });
}

// [standards] "Use pascal casing for operationId … Don't add hyphens or underscores"; [strings]
// "no spaces or punctuation".
function operationId({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op) => {
    const id = op.value.operationId;
    if (!text(id)) return [found(op.at, 'has no operationId')];
    return /^[A-Z][A-Za-z0-9]*$/.test(String(id))
      ? []
      : [found(`${op.at}/operationId`, `${JSON.stringify(id)} is not PascalCase letters and digits`)];
  });
}

// [swagger] "The id MUST be unique among all operations described in the API"; [schema] "A unique
// identifier of the operation".
function operationIdUnique({ operations: ops }: Document): Finding[] {
  const first = new Map<string, string>();
  return ops.flatMap((op) => {
    const id = text(op.value.operationId);
    if (!id) return [];
    const earlier = first.get(id);
    if (earlier === undefined) {
      first.set(id, op.at);
      return [];
    }
    return [found(`${op.at}/operationId`, `${id} is also the operationId of ${earlier}`)];
  });
}

// [strings] summary: "no slash", "shouldn't exceed 80 characters", "shouldn't end with a
// non-alphanumeric character, including punctuation or space"; [validator] "Summary string contains
// any of the restricted characters [/\<>*%&?]" (PR #1095); [standards] "Operations should always have
// a summary".
function operationSummary({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op): Finding[] => {
    const summary = text(op.value.summary);
    if (!summary) return [found(op.at, 'has no summary')];
    const at = `${op.at}/summary`;
    return [
      ...(summary.length > 80 ? [found(at, `is ${summary.length} characters, more than 80`)] : []),
      ...(/[/\\<>*%&?]/.test(summary) ? [found(at, 'holds one of / \\ < > * % & ?')] : []),
      ...(/[\p{L}\p{N}]$/u.test(summary) ? [] : [found(at, 'does not end with a letter or digit')]),
    ];
  });
}

// [standards] "Operations should always have a summary and description … the description should
// give more information and end with a period (.) … Descriptions and summaries should not have the
// same content".
function operationDescription({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op): Finding[] => {
    const description = text(op.value.description);
    if (!description) return [found(op.at, 'has no description')];
    const at = `${op.at}/description`;
    const bare = (s: unknown) => String(s).trim().replace(/\.$/, '').toLowerCase();
    return [
      ...(description.trim().endsWith('.') ? [] : [found(at, 'does not end with a period')]),
      ...(bare(description) === bare(op.value.summary) ? [found(at, 'says what the summary says')] : []),
    ];
  });
}

// [extensions] x-ms-visibility, "Possible values: important, advanced, internal", on operations,
// parameters and schemas; [schema] the same enum, response headers included.
function visibility({ nodes }: Document): Finding[] {
  return nodes
    .filter((n) => n.value['x-ms-visibility'] !== undefined)
    .filter((n) => !['important', 'advanced', 'internal'].includes(String(n.value['x-ms-visibility'])))
    .map((n) =>
      found(
        `${n.at}/x-ms-visibility`,
        `${JSON.stringify(n.value['x-ms-visibility'])} is not important, advanced or internal`,
      ),
    );
}

// [extensions] x-ms-visibility: "A default value must be provided for parameters that are internal
// and required" (nobody can fill them in). A body property the schema requires is such an input too:
// the designer shows body properties as the action's parameters.
function internalNeedsDefault({ nodes, operations: ops }: Document): Finding[] {
  const hidden = (v: Json) => v['x-ms-visibility'] === 'internal' && v.default === undefined;
  const parameters = ops
    .flatMap((op) => op.parameters)
    .filter((p) => p.value.required === true && hidden(p.value))
    .map((p) => found(p.at, 'is internal and required but has no default'));
  const properties = nodesOf(nodes, 'schema').flatMap((schema) =>
    (Array.isArray(schema.value.required) ? schema.value.required : []).flatMap((name): Finding[] => {
      const property = isJson(schema.value.properties) ? schema.value.properties[String(name)] : undefined;
      return isJson(property) && hidden(property)
        ? [found(`${schema.at}${pointer('properties', String(name))}`, 'is internal and required but has no default')]
        : [];
    }),
  );
  return [...parameters, ...properties];
}

// [validator] "The 'x-ms-summary' property is required" and "The 'description' property is
// required", ValuePath …/parameters/N (PRs #550, #4041, #4160), the body parameter included;
// [strings] x-ms-summary "is limited to 80 characters".
function parameterSummary({ operations: ops }: Document): Finding[] {
  return ops
    .flatMap((op) => op.parameters)
    .flatMap((p): Finding[] => {
      const summary = text(p.value['x-ms-summary']);
      return [
        ...(summary ? [] : [found(p.at, 'has no x-ms-summary')]),
        ...(summary && summary.length > 80 ? [found(`${p.at}/x-ms-summary`, 'is more than 80 characters')] : []),
        ...(text(p.value.description) ? [] : [found(p.at, 'has no description')]),
      ];
    });
}

/** Words title case leaves in lower case between the first and the last: articles, conjunctions, prepositions of three letters or fewer. */
const MINOR_WORDS = new Set('a an and as at but by for in nor of on or per the to via'.split(' '));

/** The words of a label that title case would capitalize but that start in lower case. */
function lowerCaseWords(label: string): string[] {
  const words = label.trim().split(/\s+/);
  return words.filter((word, i) => {
    const letter = /\p{L}/u.exec(word)?.[0];
    if (!letter || /^[^\p{L}]*\p{N}/u.test(word)) return false;
    const inner = i > 0 && i < words.length - 1;
    return letter === letter.toLowerCase() && !(inner && MINOR_WORDS.has(word.toLowerCase()));
  });
}

/** snake_case or camelCase: a field's name where its label belongs. */
const IDENTIFIER = /_|\p{Ll}\p{Lu}/u;

// [extensions] x-ms-summary "Recommended: Use title case"; [strings] parameters and response
// properties: x-ms-summary "Case: Title", the name a flow author reads instead of the field's.
function titleCase({ nodes }: Document): Finding[] {
  return nodes.flatMap((n) => {
    const label = n.value['x-ms-summary'];
    if (label === undefined) return [];
    const at = `${n.at}/x-ms-summary`;
    if (typeof label !== 'string') return [found(at, 'is not text')];
    const lower = lowerCaseWords(label);
    return [
      ...(IDENTIFIER.test(label) ? [found(at, `"${label}" is an identifier, not a title`)] : []),
      ...(lower.length ? [found(at, `"${label}" is not title case (${lower.join(', ')})`)] : []),
    ];
  });
}

// [validator] BodyOrFormDataParameterInFetchOperationNotAllowed: "Body or form data parameters are
// not supported in a fetch operation" (GET).
function noBodyInGet({ operations: ops }: Document): Finding[] {
  return ops
    .filter((op) => op.method === 'get')
    .flatMap((op) => op.parameters)
    .filter((p) => p.value.in === 'body' || p.value.in === 'formData')
    .map((p) => found(p.at, `is a ${String(p.value.in)} parameter of a GET`));
}

// [swagger] every {name} of a path template is a path parameter, and a path parameter names a
// template variable; [schema] pathParameterSubSchema: required must be true.
function pathParameters({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op) => {
    const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = op.parameters.filter((p) => p.value.in === 'path');
    return [
      ...names
        .filter((name) => !declared.some((p) => p.value.name === name))
        .map((name) => found(op.at, `declares no path parameter {${name}}`)),
      ...declared.flatMap((p): Finding[] => [
        ...(names.includes(String(p.value.name)) ? [] : [found(p.at, `${String(p.value.name)} is not in the path`)]),
        ...(p.value.required === true ? [] : [found(`${p.at}/required`, 'a path parameter must be required')]),
      ]),
    ];
  });
}

/** RFC 9110 §5.1: a header name is a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// [swagger] a parameter is unique by name and location, with at most one body parameter; header
// names are HTTP field names (tokens), since the connector sends them as they are written.
function parameterNames({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op) => {
    const seen = new Set<string>();
    let bodies = 0;
    return op.parameters.flatMap((p): Finding[] => {
      const name = text(p.value.name);
      if (!name) return [found(p.at, 'has no name')];
      const key = `${String(p.value.in)} ${p.value.in === 'header' ? name.toLowerCase() : name}`;
      const findings: Finding[] = [];
      if (seen.has(key)) findings.push(found(p.at, `${name} (${String(p.value.in)}) is declared twice`));
      seen.add(key);
      if (p.value.in === 'body' && ++bodies > 1) findings.push(found(p.at, 'is a second body parameter'));
      if (p.value.in === 'header' && !HEADER_NAME.test(name)) {
        findings.push(found(`${p.at}/name`, `${JSON.stringify(name)} is not an HTTP header name`));
      }
      return findings;
    });
  });
}

const TYPE_TESTS: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
};

// [validator] ArrayDuplicateValue: "The array contains duplicate values, values must be unique";
// [swagger] an enum is a non-empty list of values of the declared type, and a default is one of them.
function enums({ nodes }: Document): Finding[] {
  return nodesOf(nodes, 'parameter', 'header', 'schema')
    .filter((n) => n.value.enum !== undefined)
    .flatMap((n): Finding[] => {
      const values = n.value.enum;
      if (!Array.isArray(values) || values.length === 0) return [found(`${n.at}/enum`, 'is not a list of values')];
      const typeTest = TYPE_TESTS[String(n.value.type)];
      const findings = values.flatMap((v, i): Finding[] => [
        ...(values.indexOf(v) < i ? [found(`${n.at}/enum/${i}`, `${JSON.stringify(v)} is listed twice`)] : []),
        ...(typeTest && !typeTest(v)
          ? [found(`${n.at}/enum/${i}`, `${JSON.stringify(v)} is not ${n.value.type}`)]
          : []),
      ]);
      if (n.value.default !== undefined && !values.includes(n.value.default)) {
        findings.push(found(`${n.at}/default`, `${JSON.stringify(n.value.default)} is not one of the enum`));
      }
      return findings;
    });
}

// [standards] "Define your success code by using an HTTP 2xx response type. Don't use default as
// your only defined response"; [validator] "The 'default' response should not have schema
// definition. Schemas should be defined on expected responses only" (PR #3841); PowerPlatformConnectors'
// pull request checklist: "I have added response schemas to my actions" (200 and 201 answer data).
function successResponse({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op): Finding[] => {
    const statuses = [...op.responses.keys()];
    const findings: Finding[] = statuses.some((s) => /^2\d\d$/.test(s))
      ? []
      : [found(`${op.at}/responses`, 'lists no 2xx response')];
    for (const [status, response] of op.responses) {
      const has = response.value.schema !== undefined;
      if ((status === '200' || status === '201') && !has)
        findings.push(found(response.at, 'answers data but has no schema'));
      if (status === 'default' && has) findings.push(found(response.at, 'the default response must have no schema'));
    }
    return findings;
  });
}

/** A property that is only a `$ref` takes its labels from what it names (Swagger 2.0 ignores $ref's siblings). */
const onlyRef = (value: Json) => typeof value.$ref === 'string';

// [extensions] x-ms-summary "Applies to: parameters, response schema"; [strings] responses: each
// property's x-ms-summary "shows up as the result property name" a later step picks.
function responseProperties({ json, operations: ops }: Document): Finding[] {
  return ops.flatMap((op) =>
    [...op.responses]
      .filter(([status]) => /^2\d\d$/.test(status))
      .flatMap(([, response]) => reachableProperties(json, response.value.schema, `${response.at}/schema`))
      .filter((p) => !onlyRef(p.value) && !text(p.value['x-ms-summary']))
      .map((p) => found(p.at, `${p.name} has no x-ms-summary`)),
  );
}

// [extensions] x-ms-summary and description on the parameters a flow author fills in, and a body's
// properties are those; [standards] "Most descriptions are placed as hints in the parameter boxes".
function bodyProperties({ json, operations: ops }: Document): Finding[] {
  return ops
    .flatMap((op) => op.parameters.filter((p) => p.value.in === 'body'))
    .flatMap((p) => reachableProperties(json, p.value.schema, `${p.at}/schema`))
    .filter((p) => !onlyRef(p.value))
    .flatMap((p): Finding[] => [
      ...(text(p.value['x-ms-summary']) ? [] : [found(p.at, `${p.name} has no x-ms-summary`)]),
      ...(text(p.value.description) ? [] : [found(p.at, `${p.name} has no description`)]),
    ]);
}

// [swagger]/JSON Schema: `required` names properties of the schema; one it does not declare is an
// input the designer cannot show, so a flow could never send it.
function requiredProperties({ json, nodes }: Document): Finding[] {
  return nodesOf(nodes, 'schema')
    .filter((n) => n.value.required !== undefined)
    .flatMap((n): Finding[] => {
      const required = n.value.required;
      if (!Array.isArray(required)) return [found(`${n.at}/required`, 'is not a list of property names')];
      const declared = declaredProperties(json, n.value);
      return required.flatMap((name, i) =>
        declared.has(String(name)) ? [] : [found(`${n.at}/required/${i}`, `${JSON.stringify(name)} is no property`)],
      );
    });
}

/** A schema's own property names and those of its allOf parts (through `$ref`s). */
function declaredProperties(doc: Json, schema: Json, seen: ReadonlySet<Json> = new Set()): Set<string> {
  const parts = (Array.isArray(schema.allOf) ? schema.allOf : [])
    .map((part) => followRef(doc, part, '')?.value)
    .filter((part): part is Json => part !== undefined && !seen.has(part));
  return new Set([
    ...Object.keys(isJson(schema.properties) ? schema.properties : {}),
    ...parts.flatMap((part) => [...declaredProperties(doc, part, new Set([...seen, schema]))]),
  ]);
}

// [schema] "$ref's should only point to objects immediately under #/definitions, #/parameters, and
// #/responses", and a reference must name something.
function refs({ json }: Document): Finding[] {
  const findings: Finding[] = [];
  const visit = (value: unknown, at: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        visit(v, `${at}/${i}`);
      });
    }
    if (!isJson(value)) return;
    const ref = value.$ref;
    if (typeof ref === 'string') {
      if (!/^#\/(definitions|parameters|responses)\/[^/]+$/.test(ref)) {
        findings.push(found(`${at}/$ref`, `${ref} is not under #/definitions, #/parameters or #/responses`));
      } else if (resolve(json, ref) === undefined) {
        findings.push(found(`${at}/$ref`, `${ref} names nothing`));
      }
    }
    for (const [key, child] of Object.entries(value)) visit(child, `${at}${pointer(key)}`);
  };
  visit(json, '');
  return findings;
}

// [extensions] x-ms-trigger: "batch" or "single" ([schema] the same enum); x-ms-trigger-hint: how
// to fire the event "for the trigger operation", so it means nothing on an action.
function triggers({ operations: ops }: Document): Finding[] {
  return ops.flatMap((op): Finding[] => {
    const trigger = op.value['x-ms-trigger'];
    const hint = op.value['x-ms-trigger-hint'];
    return [
      ...(trigger === undefined || trigger === 'batch' || trigger === 'single'
        ? []
        : [found(`${op.at}/x-ms-trigger`, `${JSON.stringify(trigger)} is not batch or single`)]),
      ...(hint !== undefined && !text(hint) ? [found(`${op.at}/x-ms-trigger-hint`, 'is not text')] : []),
      ...(hint !== undefined && trigger === undefined
        ? [found(`${op.at}/x-ms-trigger-hint`, 'is on an operation that is no trigger')]
        : []),
    ];
  });
}

// [schema] x-ms-pageable: nextLinkName is required, "the name of the property at the root of the
// response that has the next link url".
function pageable({ json, operations: ops }: Document): Finding[] {
  return ops
    .filter((op) => op.value['x-ms-pageable'] !== undefined)
    .flatMap((op): Finding[] => {
      const settings = op.value['x-ms-pageable'];
      const name = isJson(settings) ? text(settings.nextLinkName) : undefined;
      if (!name) return [found(`${op.at}/x-ms-pageable`, 'has no nextLinkName')];
      const answer = op.responses.get('200');
      const root = followRef(json, answer?.value.schema, `${answer?.at}/schema`);
      return root && isJson(root.value.properties) && Object.hasOwn(root.value.properties, name)
        ? []
        : [found(`${op.at}/x-ms-pageable/nextLinkName`, `${name} is not a property at the root of the 200 answer`)];
    });
}

/** The rules, in the order a document is read: the connector, then its operations, then their data. */
export const CONNECTOR_RULES: readonly ConnectorRule[] = [
  { name: 'SwaggerVersion', source: '[schema] swagger; [standards] file structure', check: swaggerVersion },
  { name: 'ConnectorTitle', source: '[strings] connector information; [validator] /info/title', check: connectorTitle },
  {
    name: 'ConnectorDescription',
    source: '[strings] connector information; [validator] /info/description',
    check: connectorDescription,
  },
  { name: 'HostAndBasePath', source: '[schema] host, basePath, schemes', check: hostAndBasePath },
  { name: 'SecurityDefinitions', source: '[schema] apiKeySecurity; [swagger] security', check: securityDefinitions },
  { name: 'KnownExtensions', source: '[schema] additionalProperties and x-ms-* per object', check: knownExtensions },
  { name: 'OperationId', source: '[standards] actions and triggers; [strings] operationId', check: operationId },
  { name: 'OperationIdUnique', source: '[swagger] operationId; [schema] operation', check: operationIdUnique },
  { name: 'OperationSummary', source: '[strings] summary; [validator] restricted characters', check: operationSummary },
  { name: 'OperationDescription', source: '[standards] summary and description', check: operationDescription },
  { name: 'Visibility', source: '[extensions] x-ms-visibility; [schema] x-ms-visibility', check: visibility },
  { name: 'InternalNeedsDefault', source: '[extensions] x-ms-visibility note', check: internalNeedsDefault },
  { name: 'ParameterSummary', source: '[validator] parameters; [strings] parameters', check: parameterSummary },
  { name: 'TitleCase', source: '[extensions] x-ms-summary; [strings] parameters, responses', check: titleCase },
  { name: 'NoBodyInGet', source: '[validator] BodyOrFormDataParameterInFetchOperationNotAllowed', check: noBodyInGet },
  {
    name: 'PathParameters',
    source: '[swagger] path templating; [schema] pathParameterSubSchema',
    check: pathParameters,
  },
  { name: 'ParameterNames', source: '[swagger] parameters; RFC 9110 field names', check: parameterNames },
  { name: 'Enums', source: '[validator] ArrayDuplicateValue; [swagger] enum, default', check: enums },
  { name: 'SuccessResponse', source: '[standards] responses; [validator] default response', check: successResponse },
  { name: 'ResponseProperties', source: '[extensions] x-ms-summary; [strings] responses', check: responseProperties },
  { name: 'BodyProperties', source: '[extensions] x-ms-summary, description; [standards]', check: bodyProperties },
  { name: 'RequiredProperties', source: '[swagger] schema required', check: requiredProperties },
  { name: 'Refs', source: '[schema] $ref', check: refs },
  { name: 'Triggers', source: '[extensions] x-ms-trigger, x-ms-trigger-hint; [schema]', check: triggers },
  { name: 'Pageable', source: '[schema] x-ms-pageable', check: pageable },
];

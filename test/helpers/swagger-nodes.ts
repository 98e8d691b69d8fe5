/**
 * The places of a Swagger 2.0 document that Power Platform's connector rules speak of (operations,
 * parameters, responses, response headers, schemas), each with its JSON pointer: the validator's
 * "ValuePath", so a broken rule says where as well as what (test/helpers/connector-rules.ts).
 */

export type Json = Readonly<Record<string, unknown>>;

export type NodeKind = 'root' | 'info' | 'operation' | 'parameter' | 'response' | 'header' | 'schema';

export interface Node {
  readonly kind: NodeKind;
  /** JSON pointer into the document, where the object is written. */
  readonly at: string;
  readonly value: Json;
}

export interface Operation {
  readonly at: string;
  readonly path: string;
  readonly method: string;
  readonly value: Json;
  /** Path-level and operation-level parameters, `$ref`s followed; each at the pointer where it is written. */
  readonly parameters: readonly Node[];
  /** Status (or `default`) → the response, `$ref` followed. */
  readonly responses: ReadonlyMap<string, Node>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `pointer('paths', '/referrals', 'get')` is `/paths/~1referrals/get` (RFC 6901 escaping). */
export function pointer(...segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** What a local `#/…` reference (or a bare pointer) names; undefined when it names nothing. */
export function resolve(doc: Json, ref: string): unknown {
  const path = ref.startsWith('#') ? ref.slice(1) : ref;
  if (path === '') return doc;
  if (!path.startsWith('/')) return undefined;
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => {
      // Own keys only: `#/definitions/constructor` must not resolve to Object's prototype.
      if (isJson(node) || Array.isArray(node)) return Object.hasOwn(node, key) ? (node as Json)[key] : undefined;
      return undefined;
    }, doc);
}

/** The object at `at` or, when it is `{ $ref }`, the one it names (and where that is written). */
export function followRef(doc: Json, value: unknown, at: string): { value: Json; at: string } | undefined {
  if (!isJson(value)) return undefined;
  if (typeof value.$ref !== 'string') return { value, at };
  const target = resolve(doc, value.$ref);
  return isJson(target) ? { value: target, at: value.$ref.slice(1) } : undefined;
}

export function entries(value: unknown): [string, unknown][] {
  return isJson(value) ? Object.entries(value) : [];
}

export function operations(doc: Json): Operation[] {
  return entries(doc.paths).flatMap(([path, item]) =>
    isJson(item)
      ? METHODS.filter((method) => isJson(item[method])).map((method) => {
          const at = pointer('paths', path, method);
          const value = item[method] as Json;
          return {
            at,
            path,
            method,
            value,
            parameters: operationParameters(doc, item, pointer('paths', path), method),
            responses: operationResponses(doc, value, at),
          };
        })
      : [],
  );
}

/** An operation's parameters override the path's of the same name and place (Swagger 2.0, Path Item). */
function operationParameters(doc: Json, item: Json, pathAt: string, method: string): Node[] {
  const listed = (list: unknown, at: string): Node[] =>
    (Array.isArray(list) ? list : []).flatMap((p, i) => {
      const found = followRef(doc, p, `${at}/parameters/${i}`);
      return found ? [{ kind: 'parameter' as const, ...found }] : [];
    });
  const own = listed((item[method] as Json).parameters, `${pathAt}/${method}`);
  const key = (p: Node) => `${String(p.value.in)} ${String(p.value.name)}`;
  const overridden = new Set(own.map(key));
  return [...listed(item.parameters, pathAt).filter((p) => !overridden.has(key(p))), ...own];
}

function operationResponses(doc: Json, op: Json, at: string): Map<string, Node> {
  return new Map(
    entries(op.responses).flatMap(([status, response]) => {
      const found = followRef(doc, response, `${at}${pointer('responses', status)}`);
      return found ? [[status, { kind: 'response' as const, ...found }]] : [];
    }),
  );
}

/** A schema and every schema inside it (properties, items, allOf, additionalProperties); `$ref`s are not followed. */
export function schemaTree(schema: unknown, at: string): Node[] {
  if (!isJson(schema)) return [];
  const items = Array.isArray(schema.items)
    ? schema.items.map((s, i): [unknown, string] => [s, `${at}/items/${i}`])
    : [[schema.items, `${at}/items`] as [unknown, string]];
  const children: [unknown, string][] = [
    ...entries(schema.properties).map(([name, s]): [unknown, string] => [s, `${at}${pointer('properties', name)}`]),
    ...items,
    ...(Array.isArray(schema.allOf) ? schema.allOf : []).map((s, i): [unknown, string] => [s, `${at}/allOf/${i}`]),
    [schema.additionalProperties, `${at}/additionalProperties`],
  ];
  return [{ kind: 'schema', at, value: schema }, ...children.flatMap(([s, childAt]) => schemaTree(s, childAt))];
}

/** Every node of the document once, by where it is written (a shared definition is one node). */
export function documentNodes(doc: Json): Node[] {
  const nodes: Node[] = [{ kind: 'root', at: '', value: doc }];
  if (isJson(doc.info)) nodes.push({ kind: 'info', at: '/info', value: doc.info });
  for (const op of operations(doc)) {
    nodes.push({ kind: 'operation', at: op.at, value: op.value }, ...op.parameters);
    for (const p of op.parameters) nodes.push(...schemaTree(p.value.schema, `${p.at}/schema`));
    for (const response of op.responses.values()) nodes.push(...responseNodes(response));
  }
  for (const [name, p] of entries(doc.parameters)) {
    if (isJson(p)) nodes.push({ kind: 'parameter', at: pointer('parameters', name), value: p });
  }
  for (const [name, r] of entries(doc.responses)) {
    if (isJson(r)) nodes.push(...responseNodes({ kind: 'response', at: pointer('responses', name), value: r }));
  }
  for (const [name, schema] of entries(doc.definitions))
    nodes.push(...schemaTree(schema, pointer('definitions', name)));
  return [...new Map(nodes.map((n) => [`${n.kind} ${n.at}`, n])).values()];
}

function responseNodes(response: Node): Node[] {
  const headers = entries(response.value.headers).flatMap(([name, h]): Node[] =>
    isJson(h) ? [{ kind: 'header', at: `${response.at}${pointer('headers', name)}`, value: h }] : [],
  );
  return [response, ...headers, ...schemaTree(response.value.schema, `${response.at}/schema`)];
}

export interface Property {
  readonly name: string;
  readonly at: string;
  readonly value: Json;
}

/**
 * The properties a flow sees of a body or an answer: the schema's, its items', its allOf parts',
 * through `$ref`s, each once, at the pointer where it is written.
 */
export function reachableProperties(doc: Json, schema: unknown, at: string): Property[] {
  const seen = new Set<string>();
  const found: Property[] = [];
  const visit = (node: unknown, nodeAt: string): void => {
    const target = followRef(doc, node, nodeAt);
    if (!target || seen.has(target.at)) return;
    seen.add(target.at);
    for (const [name, value] of entries(target.value.properties)) {
      const propertyAt = `${target.at}${pointer('properties', name)}`;
      if (isJson(value)) found.push({ name, at: propertyAt, value });
      visit(value, propertyAt);
    }
    visit(target.value.items, `${target.at}/items`);
    (Array.isArray(target.value.allOf) ? target.value.allOf : []).forEach((part, i) => {
      visit(part, `${target.at}/allOf/${i}`);
    });
  };
  visit(schema, at);
  return found;
}

/**
 * Every value docs/openapi.json declares is accepted live. The parameters are read from the
 * document itself, so one added later is covered without touching this file: each query parameter
 * of each operation is sent with each of its enum values, or its x-example, or its default, alone
 * and then beside every other parameter's default, through `serve`'s host to the sandbox, and must
 * answer 200. A Power Automate user fills these fields from the same document.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIV2 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHost, startHttpHost } from '../../dev/http-host.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { resetLiveInstance } from '../../src/live/instance.js';
import { OPENAPI_PATH } from '../../src/live/openapi.js';

type Parameter = OpenAPIV2.GeneralParameterObject & { 'x-example'?: unknown };

const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenAPIV2.Document;

let sandbox: Sandbox;
let host: HttpHost;
let work: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'declared-values-'));
  sandbox = await startSandbox({ count: 40, seed: 7 });
  process.env = {
    ...savedEnv,
    ...sandbox.env,
    PARTNER_CENTER_TOKEN_CACHE: join(work, 'cache.json'),
    // The trigger reads a lake: an empty one (no run yet) is a lake too.
    LAKE_LOCAL_DIR: join(work, 'lake'),
  };
  resetLiveInstance();
  host = await startHttpHost({ logHandler: () => {} });
});

afterAll(async () => {
  await host?.close();
  resetLiveInstance();
  process.env = savedEnv;
  await sandbox?.close();
  await rm(work, { recursive: true, force: true });
});

async function get(
  path: string,
  query: Record<string, string>,
): Promise<{ status: number; text: string; location: string | null }> {
  const url = new URL(`${host.baseUrl}${document.basePath ?? ''}${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const res = await fetch(url, { headers: { 'x-functions-key': host.functionKey } });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

/** Path parameters name a resource, not a value to declare: the sandbox's first referral. */
const PATH_VALUES: Record<string, () => string> = { id: () => sandbox.store.all()[0]?.id ?? '' };

/**
 * Parameters whose value only an answer can give; they go alone (a continuation carries the whole
 * query, so nothing may go with it).
 */
const FROM_ANSWERS: Record<string, () => Promise<string>> = {
  state: async () => {
    const first = await get('/triggers/referrals', {});
    return new URL(first.location ?? '').searchParams.get('state') ?? '';
  },
  continuation: async () => {
    const first = await get('/referrals', { maxItems: '1' });
    const nextLink = (JSON.parse(first.text) as { nextLink?: string }).nextLink ?? '';
    return new URL(nextLink).searchParams.get('continuation') ?? '';
  },
};

function declaredValues(p: Parameter): string[] | undefined {
  if (p.enum) return p.enum.map(String);
  if (p['x-example'] !== undefined) return [String(p['x-example'])];
  if (p.default !== undefined) return [String(p.default)];
  return undefined;
}

for (const [path, item] of Object.entries(document.paths)) {
  const operation = item.get;
  if (!operation) continue;
  const parameters = (operation.parameters ?? []) as Parameter[];
  const query = parameters.filter((p) => p.in === 'query');
  const defaults = Object.fromEntries(
    query.filter((p) => p.default !== undefined).map((p) => [p.name, String(p.default)]),
  );
  const concretePath = () =>
    parameters
      .filter((p) => p.in === 'path')
      .reduce((out, p) => {
        const value = PATH_VALUES[p.name];
        if (!value) throw new Error(`path parameter ${p.name} of ${path}: give this test a value for it`);
        return out.replace(`{${p.name}}`, encodeURIComponent(value()));
      }, path);

  // A polling trigger answers 202 (and where to poll) until something changes.
  const ok = (operation as Record<string, unknown>)['x-ms-trigger'] ? 202 : 200;
  describe(`GET ${path} (${operation.operationId}): every declared value answers ${ok}`, () => {
    it('with no parameter, and with every default given', async () => {
      for (const given of [{}, defaults]) {
        const res = await get(concretePath(), given);
        expect(res.status, `${JSON.stringify(given)}: ${res.text}`).toBe(ok);
      }
    });

    for (const p of query) {
      it(p.name, async () => {
        const fromAnswer = FROM_ANSWERS[p.name];
        if (fromAnswer) {
          const res = await get(concretePath(), { [p.name]: await fromAnswer() });
          expect(res.status, res.text).toBe(ok);
          return;
        }
        const values = declaredValues(p);
        expect(values, `${p.name} declares no value to try: give it an enum, x-example or default`).toBeDefined();
        for (const value of values ?? []) {
          for (const given of [{ [p.name]: value }, { ...defaults, [p.name]: value }]) {
            const res = await get(concretePath(), given);
            expect(res.status, `${JSON.stringify(given)}: ${res.text}`).toBe(ok);
          }
        }
      });
    }
  });
}

/**
 * The live list's registered handlers, called in test mode with HttpRequest objects against the
 * in-process sandbox (5,000 seeded referrals): the seed's examples, paging through our continuation,
 * the output formats, hostile queries (400 and no upstream call), errors, and one shared refresh.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { loadHttpFunctions } from '../../src/cli/function-modules.js';
import { resetLiveInstance } from '../../src/live/instance.js';
import { getTable } from '../../src/schema/tables.js';
import { FileTokenCacheStore, type TokenCacheStore } from '../../src/source/auth/token-cache.js';
import { accessToken, listUrl, repairNextLink, send } from '../helpers/sandbox-http.js';

const HTTP_FUNCTIONS = await loadHttpFunctions();

const BASE = 'https://fn.example.test/api';
let sandbox: Sandbox;
let work: string;
const savedEnv = { ...process.env };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  logs: string[];
}

async function call(name: string, url: string, params: Record<string, string> = {}): Promise<Answer> {
  const fn = HTTP_FUNCTIONS.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  const request = new HttpRequest({ method: 'GET', url, params, headers: {} });
  const logs: string[] = [];
  const context = new InvocationContext({ functionName: name, invocationId: `inv-${Math.random().toString(36)}` });
  for (const level of ['info', 'warn', 'error', 'debug'] as const)
    context[level] = (line: unknown) => logs.push(String(line));
  const response = new HttpResponse((await fn.handler(request, context)) as never);
  return { status: response.status, headers: response.headers, text: await response.text(), logs };
}

function listUrlOf(params: Record<string, string>): string {
  const url = new URL(`${BASE}/referrals`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

const list = (params: Record<string, string>) => call('listReferrals', listUrlOf(params));

interface JsonPage {
  value: Array<Record<string, unknown>>;
  count: number;
  nextLink?: string;
}

/** Follows nextLink to the end; returns every item and the number of answers. */
async function listAll(
  params: Record<string, string>,
): Promise<{ items: Array<Record<string, unknown>>; answers: number }> {
  const items: Array<Record<string, unknown>> = [];
  let url: string | undefined = listUrlOf(params);
  let answers = 0;
  while (url) {
    const answer = await call('listReferrals', url);
    expect(answer.status, answer.text).toBe(200);
    const page = JSON.parse(answer.text) as JsonPage;
    expect(page.count).toBe(page.value.length);
    items.push(...page.value);
    answers++;
    url = page.nextLink;
    if (url) expect(url.startsWith(`${BASE}/referrals?continuation=`)).toBe(true);
  }
  return { items, answers };
}

/** The sandbox queried directly: every page (following its nextLinks) or only the first. */
async function direct(params: Record<string, string>, firstPageOnly: boolean): Promise<string[]> {
  const { accessToken: token } = await accessToken(sandbox, sandbox.identity.issueBootstrapRefreshToken(0));
  const ids: string[] = [];
  let url: string | undefined = listUrl(sandbox, params);
  while (url) {
    const res = await send(sandbox, url, { headers: { Authorization: `Bearer ${token}` } });
    const body = res.json<{ value: Array<{ id: string }>; '@odata.nextLink'?: string }>();
    ids.push(...body.value.map((r) => r.id));
    const next = body['@odata.nextLink'];
    url = next && !firstPageOnly ? repairNextLink(sandbox, next) : undefined;
  }
  return ids;
}

function useInstance(env: Record<string, string> = {}, store?: TokenCacheStore): void {
  // Refresh tokens rotate: every new instance (with its own empty cache) signs in with a fresh one.
  process.env = {
    ...savedEnv,
    ...sandbox.env,
    PARTNER_CENTER_REFRESH_TOKEN: sandbox.identity.issueBootstrapRefreshToken(0),
    PARTNER_CENTER_TOKEN_CACHE: join(work, `cache-${Math.random()}.json`),
    ...env,
  };
  resetLiveInstance({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...(store ? { tokenCacheStore: store } : {}) });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'live-list-'));
  sandbox = await startSandbox({ count: 5000, seed: 1 });
});

afterAll(async () => {
  resetLiveInstance();
  process.env = savedEnv;
  await sandbox?.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  sandbox.faults.replace({});
  useInstance();
});

const EXAMPLES: ReadonlyArray<{
  raw: Record<string, string>;
  friendly: Record<string, string>;
  firstPageOnly: boolean;
}> = [
  {
    raw: { $top: '10', $filter: "(type eq 'Shared' and direction eq 'Incoming')", $orderby: 'createdDateTime desc' },
    friendly: { $top: '10', type: 'Shared', direction: 'Incoming', $orderby: 'createdDateTime desc' },
    firstPageOnly: true,
  },
  {
    raw: {
      $top: '10',
      $filter: "(direction eq 'Incoming' and substatus eq 'Pending')",
      $orderby: 'createdDateTime desc',
    },
    friendly: { $top: '10', direction: 'Incoming', substatus: 'Pending', $orderby: 'createdDateTime desc' },
    firstPageOnly: true,
  },
  {
    raw: {
      $filter:
        "status eq 'Active' and direction eq 'Outgoing' and type eq 'Shared' and team/any(t:t/email eq 'r2d2@contoso.com')",
      $orderby: 'createdDateTime desc',
    },
    friendly: {
      status: 'Active',
      direction: 'Outgoing',
      type: 'Shared',
      assignedTo: 'r2d2@contoso.com',
      $orderby: 'createdDateTime desc',
    },
    firstPageOnly: false,
  },
];

describe('GET /api/referrals: the seed examples', () => {
  for (const [i, example] of EXAMPLES.entries()) {
    it(`example ${i + 1}: raw and friendly forms return what the sandbox returns`, async () => {
      const expected = await direct(example.raw, example.firstPageOnly);
      expect(expected.length).toBeGreaterThan(0);
      const raw = await listAll({ ...example.raw, shape: 'raw' });
      expect(raw.items.map((r) => r.id)).toEqual(expected);
      const friendly = await listAll(example.friendly);
      expect(friendly.items.map((r) => r.referral_id)).toEqual(expected);
    });
  }
});

describe('GET /api/referrals: paging through our continuation', () => {
  it('returns every match once, in order, across page boundaries upstream and ours', async () => {
    const expected = sandbox.store
      .all()
      .filter((r) => r.direction === 'Incoming')
      .map((r) => r.id);
    const { items, answers } = await listAll({ direction: 'Incoming', maxItems: '137' });
    const ids = items.map((r) => r.referral_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
    expect(answers).toBe(Math.ceil(expected.length / 137) + (expected.length % 137 === 0 ? 1 : 0));
  }, 60_000);

  const LIMITS: Array<[string, number, number, number]> = [
    // what, $top, maxItems, answers expected
    ['$top limits the whole listing, across answers', 250, 100, 3],
    ['an answer that ends inside the first upstream page resumes exactly there', 50, 30, 2],
  ];
  for (const [what, top, maxItems, expectedAnswers] of LIMITS) {
    it(what, async () => {
      const { items, answers } = await listAll({ $top: String(top), maxItems: String(maxItems), shape: 'raw' });
      const expected = sandbox.store.all().slice(0, top);
      expect(items.map((r) => r.id)).toEqual(expected.map((r) => r.id));
      expect(answers).toBe(expectedAnswers);
    });
  }

  it('the token is opaque: no upstream URL or skiptoken in it', async () => {
    const answer = await list({ maxItems: '5' });
    const { nextLink } = JSON.parse(answer.text) as JsonPage;
    expect(nextLink).toBeDefined();
    const token = new URL(nextLink ?? '').searchParams.get('continuation') ?? '';
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toMatch(/skiptoken|127\.0\.0\.1|referrals/);
    expect(nextLink).not.toContain(sandbox.baseUrl);
  });

  it('a changed or foreign token is a 400, with no upstream call', async () => {
    const answer = await list({ maxItems: '5' });
    const token = new URL((JSON.parse(answer.text) as JsonPage).nextLink ?? '').searchParams.get('continuation') ?? '';
    const flipped = `${token.slice(0, 30)}${token[30] === 'A' ? 'B' : 'A'}${token.slice(31)}`;
    const before = sandbox.stats().api.requests;
    for (const bad of [flipped, 'x'.repeat(80), 'short']) {
      const res = await list({ continuation: bad });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ status: 400, target: 'continuation' });
    }
    expect((await list({ continuation: token, status: 'New' })).status).toBe(400);
    expect(sandbox.stats().api.requests).toBe(before);
  });
});

/** A row without what depends on the moment of the call: lineage (invocation, time) and values derived from it. */
const MOMENT_COLUMNS = new Set(
  getTable('referrals')
    .columns.filter((c) => c.source === '[lineage]' || c.source === '[derived]')
    .map((c) => c.name),
);
function stable<T extends Record<string, unknown>>(row: T): Partial<T> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !MOMENT_COLUMNS.has(k))) as Partial<T>;
}

describe('GET /api/referrals: formats', () => {
  const query = { direction: 'Incoming', maxItems: '300', $orderby: 'updatedDateTime desc' };

  it('csv and ndjson parse back to the same rows as json', async () => {
    const json = await list(query);
    const rows = (JSON.parse(json.text) as JsonPage).value;
    expect(rows).toHaveLength(300);
    const ndjson = await list({ ...query, format: 'ndjson' });
    expect(ndjson.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = ndjson.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const nextLine = lines.pop();
    expect(Object.keys(nextLine ?? {})).toEqual(['@odata.nextLink']);
    expect(lines.map(stable)).toEqual(rows.map(stable));
    const csv = await list({ ...query, format: 'csv' });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const parsed = parseCsv(csv.text, { columns: true, comment: '#' }) as Array<Record<string, string>>;
    expect(csv.text.trimEnd().split('\n').at(-1)).toMatch(/^# @odata\.nextLink: https:\/\//);
    const asCsv = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)]));
    expect(parsed.map(stable)).toEqual(rows.map(asCsv).map(stable));
  });

  it('json answers are flat rows of the lake by default, raw on request', async () => {
    const flat = JSON.parse((await list({ maxItems: '3' })).text) as JsonPage;
    expect(Object.keys(flat.value[0] ?? {})).toContain('customer_address_country');
    const raw = JSON.parse((await list({ maxItems: '3', shape: 'raw' })).text) as JsonPage;
    expect(raw.value).toEqual(sandbox.store.all().slice(0, 3));
  });

  it('GET /api/referrals/{id}: flat, raw, and 404', async () => {
    const first = sandbox.store.all()[0];
    const url = `${BASE}/referrals/${first?.id}`;
    const flat = await call('getReferral', url, { id: first?.id ?? '' });
    expect(JSON.parse(flat.text)).toMatchObject({ referral_id: first?.id });
    const raw = await call('getReferral', `${url}?shape=raw`, { id: first?.id ?? '' });
    expect(JSON.parse(raw.text)).toEqual(first);
    const missing = await call('getReferral', `${BASE}/referrals/00000000-0000-0000-0000-000000000000`, {
      id: '00000000-0000-0000-0000-000000000000',
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await call('getReferral', `${BASE}/referrals/x'y`, { id: "x'y" })).status).toBe(400);
  });
});

describe('GET /api/referrals: $select', () => {
  const columns = ['status', 'referral_id', 'created_date_time', 'details_deal_value'];
  const query = { direction: 'Incoming', maxItems: '20', $select: columns.join(',') };

  it("flat: the named columns, in the order named, with the full row's values, in json, ndjson and csv", async () => {
    const selected = (JSON.parse((await list(query)).text) as JsonPage).value;
    const all = (JSON.parse((await list({ direction: 'Incoming', maxItems: '20' })).text) as JsonPage).value;
    const picked = all.map((row) => Object.fromEntries(columns.map((c) => [c, row[c]])));
    expect(selected.map((row) => Object.keys(row))).toEqual(picked.map(() => columns));
    expect(selected).toEqual(picked);

    const ndjson = await list({ ...query, format: 'ndjson' });
    const lines = ndjson.text.trimEnd().split('\n');
    lines.pop(); // the nextLink line
    expect(lines.map((l) => JSON.parse(l))).toEqual(picked);
    expect(lines.map((l) => Object.keys(JSON.parse(l)))).toEqual(picked.map(() => columns));

    const csv = await list({ ...query, format: 'csv' });
    expect(csv.text.split('\n')[0]).toBe(columns.join(','));
    const rows = parseCsv(csv.text, { columns: true, comment: '#' }) as Array<Record<string, string>>;
    expect(rows).toEqual(
      picked.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] === null ? '' : String(r[c])]))),
    );
  });

  it('flat: the selection goes on through the continuation; a name given twice counts once', async () => {
    const { items, answers } = await listAll({
      direction: 'Incoming',
      $top: '25',
      maxItems: '10',
      $select: 'referral_id,status,referral_id',
    });
    expect(answers).toBe(3);
    expect(items).toHaveLength(25);
    for (const row of items) expect(Object.keys(row)).toEqual(['referral_id', 'status']);
  });

  it('raw: top-level referral properties, chosen by Partner Center', async () => {
    const raw = JSON.parse((await list({ shape: 'raw', maxItems: '3', $select: 'id,status' })).text) as JsonPage;
    expect(raw.value).toEqual(
      sandbox.store
        .all()
        .slice(0, 3)
        .map((r) => ({ id: r.id, status: r.status })),
    );
  });

  const REFUSED: Array<[string, Record<string, string>, RegExp]> = [
    [
      'an unknown flat column, naming it and the valid ones',
      { $select: 'referral_id,nope' },
      /'nope'.*the columns are: referral_id, engagement_id, .*_extra_json$/,
    ],
    ['a raw property name with shape=flat', { $select: 'id' }, /'id', which is not a column of the flat referrals row/],
    [
      'a flat column name with shape=raw',
      { $select: 'referral_id', shape: 'raw' },
      /'referral_id', which is not a property of a referral/,
    ],
    ['an empty item', { $select: 'referral_id,,status' }, /empty item/],
  ];
  for (const [what, params, detail] of REFUSED) {
    it(`${what}: 400 with no upstream call`, async () => {
      const before = sandbox.stats().api.requests;
      const res = await list(params);
      expect(res.status, res.text).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ target: '$select', detail: expect.stringMatching(detail) });
      expect(sandbox.stats().api.requests).toBe(before);
    });
  }
});

describe('GET /api/referrals: hostile queries are 400s that never reach Partner Center', () => {
  const HOSTILE: Array<[string, Record<string, string>, string]> = [
    ['a quote-and-or injection', { $filter: "' or 1 eq 1" }, '$filter'],
    ['a literal-only comparison', { $filter: "status eq 'New' or 1 eq 1" }, '$filter'],
    ['an unknown field', { $filter: "secretField eq 'x'" }, '$filter'],
    ['an unknown parameter', { tenant: 'other' }, 'tenant'],
    ['substringof', { $filter: "substringof('Contoso', name)" }, '$filter'],
    ['contains', { $filter: "contains(name, 'Contoso')" }, '$filter'],
    ['arithmetic', { $filter: 'details/dealValue add 1 gt 5' }, '$filter'],
    ['$expand', { $expand: 'team' }, '$expand'],
    ['$skip', { $skip: '10' }, '$skip'],
    ['a 10 KB filter', { $filter: `status eq '${'a'.repeat(10_240)}'` }, '$filter'],
    ['unbalanced parentheses', { $filter: "(status eq 'New' and (direction eq 'Incoming')" }, '$filter'],
    ['a stray closing parenthesis', { $filter: "status eq 'New')" }, '$filter'],
    ['a control character in $filter', { $filter: "status eq 'New\u0000'" }, '$filter'],
    ['a control character in a friendly value', { status: 'New\r\nX-Injected: 1' }, 'status'],
    ['a bad date', { createdFrom: 'yesterday' }, 'createdFrom'],
    ['a bad $orderby', { $orderby: 'name desc' }, '$orderby'],
    ['a too large maxItems', { maxItems: '1000000' }, 'maxItems'],
    ['csv of raw referrals', { format: 'csv', shape: 'raw' }, 'format'],
  ];

  for (const [what, params, target] of HOSTILE) {
    it(what, async () => {
      const before = sandbox.stats();
      const res = await list(params);
      expect(res.status, res.text).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = JSON.parse(res.text) as { target: string; detail: string; correlationId: string };
      expect(body.target).toBe(target);
      expect(body.detail.length).toBeLessThan(600);
      expect(body.correlationId).toBe(res.headers.get('x-correlation-id'));
      const after = sandbox.stats();
      expect(after.api.requests).toBe(before.api.requests);
      expect(after.identity.tokenRequests).toBe(before.identity.tokenRequests);
    });
  }

  // Raw query strings: URLSearchParams would encode the '%' these are made of.
  const MALFORMED: Array<[string, string, string]> = [
    ['a % without hex digits', 'status=%zz', 'status'],
    ['a lone %', 'status=%', 'status'],
    ['an escape cut short', 'country=U%5', 'country'],
    ['bytes that are not UTF-8', 'status=%C3%28', 'status'],
    ['an overlong encoding of /', '$filter=%C0%AF', '$filter'],
    ['a lone surrogate', 'status=%ED%A0%80', 'status'],
    ['a malformed name', 'sta%zztus=New', 'query'],
    ['a malformed value of an unknown name', 'other=%zz', 'query'],
    ['a malformed value beside good ones', 'direction=Incoming&status=New%', 'status'],
  ];
  for (const [what, search, target] of MALFORMED) {
    it(`malformed percent-encoding: ${what}`, async () => {
      const before = sandbox.stats();
      const res = await call('listReferrals', `${BASE}/referrals?${search}`);
      expect(res.status, res.text).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ status: 400, target });
      expect(JSON.parse(res.text).detail).toMatch(/percent-encoding/);
      expect(sandbox.stats().api.requests).toBe(before.api.requests);
      expect(sandbox.stats().identity.tokenRequests).toBe(before.identity.tokenRequests);
    });
  }

  it('well-formed escapes still decode: + and %20 are spaces, UTF-8 escapes are text', async () => {
    const ids = async (search: string) => {
      const res = await call('listReferrals', `${BASE}/referrals?${search}`);
      expect(res.status, res.text).toBe(200);
      return (JSON.parse(res.text) as JsonPage).value.map((r) => r.referral_id);
    };
    const spaced = await ids('$orderby=createdDateTime+desc&maxItems=3');
    expect(spaced).toHaveLength(3);
    expect(await ids('$orderby=createdDateTime%20desc&maxItems=3')).toEqual(spaced);
    const accented = await call('listReferrals', `${BASE}/referrals?country=%C3%A9`);
    expect(JSON.parse(accented.text)).toEqual({ value: [], count: 0 });
  });

  it('GET /api/referrals/{id}: a malformed escape in its query is a 400 too', async () => {
    const first = sandbox.store.all()[0]?.id ?? '';
    // Any shape but flat or raw is refused anyway; `code` takes any value, so only decoding refuses this.
    const res = await call('getReferral', `${BASE}/referrals/${first}?code=%E2%82`, { id: first });
    expect(res.status, res.text).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ target: 'code', detail: expect.stringMatching(/percent-encoding/) });
  });

  it('a friendly value that looks like OData is just a value: it matches nothing', async () => {
    const res = await list({ status: "New' or status ne 'x" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ value: [], count: 0 });
  });
});

describe('GET /api/referrals: upstream failures as problem+json', () => {
  it('Partner Center throttling → 503 with Retry-After', async () => {
    useInstance({ PARTNER_CENTER_MAX_ATTEMPTS: '1' });
    sandbox.faults.replace(parseFaultSpec('429(rate=1,retryAfter=7)'));
    const res = await list({ status: 'New' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('a failure after the answer started cuts the stream: never a 200 that reads as complete', async () => {
    useInstance({ PARTNER_CENTER_MAX_ATTEMPTS: '1' });
    const fn = HTTP_FUNCTIONS.find((f) => f.name === 'listReferrals');
    const request = new HttpRequest({ method: 'GET', url: listUrlOf({ maxItems: '500' }) });
    const context = new InvocationContext({ functionName: 'listReferrals', invocationId: 'cut' });
    const logs: string[] = [];
    context.error = (line: unknown) => logs.push(String(line));
    const response = new HttpResponse((await fn?.handler(request, context)) as never);
    expect(response.status).toBe(200);
    // The first page is in hand; every later page fails.
    sandbox.faults.replace(parseFaultSpec('5xx(rate=1,burst=1)'));
    await expect(response.text()).rejects.toThrow();
    expect(logs.join('\n')).toMatch(/cut short/);
  });

  it('a dead sign-in → 502 telling to re-run referrals-lake login, with no token anywhere', async () => {
    const dead = 'dead-refresh-token-0123456789';
    useInstance({ PARTNER_CENTER_REFRESH_TOKEN: dead });
    const res = await list({ status: 'New' });
    expect(res.status).toBe(502);
    const body = JSON.parse(res.text) as { detail: string };
    expect(body.detail).toContain('referrals-lake login');
    for (const text of [res.text, ...res.logs]) {
      expect(text).not.toContain(dead);
      expect(text).not.toContain(sandbox.env.PARTNER_CENTER_CLIENT_SECRET);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./);
    }
  });
  it('a refused cached sign-in → 502 whose answer does not name the token cache file', async () => {
    const cache = join(work, 'refused-cache.json');
    useInstance({ PARTNER_CENTER_TOKEN_CACHE: cache });
    const bootstrap = process.env.PARTNER_CENTER_REFRESH_TOKEN ?? '';
    expect((await list({ maxItems: '1' })).status).toBe(200);
    const stale = await readFile(cache, 'utf8');
    sandbox.identity.expireAccessTokens();
    expect((await list({ maxItems: '1' })).status).toBe(200);
    // The cache as it was before that refresh: its refresh token is redeemed, so Entra ID refuses it;
    // the bootstrap token was redeemed on this cache too, so it is not tried again (a fresh one would be).
    await writeFile(cache, stale);
    useInstance({ PARTNER_CENTER_TOKEN_CACHE: cache, PARTNER_CENTER_REFRESH_TOKEN: bootstrap });
    sandbox.identity.expireAccessTokens();
    const res = await list({ status: 'New' });
    expect(res.status, res.text).toBe(502);
    expect(JSON.parse(res.text)).toMatchObject({ detail: expect.stringContaining('referrals-lake login') });
    expect(res.text).not.toContain(work);
    expect(res.text).not.toContain('refused-cache');
    expect(res.logs.join('\n')).toMatch(/"code":"auth_required"/);
  });
});

describe('one client and token per instance', () => {
  it('50 concurrent requests with an expired access token cause one refresh and one cache write', async () => {
    let writes = 0;
    const file = new FileTokenCacheStore(join(work, 'shared-cache.json'));
    const counting: TokenCacheStore = {
      describe: () => file.describe(),
      read: () => file.read(),
      write: async (data, etag) => {
        writes++;
        return file.write(data, etag);
      },
    };
    useInstance({}, counting);
    expect((await list({ maxItems: '1' })).status).toBe(200);
    sandbox.identity.expireAccessTokens();
    const before = sandbox.stats();
    const writesBefore = writes;
    const answers = await Promise.all(Array.from({ length: 50 }, () => list({ status: 'New', maxItems: '5' })));
    for (const a of answers) expect(a.status, a.text).toBe(200);
    const after = sandbox.stats();
    expect(after.api.unauthorized - before.api.unauthorized).toBe(50);
    expect(after.identity.refreshes - before.identity.refreshes).toBe(1);
    expect(after.identity.tokenRequests - before.identity.tokenRequests).toBe(1);
    expect(writes - writesBefore).toBe(1);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { accessToken, type ListPage, listAll, listUrl, repairNextLink, send } from '../helpers/sandbox-http.js';

const COUNT = 5000;

/** Plain JavaScript predicates: an oracle that shares no code with the sandbox's OData evaluator. */
const EXAMPLES: { name: string; params: Record<string, string>; select: (r: Referral) => boolean }[] = [
  {
    name: 'ten newest incoming co-sell opportunities',
    params: { $top: '10', $filter: "(type eq 'Shared' and direction eq 'Incoming')", $orderby: 'createdDateTime desc' },
    select: (r: Referral) => r.type === 'Shared' && r.direction === 'Incoming',
  },
  {
    name: 'newest incoming not yet responded to',
    params: {
      $top: '10',
      $filter: "(direction eq 'Incoming' and substatus eq 'Pending')",
      $orderby: 'createdDateTime desc',
    },
    select: (r: Referral) => r.direction === 'Incoming' && r.substatus === 'Pending',
  },
  {
    name: 'active outgoing co-sell worked on by one seller',
    params: {
      $filter:
        "status eq 'Active' and direction eq 'Outgoing' and type eq 'Shared' and team/any(t:t/email eq 'r2d2@contoso.com')",
      $orderby: 'createdDateTime desc',
    },
    select: (r: Referral) =>
      r.status === 'Active' &&
      r.direction === 'Outgoing' &&
      r.type === 'Shared' &&
      (r.team ?? []).some((m) => m.email === 'r2d2@contoso.com'),
  },
];

function newestFirst(a: Referral, b: Referral): number {
  const ka = `${canonicalTimestamp(a.createdDateTime)}|${a.id}`;
  const kb = `${canonicalTimestamp(b.createdDateTime)}|${b.id}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

const ids = (pages: ListPage[]) => pages.flatMap((p) => p.value.map((r) => r.id));

describe('sandbox Referrals API', () => {
  let sandbox: Sandbox;
  let token: string;
  let refreshToken: string;
  let book: Referral[];

  /** Refresh tokens rotate: each use returns the one to use next. */
  async function renewToken(): Promise<string> {
    const tokens = await accessToken(sandbox, refreshToken);
    refreshToken = tokens.refreshToken;
    return tokens.accessToken;
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ count: COUNT, seed: 1, defaultPageSize: 100, maxPageSize: 250 });
    refreshToken = sandbox.env.PARTNER_CENTER_REFRESH_TOKEN;
    token = await renewToken();
    book = sandbox.store.all();
  });
  afterAll(() => sandbox.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    send(sandbox, url, { headers: { Authorization: `Bearer ${token}`, ...headers } });

  describe.each(EXAMPLES)('documented example: $name', ({ params, select }) => {
    it('returns what a plain evaluation of the whole book selects, in order', async () => {
      const expected = book
        .filter(select)
        .sort(newestFirst)
        .map((r) => r.id);
      expect(expected.length).toBeGreaterThan(0);
      const pages = await listAll(sandbox, token, params);
      if (params.$top) expect(pages[0]?.value.map((r) => r.id)).toEqual(expected.slice(0, Number(params.$top)));
      expect(ids(pages)).toEqual(expected);
    });
  });

  it.each([1, 7, 250])(
    'pages of %i return every referral exactly once, in createdDateTime order',
    async (size) => {
      const pages = await listAll(sandbox, token, { $top: String(size) });
      const seen = ids(pages);
      expect(seen).toHaveLength(COUNT);
      expect(new Set(seen).size).toBe(COUNT);
      expect(seen).toEqual(book.map((r) => r.id));
      expect(pages.slice(0, -1).every((p) => p.value.length === size)).toBe(true);
    },
    120_000,
  );

  it('caps $top at the maximum page size and says the page count in @odata.count', async () => {
    const page = (await get(listUrl(sandbox, { $top: '5000' }))).json<ListPage>();
    expect(page.value).toHaveLength(250);
    expect(page['@odata.count']).toBe(250);
    const counted = (await get(listUrl(sandbox, { $top: '3', $count: 'true' }))).json<ListPage>();
    expect(counted['@odata.count']).toBe(COUNT);
  });

  it('applies $skip, $select and updatedDateTime ordering', async () => {
    const byUpdated = [...book].sort((a, b) => {
      const ka = `${canonicalTimestamp(a.updatedDateTime)}|${a.id}`;
      const kb = `${canonicalTimestamp(b.updatedDateTime)}|${b.id}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const res = await get(
      listUrl(sandbox, { $orderby: 'updatedDateTime asc', $skip: '10', $top: '5', $select: 'id,status' }),
    );
    const page = res.json<ListPage>();
    expect(page.value.map((r) => r.id)).toEqual(byUpdated.slice(10, 15).map((r) => r.id));
    expect(Object.keys(page.value[0] ?? {}).sort()).toEqual(['id', 'status']);
  });

  it('writes nextLink like the docs example: http, no /engagements, only a $skiptoken', async () => {
    const page = (await get(listUrl(sandbox, { $top: '2' }))).json<ListPage>();
    const next = new URL(page['@odata.nextLink'] ?? '');
    expect(next.protocol).toBe('http:');
    expect(next.pathname).toBe('/v1.0/referrals');
    expect([...next.searchParams.keys()]).toEqual(['$skiptoken']);
    const literal = new URL(next);
    literal.protocol = 'https:';
    expect((await get(literal.toString())).status).toBe(404);
    expect((await get(repairNextLink(sandbox, next.toString()))).status).toBe(200);
  });

  it('rejects a tampered $skiptoken', async () => {
    const page = (await get(listUrl(sandbox, { $top: '2' }))).json<ListPage>();
    const next = new URL(repairNextLink(sandbox, page['@odata.nextLink'] ?? ''));
    next.searchParams.set('$skiptoken', `x${next.searchParams.get('$skiptoken')}`);
    const res = await get(next.toString());
    expect(res.status).toBe(400);
    expect(res.json<{ error: { target: string } }>().error.target).toBe('$skiptoken');
  });

  it.each([
    [{ $filter: "status eq 'New" }, '$filter'],
    [{ $filter: "contains(name,'x')" }, '$filter'],
    [{ $filter: "nope eq 'x'" }, '$filter'],
    [{ $orderby: 'name' }, '$orderby'],
    [{ $top: 'all' }, '$top'],
    [{ $expand: 'details' }, '$expand'],
  ])('answers malformed or unsupported OData %j with a 400 OData error naming %s', async (params, target) => {
    const res = await get(listUrl(sandbox, params));
    expect(res.status).toBe(400);
    const body = res.json<{ error: { code: string; message: string; target: string } }>();
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.target).toBe(target);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(res.headers['request-id']).toBeTruthy();
  });

  it('answers 401 with WWW-Authenticate without a token, or with a forged one', async () => {
    const bare = await send(sandbox, listUrl(sandbox));
    expect(bare.status).toBe(401);
    expect(String(bare.headers['www-authenticate'])).toMatch(/^Bearer /);
    const forged = await send(sandbox, listUrl(sandbox), {
      headers: { Authorization: `Bearer ${token.slice(0, -4)}AAAA` },
    });
    expect(forged.status).toBe(401);
  });

  it('answers 401 once access tokens have expired', async () => {
    const fresh = await renewToken();
    sandbox.identity.expireAccessTokens();
    const res = await send(sandbox, listUrl(sandbox), { headers: { Authorization: `Bearer ${fresh}` } });
    expect(res.status).toBe(401);
    token = await renewToken();
    expect((await get(listUrl(sandbox, { $top: '1' }))).status).toBe(200);
  });

  it('echoes MS-RequestId as Request-ID and MS-CorrelationId', async () => {
    const res = await get(listUrl(sandbox, { $top: '1' }), { 'MS-RequestId': 'req-1', 'MS-CorrelationId': 'corr-1' });
    expect(res.headers['request-id']).toBe('req-1');
    expect(res.headers['ms-correlationid']).toBe('corr-1');
  });

  it('serves one referral by id, and 404 for an unknown id', async () => {
    const first = book[0] as Referral;
    const res = await get(`${sandbox.baseUrl}/v1.0/engagements/referrals/${first.id}`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual(first);
    const missing = await get(`${sandbox.baseUrl}/v1.0/engagements/referrals/00000000-0000-0000-0000-000000000000`);
    expect(missing.status).toBe(404);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('NotFound');
  });
});

describe('a sandbox for another tenant', () => {
  it('serves the tenant it is given, by id or by its domain, and hands out settings for it', async () => {
    const tenantId = '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4';
    const other = await startSandbox({ count: 5, tenantId, tenantDomain: 'fabrikam-partner.example' });
    try {
      expect(other.env.PARTNER_CENTER_TENANT_ID).toBe(tenantId);
      expect(other.tenantDomain).toBe('fabrikam-partner.example');
      const discovery = await send(
        other,
        `${other.baseUrl}/fabrikam-partner.example/v2.0/.well-known/openid-configuration`,
      );
      expect(discovery.json<{ issuer: string }>().issuer).toBe(`${other.baseUrl}/${tenantId}/v2.0`);
      const { accessToken: token } = await accessToken(other);
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
      expect(claims.tid).toBe(tenantId);
      const page = await send(other, listUrl(other), { headers: { Authorization: `Bearer ${token}` } });
      expect(page.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

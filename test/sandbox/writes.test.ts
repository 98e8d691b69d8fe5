/**
 * The sandbox's writes as a client meets them, over real HTTPS: PATCH (JSON Patch, If-Match,
 * Prefer, the transition rules, the fields no patch may touch), POST (required fields, what the
 * service fills in), the expiry of unanswered leads on a clock the control route moves, and the
 * webhook event every write sends. Expected values are written out here from the docs' rules,
 * never computed with the sandbox's own rule code.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateReferrals } from '../../sandbox/generator.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp, timestampToEpochMs } from '../../src/common/time.js';
import type { Referral } from '../../src/schema/referral-resource.js';
import { accessToken, type ListPage, listUrl, type RawResponse, send } from '../helpers/sandbox-http.js';
import { Receiver } from '../helpers/webhook-receiver.js';

type Operation = { op: string; path: string; value?: unknown };
type ErrorBody = { error: { code: string; message: string; target: string | null } };

const ACCEPT: Operation[] = [
  { op: 'replace', path: '/status', value: 'Active' },
  { op: 'replace', path: '/substatus', value: 'Accepted' },
];
const decline = (reason?: string): Operation[] => [
  { op: 'replace', path: '/status', value: 'Closed' },
  { op: 'replace', path: '/substatus', value: 'Declined' },
  ...(reason === undefined ? [] : [{ op: 'add', path: '/statusReason', value: reason }]),
];
const DAY_MS = 86_400_000;
/** Retries a few milliseconds apart, so that a test never waits on a failed delivery. */
const FAST: SandboxOptions['webhooks'] = { retryDelaysMs: [5], attemptTimeoutMs: 1000 };

/** A book "as of now", so unanswered incoming referrals are still inside their 14 days. */
const currentBook = (seed: number, count: number) => generateReferrals({ count, seed, now: new Date() });

/** What a create needs, as Microsoft's "Create a referral" example sends it (trimmed). */
function newReferralBody(): Record<string, unknown> {
  return {
    name: 'Contoso Field Service rollout',
    externalReferenceId: 'CRM-000123',
    status: 'New',
    substatus: 'Pending',
    type: 'Shared',
    qualification: 'SalesQualified',
    customerProfile: {
      name: 'Contoso Customer Inc',
      address: { addressLine1: 'One Microsoft Way', city: 'Redmond', state: 'WA', postalCode: '98052', country: 'US' },
      size: '10to50employees',
      team: [{ firstName: 'Sue', lastName: 'Smith', email: 'sue.smith@contoso.com', phoneNumber: '1234567890' }],
      ids: [],
    },
    consent: { consentToToShareInfoWithOthers: true, consentToContact: true },
    details: { notes: 'Supply chain on Dynamics 365.', dealValue: 50000, currency: 'USD' },
    team: [{ firstName: 'Ada', lastName: 'Admin', email: 'admin@contoso-partner.example' }],
  };
}

/** The HTTP calls of one sandbox, as the seeded admin unless a token is given. */
function client(sandbox: Sandbox, token: () => string) {
  const itemUrl = (id: string) => `${sandbox.baseUrl}/v1.0/engagements/referrals/${encodeURIComponent(id)}`;
  const withAuth = (headers: Record<string, string>, bearer = token()) => ({
    ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
    'Content-Type': 'application/json',
    ...headers,
  });
  return {
    patch: (id: string, body: unknown, headers: Record<string, string> = {}, bearer?: string) =>
      send(sandbox, itemUrl(id), { method: 'PATCH', headers: withAuth(headers, bearer), body: JSON.stringify(body) }),
    create: (body: unknown) =>
      send(sandbox, `${sandbox.baseUrl}/v1.0/engagements/referrals`, {
        method: 'POST',
        headers: withAuth({}),
        body: JSON.stringify(body),
      }),
    /** The referral as a later GET shows it. */
    async read(id: string): Promise<Referral> {
      const res = await send(sandbox, itemUrl(id), { headers: withAuth({}) });
      expect(res.status, res.text).toBe(200);
      return res.json<Referral>();
    },
    control: (method: string, path: string, body?: unknown) =>
      send(sandbox, `${sandbox.baseUrl}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  };
}

const isEmptyObject = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;

function expectBadRequest(res: RawResponse, target: string, message?: RegExp): void {
  expect(res.status, res.text).toBe(400);
  const { error } = res.json<ErrorBody>();
  expect(error.code).toBe('BadRequest');
  expect(error.target).toBe(target);
  if (message) expect(error.message).toMatch(message);
  expect(res.headers['request-id']).toBeTruthy();
}

/** The newer version's stamps: a new eTag and a later updatedDateTime, both made by the service. */
function expectNewVersion(before: Referral, after: Referral): void {
  expect(after.eTag).toMatch(/^"[0-9a-f-]+"$/);
  expect(after.eTag).not.toBe(before.eTag);
  expect(canonicalTimestamp(after.updatedDateTime) ?? '').toMatch(/\.\d{7}Z$/);
  expect(timestampToEpochMs(after.updatedDateTime)).toBeGreaterThan(timestampToEpochMs(before.updatedDateTime) ?? 0);
  expect(after.lastModifiedVia).toBe('Api');
}

describe('sandbox writes', () => {
  let sandbox: Sandbox;
  let token: string;
  let http: ReturnType<typeof client>;
  const used = new Set<string>();

  /** A referral of the book no other test has touched. */
  function pick(describe: string, test: (r: Referral) => boolean): Referral {
    const found = sandbox.store.all().find((r) => !used.has(r.id) && test(r));
    if (!found) throw new Error(`the book has no unused referral that is ${describe}`);
    used.add(found.id);
    return found;
  }
  const incomingNew = () => pick('incoming and New', (r) => r.direction === 'Incoming' && r.status === 'New');

  beforeAll(async () => {
    sandbox = await startSandbox({ referrals: currentBook(21, 2000), seed: 21, webhooks: FAST });
    token = (await accessToken(sandbox)).accessToken;
    http = client(sandbox, () => token);
  });
  afterAll(() => sandbox.close());

  describe('PATCH: accept and decline', () => {
    it('accepts an incoming lead without If-Match: 204, and later reads show the new version', async () => {
      const before = await http.read(incomingNew().id);
      const res = await http.patch(before.id, ACCEPT);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      const after = await http.read(before.id);
      expect([after.status, after.substatus]).toEqual(['Active', 'Accepted']);
      expectNewVersion(before, after);
      expect(after.acceptedDateTime).toBe(after.updatedDateTime);
      expect({ ...after, status: before.status, substatus: before.substatus }).toMatchObject({
        ...before,
        eTag: after.eTag,
        updatedDateTime: after.updatedDateTime,
        acceptedDateTime: after.acceptedDateTime,
        lastModifiedVia: 'Api',
      });
    });

    it('accepts with If-Match and Prefer: return=representation: 200 with the referral as a later GET shows it', async () => {
      const before = await http.read(incomingNew().id);
      const res = await http.patch(before.id, ACCEPT, {
        'If-Match': String(before.eTag),
        Prefer: 'return=representation',
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const returned = res.json<Referral>();
      expect(returned).toEqual(await http.read(before.id));
      expect([returned.status, returned.substatus]).toEqual(['Active', 'Accepted']);
      expectNewVersion(before, returned);
    });

    it.each([
      ['with If-Match', true],
      ['without If-Match', false],
    ])('declines with a reason %s: Closed/Declined with the statusReason', async (_, conditional) => {
      const before = await http.read(incomingNew().id);
      const headers: Record<string, string> = conditional ? { 'If-Match': String(before.eTag) } : {};
      const res = await http.patch(before.id, decline('Outside our service area'), headers);
      expect(res.status, res.text).toBe(204);
      const after = await http.read(before.id);
      expect([after.status, after.substatus, after.statusReason]).toEqual([
        'Closed',
        'Declined',
        'Outside our service area',
      ]);
      expectNewVersion(before, after);
      expect(after.acceptedDateTime).toBe(before.acceptedDateTime);
    });

    it('refuses a decline without a statusReason, and changes nothing', async () => {
      const before = await http.read(pick('New with no reason', (r) => r.status === 'New' && !r.statusReason).id);
      expectBadRequest(await http.patch(before.id, decline()), '/statusReason', /statusReason/);
      expect(await http.read(before.id)).toEqual(before);
    });

    it('answers a stale If-Match with 412 and changes nothing; `*` matches any version', async () => {
      const first = await http.read(incomingNew().id);
      const note = [{ op: 'replace', path: '/details/notes', value: 'Called the customer.' }];
      expect((await http.patch(first.id, note)).status).toBe(204);
      const current = await http.read(first.id);
      const stale = await http.patch(first.id, ACCEPT, { 'If-Match': String(first.eTag) });
      expect(stale.status).toBe(412);
      expect(stale.json<ErrorBody>().error).toMatchObject({ code: 'PreconditionFailed', target: 'If-Match' });
      expect(await http.read(first.id)).toEqual(current);
      expect((await http.patch(first.id, ACCEPT, { 'If-Match': '*' })).status).toBe(204);
      expect((await http.read(first.id)).status).toBe('Active');
    });
  });

  describe('PATCH: the rules', () => {
    it.each([
      ['Closed back to Active', 'Closed', ACCEPT, '/status'],
      [
        'Active back to New',
        'Active',
        [
          { op: 'replace', path: '/status', value: 'New' },
          { op: 'replace', path: '/substatus', value: 'Pending' },
        ],
        '/status',
      ],
      [
        'New to Active, substatus left Pending',
        'New',
        [{ op: 'replace', path: '/status', value: 'Active' }],
        '/substatus',
      ],
      [
        'New to Closed with substatus Accepted',
        'New',
        [
          { op: 'replace', path: '/status', value: 'Closed' },
          { op: 'replace', path: '/substatus', value: 'Accepted' },
        ],
        '/substatus',
      ],
      ['a status that does not exist', 'New', [{ op: 'replace', path: '/status', value: 'Open' }], '/status'],
      [
        'Active to a substatus of New',
        'Active',
        [{ op: 'replace', path: '/substatus', value: 'Received' }],
        '/substatus',
      ],
    ])('refuses %s with a 400 naming the field, and changes nothing', async (_, from, operations, target) => {
      const before = await http.read(pick(`${from}`, (r) => r.status === from).id);
      expectBadRequest(await http.patch(before.id, operations), target);
      expect(await http.read(before.id)).toEqual(before);
    });

    it('lets a referral move on: New → Active → Closed/Won, and New → Closed/Lost', async () => {
      const deal = await http.read(incomingNew().id);
      expect((await http.patch(deal.id, ACCEPT)).status).toBe(204);
      const won = [
        { op: 'replace', path: '/status', value: 'Closed' },
        { op: 'replace', path: '/substatus', value: 'Won' },
        { op: 'replace', path: '/salesStage', value: 'Close' },
      ];
      expect((await http.patch(deal.id, won)).status).toBe(204);
      expect(await http.read(deal.id)).toMatchObject({ status: 'Closed', substatus: 'Won', salesStage: 'Close' });
      const lost = await http.read(incomingNew().id);
      const lose = [
        { op: 'replace', path: '/status', value: 'Closed' },
        { op: 'replace', path: '/substatus', value: 'Lost' },
      ];
      expect((await http.patch(lost.id, lose)).status).toBe(204);
      expect((await http.read(lost.id)).substatus).toBe('Lost');
    });

    it.each([
      '/id',
      '/createdDateTime',
      '/updatedDateTime',
      '/eTag',
      '/organizationId',
      '/direction',
      '/type',
      '/engagementId',
      '/qualification',
      '/acceptedDateTime',
      '/links/self/uri',
    ])('refuses to patch %s: 400 naming the path, nothing changes', async (path) => {
      const before = await http.read(pick('any', () => true).id);
      for (const op of ['replace', 'add']) {
        expectBadRequest(await http.patch(before.id, [{ op, path, value: 'x' }]), path, /cannot be patched/);
      }
      expect(await http.read(before.id)).toEqual(before);
    });

    it('refuses a path the resource does not declare, or a value of the wrong type', async () => {
      const before = await http.read(pick('any', () => true).id);
      const cases: [Operation, string][] = [
        [{ op: 'replace', path: '/isMatchingComplete', value: true }, '/isMatchingComplete'],
        [{ op: 'add', path: '/details/nope', value: 1 }, '/details/nope'],
        [{ op: 'replace', path: '/favorite', value: 'yes' }, '/favorite'],
        [{ op: 'replace', path: '/details/dealValue', value: 'lots' }, '/details/dealValue'],
        [{ op: 'replace', path: '/salesStage', value: 'Negotiate' }, '/salesStage'],
        [{ op: 'add', path: '/team/-', value: { email: 42 } }, '/team/-/email'],
        [{ op: 'replace', path: '/team/99', value: {} }, '/team/99'],
      ];
      for (const [operation, target] of cases) expectBadRequest(await http.patch(before.id, [operation]), target);
      expect(await http.read(before.id)).toEqual(before);
    });

    it('appends to a list the service sent as {} only by setting the list whole', async () => {
      const before = await http.read(
        pick('with customerProfile.ids as {}', (r) => isEmptyObject(r.customerProfile?.ids)).id,
      );
      const member = { id: '123456789', profileType: 'Duns' };
      expectBadRequest(
        await http.patch(before.id, [{ op: 'add', path: '/customerProfile/ids/-', value: member }]),
        '/customerProfile/ids/-',
      );
      expect(await http.read(before.id)).toEqual(before);
      const res = await http.patch(before.id, [{ op: 'replace', path: '/customerProfile/ids', value: [member] }], {
        Prefer: 'return=representation',
      });
      expect(res.json<Referral>().customerProfile?.ids).toEqual([member]);
    });

    it.each(['remove', 'move', 'copy', 'test'])('refuses the JSON Patch operation %s', async (op) => {
      const before = await http.read(pick('any', () => true).id);
      const res = await http.patch(before.id, [{ op, path: '/name', from: '/name', value: 'x' }]);
      expectBadRequest(res, '/name', new RegExp(`'${op}' is not supported`));
      expect(await http.read(before.id)).toEqual(before);
    });

    it('refuses a body that is no JSON Patch document: an object, an empty array, no JSON', async () => {
      const id = pick('any', () => true).id;
      expectBadRequest(await http.patch(id, { status: 'Active' }), 'body');
      expectBadRequest(await http.patch(id, []), 'body');
      const garbled = await send(sandbox, `${sandbox.baseUrl}/v1.0/engagements/referrals/${id}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '[{"op": "replace"',
      });
      expectBadRequest(garbled, 'body');
    });

    it("applies the docs' own example: dealValue sent as text, a team member appended with /team/-", async () => {
      const before = await http.read(pick('with details and a team', (r) => !!r.details && Array.isArray(r.team)).id);
      const jane = { email: 'jane.doe@contoso.com', firstName: 'Jane', lastName: 'Doe', phoneNumber: '0000000001' };
      const res = await http.patch(
        before.id,
        [
          { op: 'replace', path: '/details/dealValue', value: '10000' },
          { op: 'add', path: '/team/-', value: jane },
        ],
        { Prefer: 'return=representation' },
      );
      expect(res.status, res.text).toBe(200);
      const after = res.json<Referral>();
      expect(after.details?.dealValue).toBe('10000');
      expect(after.team).toEqual([...(before.team ?? []), jane]);
      expect(after.details?.notes).toBe(before.details?.notes);
    });

    it('answers 404 for an unknown id and for a referral the Referrals user is not on; 401 without a token', async () => {
      expect((await http.patch('00000000-0000-0000-0000-000000000000', ACCEPT)).status).toBe(404);
      const seller = (await accessToken(sandbox, sandbox.identity.issueBootstrapRefreshToken(1))).accessToken;
      const notTheirs = await http.read(
        pick(
          'New, without the seller',
          (r) => r.status === 'New' && !r.team?.some((m) => m.email?.startsWith('seller@')),
        ).id,
      );
      const res = await http.patch(notTheirs.id, ACCEPT, {}, seller);
      expect(res.status).toBe(404);
      expect(res.json<ErrorBody>().error.code).toBe('NotFound');
      expect((await http.patch(notTheirs.id, ACCEPT, {}, '')).status).toBe(401);
      expect(await http.read(notTheirs.id)).toEqual(notTheirs);
    });

    it('answers 405 with Allow for a method the resource does not have', async () => {
      const res = await send(sandbox, `${sandbox.baseUrl}/v1.0/engagements/referrals/${pick('any', () => true).id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, PATCH');
    });
  });

  describe('PATCH under faults', () => {
    afterEach(async () => {
      await http.control('PUT', '/_sandbox/faults', {});
    });

    it('a throttled PATCH changes nothing; a reset one has already changed the referral when the answer is lost', async () => {
      const throttled = await http.read(incomingNew().id);
      await http.control('PUT', '/_sandbox/faults', { spec: '429(rate=1,retryAfter=1,max=1)' });
      const res = await http.patch(throttled.id, ACCEPT);
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(await http.read(throttled.id)).toEqual(throttled);

      const lost = await http.read(incomingNew().id);
      await http.control('PUT', '/_sandbox/faults', { spec: 'reset(rate=1,max=1)' });
      await expect(http.patch(lost.id, ACCEPT)).rejects.toThrow();
      expect((await http.read(lost.id)).status).toBe('Active');
    });
  });

  describe('POST', () => {
    it('creates an outgoing referral: 201 with what the service sets, then visible by id and in the list', async () => {
      const before = Date.now();
      const res = await http.create(newReferralBody());
      expect(res.status, res.text).toBe(201);
      const created = res.json<Referral>();
      expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(res.headers.location).toBe(`${sandbox.baseUrl}/v1.0/engagements/referrals/${created.id}`);
      expect(created).toMatchObject({
        name: 'Contoso Field Service rollout',
        externalReferenceId: 'CRM-000123',
        direction: 'Outgoing',
        type: 'Shared',
        qualification: 'SalesQualified',
        // The docs' example: sent New/Pending, answered Active/Accepted.
        status: 'Active',
        substatus: 'Accepted',
        organizationName: 'Contoso Company',
        expirationDateTime: null,
        customerProfile: newReferralBody().customerProfile,
        consent: newReferralBody().consent,
        details: newReferralBody().details,
      });
      expect(created.eTag).toMatch(/^"[0-9a-f-]+"$/);
      expect(created.engagementId).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.updatedDateTime).toBe(created.createdDateTime);
      expect(created.acceptedDateTime).toBe(created.createdDateTime);
      expect(timestampToEpochMs(created.createdDateTime)).toBeGreaterThanOrEqual(before);
      expect(created.links?.self?.uri).toMatch(new RegExp(`/referrals/${created.id}$`));

      expect(await http.read(created.id)).toEqual(created);
      const filter = `direction eq 'Outgoing' and engagementId eq '${created.engagementId}'`;
      const page = await send(sandbox, listUrl(sandbox, { $filter: filter }), {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(page.json<ListPage>().value).toEqual([created]);
    });

    it('keeps an engagementId it is given (a connected referral) and fields the model does not list', async () => {
      const engagementId = '37ef26aa-1d15-4533-9f93-a69bd33ab1e5';
      const res = await http.create({ ...newReferralBody(), engagementId, partnerRole: 'ServicesPartner' });
      expect(res.status, res.text).toBe(201);
      expect(res.json<Referral>()).toMatchObject({ engagementId, partnerRole: 'ServicesPartner' });
    });

    it.each([
      ['/type'],
      ['/name'],
      ['/customerProfile'],
      ['/customerProfile/name'],
      ['/customerProfile/address'],
      ['/customerProfile/address/country'],
      ['/consent'],
      ['/details'],
    ])('refuses a create without %s, naming it, and creates nothing', async (path) => {
      const body = newReferralBody();
      const tokens = path.slice(1).split('/');
      const parent = tokens
        .slice(0, -1)
        .reduce<Record<string, unknown>>((o, t) => o[t] as Record<string, unknown>, body);
      delete parent[tokens[tokens.length - 1] as string];
      const size = sandbox.store.size;
      expectBadRequest(await http.create(body), path, /required/);
      expect(sandbox.store.size).toBe(size);
    });

    it.each([
      ['a server-set id', { id: '4111fffc-f9ee-4d53-bba6-569135228642' }, '/id'],
      ['a server-set eTag', { eTag: '"x"' }, '/eTag'],
      ['a direction', { direction: 'Incoming' }, '/direction'],
      ['a referral type that does not exist', { type: 'Private' }, '/type'],
      ['a closed opening status', { status: 'Closed', substatus: 'Won' }, '/status'],
      ['a substatus that does not fit', { status: 'New', substatus: 'Accepted' }, '/substatus'],
      ['consent flags that are not booleans', { consent: { consentToContact: 'yes' } }, '/consent/consentToContact'],
    ])('refuses a create with %s', async (_, change, target) => {
      const size = sandbox.store.size;
      expectBadRequest(await http.create({ ...newReferralBody(), ...change }), target);
      expect(sandbox.store.size).toBe(size);
    });

    it('a created referral can be patched with the eTag it came back with', async () => {
      const created = (await http.create(newReferralBody())).json<Referral>();
      const won = [
        { op: 'replace', path: '/status', value: 'Closed' },
        { op: 'replace', path: '/substatus', value: 'Won' },
      ];
      const res = await http.patch(created.id, won, { 'If-Match': String(created.eTag) });
      expect(res.status).toBe(204);
      expectNewVersion(created, await http.read(created.id));
    });
  });

  describe('webhook events', () => {
    let receiver: Receiver;
    const registration = () => `${sandbox.baseUrl}/webhooks/v1/registration`;

    beforeEach(async () => {
      receiver = await Receiver.start();
      const res = await send(sandbox, registration(), {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ WebhookUrl: receiver.url, WebhookEvents: ['referral-created', 'referral-updated'] }),
      });
      expect(res.status).toBe(200);
    });
    afterEach(async () => {
      await send(sandbox, registration(), { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      await receiver.close();
    });

    it('a PATCH sends referral-updated and a POST referral-created, each pointing at the changed referral', async () => {
      const settledBefore = sandbox.webhookDeliveries.settledCount;
      const accepted = incomingNew();
      expect((await http.patch(accepted.id, ACCEPT)).status).toBe(204);
      const created = (await http.create(newReferralBody())).json<Referral>();
      const refused = await http.patch(accepted.id, ACCEPT, { 'If-Match': '"stale"' });
      expect(refused.status).toBe(412);
      const log = await http.control('GET', `/_sandbox/webhooks/events?settled=${settledBefore + 2}&timeoutMs=20000`);
      expect(log.json<{ reached: boolean }>().reached).toBe(true);
      const events = receiver.events();
      const updatedAt = (await http.read(accepted.id)).updatedDateTime;
      expect(events).toEqual([
        {
          EventName: 'referral-updated',
          ResourceUri: `https://api.partnercenter.microsoft.com/engagements/v1/referrals/${accepted.id}`,
          ResourceName: 'referral',
          AuditUri: null,
          ResourceChangeUtcDate: (canonicalTimestamp(updatedAt) ?? '').replace('Z', '+00:00'),
        },
        {
          EventName: 'referral-created',
          ResourceUri: `https://api.partnercenter.microsoft.com/engagements/v1/referrals/${created.id}`,
          ResourceName: 'referral',
          AuditUri: null,
          ResourceChangeUtcDate: (canonicalTimestamp(created.updatedDateTime) ?? '').replace('Z', '+00:00'),
        },
      ]);
    });
  });
});

describe('sandbox clock and expiry', () => {
  let sandbox: Sandbox;
  let token: string;
  let http: ReturnType<typeof client>;
  let receiver: Receiver;

  beforeAll(async () => {
    sandbox = await startSandbox({ referrals: currentBook(22, 400), seed: 22, webhooks: FAST });
    token = (await accessToken(sandbox)).accessToken;
    http = client(sandbox, () => token);
    receiver = await Receiver.start();
    await send(sandbox, `${sandbox.baseUrl}/webhooks/v1/registration`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ WebhookUrl: receiver.url, WebhookEvents: ['referral-updated'] }),
    });
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
  });

  /** Incoming referrals nobody has answered, with the deadline the docs give them. */
  function unanswered(): { id: string; deadlineMs: number }[] {
    return sandbox.store
      .all()
      .filter((r) => r.direction === 'Incoming' && r.status === 'New')
      .map((r) => ({
        id: r.id,
        deadlineMs:
          timestampToEpochMs(r.expirationDateTime ?? '') ?? (timestampToEpochMs(r.createdDateTime) ?? 0) + 14 * DAY_MS,
      }));
  }

  it('tells the time: the wall clock until moved', async () => {
    const res = await http.control('GET', '/_sandbox/clock');
    const clock = res.json<{ now: string; advancedMs: number }>();
    expect(clock.advancedMs).toBe(0);
    expect(Math.abs(Date.parse(clock.now) - Date.now())).toBeLessThan(5000);
  });

  it('expires, on each move of the clock, exactly the unanswered incoming referrals whose deadline has passed', async () => {
    const waiting = unanswered();
    expect(waiting.length).toBeGreaterThan(3);
    const before = new Map(waiting.map(({ id }) => [id, sandbox.store.get(id) as Referral]));
    const settledBefore = sandbox.webhookDeliveries.settledCount;

    const day = (await http.control('POST', '/_sandbox/clock', { advanceDays: 7 })).json<{
      now: string;
      advancedMs: number;
      expired: string[];
    }>();
    expect(day.advancedMs).toBe(7 * DAY_MS);
    const dueByThen = waiting.filter((w) => w.deadlineMs <= Date.parse(day.now)).map((w) => w.id);
    expect(dueByThen.length).toBeGreaterThan(0);
    expect(dueByThen.length).toBeLessThan(waiting.length);
    expect([...day.expired].sort()).toEqual([...dueByThen].sort());

    const fortnight = (await http.control('POST', '/_sandbox/clock', { advanceDays: 8 })).json<{
      expired: string[];
    }>();
    expect([...day.expired, ...fortnight.expired].sort()).toEqual(waiting.map((w) => w.id).sort());

    for (const { id } of waiting) {
      const after = await http.read(id);
      expect([after.status, after.substatus]).toEqual(['Closed', 'Expired']);
      const old = before.get(id) as Referral;
      expect(after.eTag).not.toBe(old.eTag);
      expect(timestampToEpochMs(after.updatedDateTime)).toBeGreaterThan(timestampToEpochMs(old.updatedDateTime) ?? 0);
      expect(after.lastModifiedVia).toBe('System');
    }
    const log = await http.control(
      'GET',
      `/_sandbox/webhooks/events?settled=${settledBefore + waiting.length}&timeoutMs=20000`,
    );
    expect(log.json<{ reached: boolean }>().reached).toBe(true);
    const updatedIds = receiver.events().map((e) => String(e.ResourceUri).split('/').pop());
    expect(updatedIds.sort()).toEqual(waiting.map((w) => w.id).sort());
  });

  it('refuses to accept an expired referral, and stamps later writes on the moved clock', async () => {
    const expired = sandbox.store.all().find((r) => r.substatus === 'Expired') as Referral;
    expectBadRequest(await http.patch(expired.id, ACCEPT), '/status', /from Closed to Active/);
    const created = (await http.create(newReferralBody())).json<Referral>();
    expect(timestampToEpochMs(created.createdDateTime)).toBeGreaterThan(Date.now() + 14 * DAY_MS);
  });

  it('moves only forward, by a number of days', async () => {
    for (const advanceDays of [-1, 'a week', null]) {
      const res = await http.control('POST', '/_sandbox/clock', { advanceDays });
      expect(res.status).toBe(400);
    }
    const still = (await http.control('POST', '/_sandbox/clock', { advanceDays: 0 })).json<{ expired: string[] }>();
    expect(still.expired).toEqual([]);
  });
});

/**
 * The sandbox's webhooks as a receiver meets them: registration and its rules, the validation
 * event and its throttle, signed events on every change, retries then parking, the delivery faults,
 * and https delivery. Signatures are checked here with code written for the test (node:crypto
 * against the certificate fetched from the event's URL, chained to the sandbox CA), never with
 * the sandbox's own signing code.
 */
import { verify, X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import selfsigned from 'selfsigned';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp } from '../../src/common/time.js';
import { loadPartnerCenterConfig } from '../../src/config.js';
import { accessToken, send } from '../helpers/sandbox-http.js';
import { type Received, Receiver } from '../helpers/webhook-receiver.js';

const REGISTRATION = '/webhooks/v1/registration';
const REFERRAL_EVENTS = ['referral-created', 'referral-updated'];
/** Retries a few milliseconds apart, so that ten attempts take a moment. */
const FAST: SandboxOptions['webhooks'] = { retryDelaysMs: [5], attemptTimeoutMs: 1000 };

interface Trust {
  /** The raw body to check (the one received unless a test alters it). */
  readonly body?: Buffer;
  /** The CA the chain must lead to: the sandbox's unless a test names another. */
  readonly caPem?: string;
  /** The organisation the issuer must name, as the docs' "Organization" check does for Microsoft. */
  readonly organization?: string;
}

/**
 * What a receiver does before it trusts an event: the certificate URL is on the allowed host, the
 * certificate is issued (and signed) by the trusted CA, names the expected organisation, is valid
 * now and is no CA, and it verifies the signature of the raw body with the algorithm the header
 * names. Written for this test from the docs' steps; it shares no code with the sandbox.
 */
async function verifyEvent(
  sandbox: Sandbox,
  received: Received,
  trust: Trust = {},
): Promise<{ ok: boolean; reason?: string }> {
  const { headers } = received;
  const certificateUrl = String(headers['x-ms-certificate-url'] ?? '');
  const allowed = loadPartnerCenterConfig(sandbox.env).webhookCertificateHosts;
  if (!allowed.includes(new URL(certificateUrl).host)) return { ok: false, reason: 'certificate host not allowed' };
  if (headers['x-ms-signature-algorithm'] !== 'rsa-sha256') return { ok: false, reason: 'algorithm' };
  const scheme = /^Signature ([A-Za-z0-9+/=]+)$/.exec(String(headers.authorization ?? headers['x-ms-signature'] ?? ''));
  if (!scheme?.[1]) return { ok: false, reason: 'no signature' };
  const certificate = new X509Certificate((await send(sandbox, certificateUrl)).text);
  const ca = new X509Certificate(trust.caPem ?? sandbox.caPem);
  if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) return { ok: false, reason: 'chain' };
  const organization = trust.organization ?? 'referrals-lake sandbox';
  if (!certificate.issuer.split('\n').includes(`O=${organization}`)) return { ok: false, reason: 'organization' };
  const now = Date.now();
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) {
    return { ok: false, reason: 'validity' };
  }
  if (certificate.ca) return { ok: false, reason: 'a CA certificate signs no events' };
  const body = trust.body ?? received.body;
  const ok = verify('sha256', body, certificate.publicKey, Buffer.from(scheme[1], 'base64'));
  return ok ? { ok } : { ok, reason: 'signature' };
}

describe('sandbox webhooks', () => {
  let sandbox: Sandbox;
  let token: string;
  let receiver: Receiver;

  const call = (method: string, path: string, body?: unknown, bearer: string | undefined = token) =>
    send(sandbox, `${sandbox.env.PARTNER_CENTER_WEBHOOKS_BASE_URL}${path}`, {
      method,
      headers: {
        ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const register = (events: string[] = REFERRAL_EVENTS, url = receiver.url, extra: object = {}) =>
    call('POST', REGISTRATION, { WebhookUrl: url, WebhookEvents: events, ...extra });
  const control = (method: string, path: string, body?: unknown) =>
    send(sandbox, `${sandbox.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  /** Waits through the control route until `count` more events have settled; returns the log. */
  async function settled(count: number) {
    const before = sandbox.webhookDeliveries.settledCount;
    return async () => {
      const res = await control('GET', `/_sandbox/webhooks/events?settled=${before + count}&timeoutMs=20000`);
      const log = res.json<{ reached: boolean; events: DeliveryLogEntry[] }>();
      expect(log.reached).toBe(true);
      return log.events.slice(-count);
    };
  }

  /** Registers for `events` (at `url`), makes the change, and returns the `expected` events once settled. */
  async function deliver(events: string[], expected: number, change: () => unknown, url = receiver.url, extra = {}) {
    expect((await register(events, url, extra)).status).toBe(200);
    const wait = await settled(expected);
    change();
    return wait();
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 40, seed: 20, webhooks: FAST });
    token = (await accessToken(sandbox)).accessToken;
  });
  afterAll(() => sandbox.close());
  beforeEach(async () => {
    receiver = await Receiver.start();
    await control('PUT', '/_sandbox/faults', {});
  });
  afterEach(async () => {
    await call('DELETE', REGISTRATION);
    await receiver.close();
  });

  it('prints the webhook settings a receiver and a registration client need', () => {
    const config = loadPartnerCenterConfig(sandbox.env);
    expect(config.webhooksBaseUrl).toBe(sandbox.baseUrl);
    expect(config.webhookCertificateHosts).toEqual([new URL(sandbox.webhookCertificateUrl).host]);
    expect(new URL(sandbox.webhookCertificateUrl).origin).toBe(sandbox.baseUrl);
  });

  describe('registration', () => {
    it('needs the Referrals API token: 401 without one, 403 for a user without a Referrals role', async () => {
      const none = await call('GET', `${REGISTRATION}/events`, undefined, '');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
      const noRole = (await accessToken(sandbox, sandbox.identity.issueBootstrapRefreshToken(2))).accessToken;
      for (const [method, path] of [
        ['GET', REGISTRATION],
        ['POST', REGISTRATION],
        ['POST', `${REGISTRATION}/validationEvents`],
      ] as const) {
        expect((await call(method, path, undefined, noRole)).status, `${method} ${path}`).toBe(403);
      }
    });

    it('lists the events it can send: the test event and the referral events', async () => {
      const res = await call('GET', `${REGISTRATION}/events`);
      expect(res.status).toBe(200);
      expect(res.json<string[]>()).toEqual([
        'test-created',
        'referral-created',
        'referral-updated',
        'related-referral-created',
        'related-referral-updated',
      ]);
    });

    it('registers, shows, refuses a second POST, replaces with PUT and deletes: one registration per tenant', async () => {
      expect((await call('GET', REGISTRATION)).status).toBe(404);
      const created = await register();
      expect(created.status).toBe(200);
      const body = created.json<{ SubscriberId: string; WebhookUrl: string; WebhookEvents: string[] }>();
      expect(body).toEqual({
        SubscriberId: expect.any(String),
        WebhookUrl: receiver.url,
        WebhookEvents: REFERRAL_EVENTS,
      });
      expect(await (await call('GET', REGISTRATION)).json()).toEqual({
        WebhookUrl: receiver.url,
        WebhookEvents: REFERRAL_EVENTS,
      });
      const again = await register(['referral-created']);
      expect(again.status).toBe(409);
      expect(again.json<{ error: { code: string } }>().error.code).toBe('Conflict');
      const replaced = await call('PUT', REGISTRATION, { webhookUrl: receiver.url, webhookEvents: ['test-created'] });
      expect(replaced.status).toBe(200);
      expect(replaced.json()).toEqual({ ...body, WebhookEvents: ['test-created'] });
      expect((await call('DELETE', REGISTRATION)).status).toBe(204);
      expect((await call('GET', REGISTRATION)).status).toBe(404);
      expect((await call('DELETE', REGISTRATION)).status).toBe(404);
      expect(
        (await call('PUT', REGISTRATION, { WebhookUrl: receiver.url, WebhookEvents: ['test-created'] })).status,
      ).toBe(404);
    });

    it.each([
      [
        'plain http to another host',
        { WebhookUrl: 'http://example.com/hook', WebhookEvents: REFERRAL_EVENTS },
        'WebhookUrl',
      ],
      ['not a URL', { WebhookUrl: 'example.com/hook', WebhookEvents: REFERRAL_EVENTS }, 'WebhookUrl'],
      [
        'credentials in the URL',
        { WebhookUrl: 'https://u:p@example.com/hook', WebhookEvents: REFERRAL_EVENTS },
        'WebhookUrl',
      ],
      ['no URL', { WebhookEvents: REFERRAL_EVENTS }, 'WebhookUrl'],
      [
        'an unknown event',
        { WebhookUrl: 'https://example.com/hook', WebhookEvents: ['referral-deleted'] },
        'WebhookEvents',
      ],
      ['no events', { WebhookUrl: 'https://example.com/hook', WebhookEvents: [] }, 'WebhookEvents'],
      [
        'a flag that is not a boolean',
        {
          WebhookUrl: 'https://example.com/hook',
          WebhookEvents: REFERRAL_EVENTS,
          SignatureTokenToMsSignatureHeader: 'yes',
        },
        'SignatureTokenToMsSignatureHeader',
      ],
    ])('refuses %s with a 400 naming the field', async (_, body, target) => {
      const res = await call('POST', REGISTRATION, body);
      expect(res.status).toBe(400);
      expect(res.json<{ error: { target: string } }>().error.target).toBe(target);
      expect((await call('GET', REGISTRATION)).status).toBe(404);
    });

    it('accepts https anywhere, and plain http to loopback only', async () => {
      expect((await register(REFERRAL_EVENTS, 'https://hooks.example.com/partner-center')).status).toBe(200);
      await call('DELETE', REGISTRATION);
      expect((await register(REFERRAL_EVENTS, 'http://localhost:7071/api/partner-center/events')).status).toBe(200);
    });

    it('lets a lenient service be played: POST while registered replaces', async () => {
      const lenient = await startSandbox({ count: 5, seed: 3, webhooks: { postWhenRegistered: 'replace' } });
      try {
        const t = (await accessToken(lenient)).accessToken;
        const post = (events: string[]) =>
          send(lenient, `${lenient.baseUrl}${REGISTRATION}`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ WebhookUrl: 'https://example.com/a', WebhookEvents: events }),
          });
        const first = (await post(['referral-created'])).json<{ SubscriberId: string }>();
        const second = await post(['referral-updated']);
        expect(second.status).toBe(200);
        expect(second.json()).toMatchObject({ SubscriberId: first.SubscriberId, WebhookEvents: ['referral-updated'] });
      } finally {
        await lenient.close();
      }
    });
  });

  describe('validation event', () => {
    it('needs test-created in the registration, sends a signed test event, shows its attempts, and allows 2 a minute', async () => {
      await register(['referral-updated']);
      const refused = await call('POST', `${REGISTRATION}/validationEvents`);
      expect(refused.status).toBe(400);
      await call('PUT', REGISTRATION, { WebhookUrl: receiver.url, WebhookEvents: ['test-created'] });
      const wait = await settled(1);
      const sent = await call('POST', `${REGISTRATION}/validationEvents`);
      expect(sent.status).toBe(200);
      const { correlationId } = sent.json<{ correlationId: string }>();
      await wait();
      const [event] = receiver.events();
      expect(event).toEqual({
        EventName: 'test-created',
        ResourceUri: `https://api.partnercenter.microsoft.com/webhooks/v1/registration/validationEvents/${correlationId}`,
        ResourceName: 'test',
        AuditUri: null,
        ResourceChangeUtcDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/),
      });
      expect(await verifyEvent(sandbox, receiver.received[0] as Received)).toEqual({ ok: true });
      const status = await call('GET', `${REGISTRATION}/validationEvents/${correlationId}`);
      expect(status.json()).toEqual({
        correlationId,
        partnerId: sandbox.env.PARTNER_CENTER_TENANT_ID,
        status: 'completed',
        callbackUrl: receiver.url,
        results: [{ responseCode: 'OK', responseMessage: '', systemError: false, dateTimeUtc: expect.any(String) }],
      });
      const throttled = await call('POST', `${REGISTRATION}/validationEvents`);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect((await call('GET', `${REGISTRATION}/validationEvents/no-such-id`)).status).toBe(404);
    });
  });

  describe('events on changes', () => {
    it('sends each update and creation, signed, as a pointer to the referral; removals send nothing', async () => {
      await register();
      const wait = await settled(5);
      const changed = (await control('POST', '/_sandbox/mutate', { updates: 3, creates: 2 })).json<{
        updated: string[];
        created: string[];
      }>();
      const log = await wait();
      expect(log.map((e) => e.state)).toEqual(Array(5).fill('delivered'));
      expect(receiver.received).toHaveLength(5);
      const events = receiver.events();
      expect(events.map((e) => Object.keys(e))).toEqual(
        Array(5).fill(['EventName', 'ResourceUri', 'ResourceName', 'AuditUri', 'ResourceChangeUtcDate']),
      );
      const byName = (name: string) => events.filter((e) => e.EventName === name);
      const idOf = (e: Record<string, unknown>) =>
        String(e.ResourceUri).replace('https://api.partnercenter.microsoft.com/engagements/v1/referrals/', '');
      expect(new Set(byName('referral-updated').map(idOf))).toEqual(new Set(changed.updated));
      expect(byName('referral-created').map(idOf).sort()).toEqual([...changed.created].sort());
      for (const event of events) {
        const referral = sandbox.store.get(idOf(event));
        expect(event.ResourceName).toBe('referral');
        expect(event.AuditUri).toBeNull();
        if (event.EventName === 'referral-created') {
          expect(String(event.ResourceChangeUtcDate).replace('+00:00', 'Z')).toBe(
            canonicalTimestamp(referral?.updatedDateTime ?? ''),
          );
        }
      }
      for (const received of receiver.received) {
        expect(received.headers['content-type']).toBe('application/json');
        expect(received.headers.authorization).toMatch(/^Signature [A-Za-z0-9+/]+=*$/);
        expect(await verifyEvent(sandbox, received)).toEqual({ ok: true });
      }

      await control('POST', '/_sandbox/mutate', { updates: 0, removes: 2 });
      await sleep(100);
      expect(receiver.received).toHaveLength(5);
    });

    it('fails verification for an altered body, a foreign certificate host or CA, another organisation, another key', async () => {
      await deliver(['referral-updated'], 1, () => sandbox.mutate(1));
      const received = receiver.received[0] as Received;
      const altered = Buffer.from(received.body.toString('utf8').replace('referral-updated', 'referral-created'));
      expect(await verifyEvent(sandbox, received, { body: altered })).toEqual({ ok: false, reason: 'signature' });
      const elsewhere = {
        ...received,
        headers: { ...received.headers, 'x-ms-certificate-url': 'https://evil.example/c.cer' },
      };
      expect(await verifyEvent(sandbox, elsewhere)).toEqual({ ok: false, reason: 'certificate host not allowed' });
      const foreignCa = await selfsigned.generate([{ name: 'commonName', value: 'another CA' }], {
        keyType: 'ec',
        extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
      });
      expect(await verifyEvent(sandbox, received, { caPem: foreignCa.cert })).toEqual({ ok: false, reason: 'chain' });
      expect(await verifyEvent(sandbox, received, { organization: 'Microsoft Corporation' })).toEqual({
        ok: false,
        reason: 'organization',
      });
      // The sandbox's TLS server certificate is issued by the same CA but is not the signing certificate.
      const certificate = new X509Certificate(sandbox.receiverTls.certPem);
      const signature = /^Signature (.+)$/.exec(String(received.headers.authorization))?.[1] ?? '';
      expect(verify('sha256', received.body, certificate.publicKey, Buffer.from(signature, 'base64'))).toBe(false);
    });

    it('sends the signature in x-ms-signature when the registration asks for it', async () => {
      await deliver(['referral-updated'], 1, () => sandbox.mutate(1), receiver.url, {
        SignatureTokenToMsSignatureHeader: true,
      });
      const received = receiver.received[0] as Received;
      expect(received.headers.authorization).toBeUndefined();
      expect(received.headers['x-ms-signature']).toMatch(/^Signature /);
      expect(await verifyEvent(sandbox, received)).toEqual({ ok: true });
    });

    it('sends nothing without a registration, nor for events the registration does not name', async () => {
      sandbox.mutate(2, 1);
      const [entry] = await deliver(['referral-created'], 1, () => sandbox.mutate(3, 1));
      expect(entry?.eventName).toBe('referral-created');
      await sleep(100);
      expect(receiver.events().map((e) => e.EventName)).toEqual(['referral-created']);
    });

    it('delivers to an https receiver whose certificate the sandbox CA issued', async () => {
      const secure = await Receiver.start(sandbox.receiverTls);
      try {
        const [entry] = await deliver(['referral-updated'], 1, () => sandbox.mutate(1), secure.url);
        expect(entry?.state).toBe('delivered');
        expect(await verifyEvent(sandbox, secure.received[0] as Received)).toEqual({ ok: true });
      } finally {
        await secure.close();
      }
    });
  });

  describe('retries', () => {
    it('tries 10 times on 5xx, then parks the event and never sends it again', async () => {
      receiver.respond = () => 500;
      const [entry] = await deliver(['referral-updated'], 1, () => sandbox.mutate(1));
      expect(entry?.state).toBe('parked');
      expect(entry?.attempts.map((a) => a.status)).toEqual(Array(10).fill(500));
      await sleep(100);
      expect(receiver.received).toHaveLength(10);
      expect(new Set(receiver.received.map((r) => r.body.toString()))).toHaveProperty('size', 1);
    });

    it('keeps trying through failures and stops at the first 2xx', async () => {
      receiver.respond = (n) => (n <= 2 ? 503 : 202);
      const [entry] = await deliver(['referral-updated'], 1, () => sandbox.mutate(1));
      expect(entry?.state).toBe('delivered');
      expect(entry?.attempts.map((a) => a.status)).toEqual([503, 503, 202]);
    });

    it('counts a refused connection as a failed attempt', async () => {
      await receiver.close();
      const [entry] = await deliver(['referral-updated'], 1, () => sandbox.mutate(1));
      expect(entry?.state).toBe('parked');
      expect(entry?.attempts).toHaveLength(10);
      expect(entry?.attempts[0]?.status).toBeUndefined();
      expect(entry?.attempts[0]?.message).toMatch(/ECONNREFUSED/);
      receiver = await Receiver.start();
    });
  });

  describe('faults', () => {
    const faults = (spec: string) => control('PUT', '/_sandbox/faults', { spec });

    it('drop: events are never sent, and the log says so', async () => {
      await faults('webhook-drop(rate=1)');
      const log = await deliver(['referral-updated'], 3, () => sandbox.mutate(3));
      expect(log.map((e) => e.state)).toEqual(['dropped', 'dropped', 'dropped']);
      await sleep(100);
      expect(receiver.received).toHaveLength(0);
      expect(sandbox.stats().faults.webhookDropped).toBeGreaterThanOrEqual(3);
    });

    it('duplicate: the same signed bytes arrive twice', async () => {
      await faults('webhook-duplicate(every=1)');
      const log = await deliver(['referral-updated'], 2, () => sandbox.mutate(1));
      expect(log[1]?.duplicateOf).toBe(log[0]?.id);
      expect(receiver.received).toHaveLength(2);
      const [a, b] = receiver.received as [Received, Received];
      expect(a.body.equals(b.body)).toBe(true);
      expect(a.headers.authorization).toBe(b.headers.authorization);
    });

    it('duplicate late: the copy follows its original by the given ms, as a retry after a lost answer', async () => {
      await faults('webhook-duplicate(every=1,late=300)');
      const [original, copy] = await deliver(['referral-updated'], 2, () => sandbox.mutate(1));
      expect(copy?.duplicateOf).toBe(original?.id);
      expect(copy?.sentOrder).toBeGreaterThan(original?.sentOrder ?? 0);
      const lag = Date.parse(copy?.attempts[0]?.at ?? '') - Date.parse(original?.attempts[0]?.at ?? '');
      // Timers may fire a millisecond or so early against the wall clock, as the delay check allows.
      expect(lag).toBeGreaterThanOrEqual(290);
      expect(receiver.received).toHaveLength(2);
    });

    it('reorder: held events go out newest first', async () => {
      await faults('webhook-reorder(hold=3,ms=5000)');
      const log = await deliver(['referral-created'], 3, () => sandbox.mutate(0, 3));
      const byId = [...log].sort((x, y) => x.id - y.id);
      const order = byId.map((e) => e.sentOrder ?? 0);
      expect(order[0]).toBeGreaterThan(order[1] ?? 0);
      expect(order[1]).toBeGreaterThan(order[2] ?? 0);
    });

    it('delay: the first attempt waits', async () => {
      await faults('webhook-delay(ms=300)');
      const [entry] = await deliver(['referral-updated'], 1, () => sandbox.mutate(1));
      const waited = Date.parse(entry?.attempts[0]?.at ?? '') - Date.parse(entry?.createdAt ?? '');
      expect(waited).toBeGreaterThanOrEqual(290);
    });

    it('parses the webhook faults in the CLI form', async () => {
      const res = await faults(
        'webhook-delay(ms=5,jitter=2),webhook-duplicate(rate=0.5,max=2),webhook-reorder(hold=2),webhook-drop(rate=0.1)',
      );
      expect(res.json()).toEqual({
        webhookDelay: { ms: 5, jitter: 2 },
        webhookDuplicate: { rate: 0.5, max: 2, late: 0 },
        webhookReorder: { hold: 2, ms: 1000 },
        webhookDrop: { rate: 0.1 },
      });
      expect((await faults('webhook-duplicate(max=2)')).status).toBe(400);
      expect((await faults('webhook-duplicate(every=1,late=-1)')).status).toBe(400);
    });
  });
});

/** An entry of GET /_sandbox/webhooks/events. */
interface DeliveryLogEntry {
  id: number;
  eventName: string;
  state: 'pending' | 'delivered' | 'parked' | 'dropped';
  duplicateOf?: number;
  sentOrder?: number;
  createdAt: string;
  attempts: { at: string; status?: number; message?: string }[];
}

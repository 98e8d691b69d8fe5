/**
 * The webhook registration client: against the sandbox (which answers the routes as the docs and
 * its notes describe them: 409 on a second POST, 404 without a registration, 429 past 2 validation
 * events a minute), the case-blind reading of answers, and which failures each method sends again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { ThrottledError, UpstreamError } from '../../src/common/errors.js';
import type { PartnerCenterSource } from '../../src/source/create.js';
import type { HttpMethod, RequestTransport, TransportResponse } from '../../src/source/http/transport.js';
import {
  parseRegistration,
  parseValidationStatus,
  WebhookRegistrationClient,
} from '../../src/source/webhooks-client.js';
import type { Receiver } from '../helpers/webhook-receiver.js';
import { startWebhooksHarness, type WebhooksHarness } from '../helpers/webhooks-harness.js';

const EVENTS = ['referral-created', 'referral-updated', 'test-created'];

describe('reading registration answers without regard to case', () => {
  it('takes PascalCase, camelCase and any mix as the same registration', () => {
    const expected = { webhookUrl: 'https://a.example/hook', webhookEvents: ['referral-created'] };
    expect(parseRegistration({ WebhookUrl: 'https://a.example/hook', WebhookEvents: ['referral-created'] })).toEqual(
      expected,
    );
    expect(parseRegistration({ webhookUrl: 'https://a.example/hook', webhookEvents: ['referral-created'] })).toEqual(
      expected,
    );
    expect(
      parseRegistration({
        SubscriberId: 's',
        WEBHOOKURL: 'https://a.example/hook',
        webhookevents: ['referral-created'],
      }),
    ).toEqual(expected);
  });

  it('has no registration without a URL, and keeps only the event names that are strings', () => {
    expect(parseRegistration({ WebhookEvents: ['referral-created'] })).toBeUndefined();
    expect(parseRegistration(null)).toBeUndefined();
    expect(parseRegistration(['https://a.example/hook'])).toBeUndefined();
    expect(parseRegistration({ webhookUrl: 'https://a.example/hook', webhookEvents: ['x', 3, null] })).toEqual({
      webhookUrl: 'https://a.example/hook',
      webhookEvents: ['x'],
    });
  });

  it('reads a validation status in either case, and fills what is missing', () => {
    const camel = {
      correlationId: 'c1',
      partnerId: 'p',
      status: 'completed',
      callbackUrl: 'https://a.example/hook',
      results: [{ responseCode: 'OK', responseMessage: '', systemError: false, dateTimeUtc: '2026-01-01T00:00:00Z' }],
    };
    const pascal = {
      CorrelationId: 'c1',
      Status: 'completed',
      CallbackUrl: 'https://a.example/hook',
      Results: [{ ResponseCode: 'OK', ResponseMessage: '', SystemError: false, DateTimeUtc: '2026-01-01T00:00:00Z' }],
    };
    const expected = {
      correlationId: 'c1',
      status: 'completed',
      callbackUrl: 'https://a.example/hook',
      results: [{ responseCode: 'OK', responseMessage: '', systemError: false, dateTimeUtc: '2026-01-01T00:00:00Z' }],
    };
    expect(parseValidationStatus(camel, 'c1')).toEqual(expected);
    expect(parseValidationStatus(pascal, 'c1')).toEqual(expected);
    expect(parseValidationStatus({}, 'c2')).toEqual({
      correlationId: 'c2',
      status: '',
      callbackUrl: undefined,
      results: [],
    });
  });
});

describe('WebhookRegistrationClient against the sandbox', () => {
  let harness: WebhooksHarness;
  let sandbox: Sandbox;
  let source: PartnerCenterSource;
  let receiver: Receiver;

  beforeAll(async () => {
    harness = await startWebhooksHarness(20);
    ({ sandbox, source, receiver } = harness);
  });
  afterAll(() => harness.close());
  beforeEach(async () => {
    await source.webhooks.remove();
  });

  it('lists the events, then creates, reads, refuses a second create, replaces and removes the registration', async () => {
    const client = source.webhooks;
    expect(await client.supportedEvents()).toEqual(expect.arrayContaining(EVENTS));
    expect(await client.registration()).toBeUndefined();
    expect(await client.update({ webhookUrl: receiver.url, webhookEvents: EVENTS })).toBeUndefined();
    const created = await client.create({ webhookUrl: receiver.url, webhookEvents: EVENTS });
    expect(created).toEqual({ webhookUrl: receiver.url, webhookEvents: EVENTS });
    expect(await client.registration()).toEqual(created);
    expect(await client.create({ webhookUrl: 'https://other.example/hook', webhookEvents: EVENTS })).toBeUndefined();
    expect(await client.registration()).toEqual(created);
    const updated = await client.update({ webhookUrl: receiver.url, webhookEvents: ['referral-updated'] });
    expect(updated).toEqual({ webhookUrl: receiver.url, webhookEvents: ['referral-updated'] });
    expect(await client.remove()).toBe(true);
    expect(await client.remove()).toBe(false);
    expect(await client.registration()).toBeUndefined();
  });

  it('names the field Partner Center refused in a registration', async () => {
    const error = await source.webhooks
      .create({ webhookUrl: 'http://example.com/hook', webhookEvents: EVENTS })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toMatch(
      /refused POST \/webhooks\/v1\/registration \(WebhookUrl\) with 400/,
    );
    expect((error as UpstreamError).details.status).toBe(400);
  });

  it('sends a validation event, reads its attempts, and says when to try again after the second in a minute', async () => {
    const client = source.webhooks;
    await client.create({ webhookUrl: receiver.url, webhookEvents: EVENTS });
    const first = await client.sendValidationEvent();
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    await sandbox.webhookDeliveries.waitForSettled(sandbox.webhookDeliveries.events().length, 10_000);
    expect(await client.validationStatus(first)).toMatchObject({
      correlationId: first,
      status: 'completed',
      callbackUrl: receiver.url,
      results: [{ responseCode: 'OK', systemError: false }],
    });
    expect(await client.validationStatus('no-such-id')).toBeUndefined();
    await client.sendValidationEvent();
    const requestsBefore = client.stats.requests;
    const error = await client.sendValidationEvent().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as Error).message).toMatch(
      /at most 2 validation events a minute .*\(429\); try again in \d+ s \(Retry-After\)/,
    );
    // Reported, not waited out: one request.
    expect(client.stats.requests - requestsBefore).toBe(1);
  });
});

describe('what is sent again', () => {
  /** A transport that answers from a script and counts what it was sent. */
  function scripted(answers: readonly number[]) {
    const sent: string[] = [];
    const transport: RequestTransport = {
      async get(url) {
        return this.request('GET', url, {});
      },
      async request(method: HttpMethod, url: URL): Promise<TransportResponse> {
        sent.push(`${method} ${url.pathname}`);
        const status = answers[Math.min(sent.length - 1, answers.length - 1)] ?? 200;
        const body = status === 200 ? { WebhookUrl: 'https://a.example/hook', WebhookEvents: ['test-created'] } : {};
        const headers = status === 429 ? { 'retry-after': '0' } : {};
        return { status, headers, body: Buffer.from(JSON.stringify(body)) };
      },
      close() {},
    };
    const client = new WebhookRegistrationClient({
      webhooksBaseUrl: 'https://webhooks.test',
      transport,
      tokens: { getAccessToken: async () => 'not-a-real-token' },
      retry: { maxAttempts: 5, maxElapsedMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 },
    });
    return { client, sent };
  }
  const wanted = { webhookUrl: 'https://a.example/hook', webhookEvents: ['test-created'] };

  it('a POST after a 503 is not sent again (it may have registered), after a 429 it is', async () => {
    const failed = scripted([503, 200]);
    await expect(failed.client.create(wanted)).rejects.toBeInstanceOf(UpstreamError);
    expect(failed.sent).toEqual(['POST /webhooks/v1/registration']);
    const throttled = scripted([429, 200]);
    expect(await throttled.client.create(wanted)).toEqual(wanted);
    expect(throttled.sent).toHaveLength(2);
  });

  it('PUT, DELETE and GET are sent again after a 503; a 401 gets one fresh token', async () => {
    const put = scripted([503, 200]);
    expect(await put.client.update(wanted)).toEqual(wanted);
    expect(put.sent).toEqual(['PUT /webhooks/v1/registration', 'PUT /webhooks/v1/registration']);
    const removed = scripted([503, 204]);
    expect(await removed.client.remove()).toBe(true);
    expect(removed.sent).toHaveLength(2);
    const get = scripted([401, 200]);
    expect(await get.client.registration()).toEqual(wanted);
    expect(get.sent).toHaveLength(2);
  });

  it('reads the registration back when a write answers without one', async () => {
    const { client, sent } = scripted([201, 200]);
    expect(await client.create(wanted)).toEqual(wanted);
    expect(sent).toEqual(['POST /webhooks/v1/registration', 'GET /webhooks/v1/registration']);
  });
});

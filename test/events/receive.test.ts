/**
 * The receiver end to end, without HTTP: real sandbox deliveries in, a status and a queue message
 * (or none) out, with the log fields the function will write. Signed bodies that break the body
 * rules are signed here by a CA the test adds to the trusted CA file, as an operator could.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MutationResult, type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { canonicalTimestamp, timestampToEpochMs } from '../../src/common/time.js';
import { loadWebhookReceiverConfig, type WebhookReceiverConfig } from '../../src/config.js';
import type { ReferralEventMessage } from '../../src/events/event.js';
import type { EventQueue } from '../../src/events/queue.js';
import { createEventReceiver, type EventReceiver, type QueueSender } from '../../src/events/receive.js';
import { CertificateServer, type Issued, makeCertificate, signatureHeader } from '../helpers/certificates.js';
import { SandboxEvents } from '../helpers/sandbox-events.js';
import type { Received } from '../helpers/webhook-receiver.js';

/** The queue as the receiver sees it; `failing` plays a storage outage. */
class MemoryQueue implements QueueSender {
  readonly messages: ReferralEventMessage[] = [];
  failing = false;

  async send(message: ReferralEventMessage): Promise<void> {
    if (this.failing) throw new Error('queue unavailable (AccountKey=c2VjcmV0)');
    this.messages.push(message);
  }
}

describe('receiveEvent on sandbox deliveries', () => {
  let sandbox: Sandbox;
  let events: SandboxEvents;
  let server: CertificateServer;
  let config: WebhookReceiverConfig;
  let signer: Issued;
  let signerUrl: string;
  let genuine: Received;
  const receivers: EventReceiver[] = [];
  let clock: number | undefined;

  const receiver = (queue: QueueSender) => {
    const made = createEventReceiver(config, queue, { now: () => clock ?? Date.now() });
    receivers.push(made);
    return made;
  };
  /** A body this test signs with a certificate the receiver trusts: signed, but not Partner Center's words. */
  const signed = (body: string | Buffer): Received => {
    const bytes = Buffer.from(body);
    return {
      body: bytes,
      headers: {
        ...genuine.headers,
        authorization: signatureHeader(bytes, signer.keyPem),
        'x-ms-certificate-url': signerUrl,
      },
    };
  };
  const genuineEvent = (fields: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(genuine.body.toString('utf8')), ...fields });

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 40, seed: 22, webhooks: { retryDelaysMs: [5], attemptTimeoutMs: 2000 } });
    events = await SandboxEvents.start(sandbox);
    server = await CertificateServer.start(sandbox.receiverTls);
    const ca = await makeCertificate({ cn: 'operator CA', org: 'referrals-lake sandbox', ca: true });
    signer = await makeCertificate({ cn: 'operator signer', org: 'referrals-lake sandbox', issuer: ca });
    signerUrl = server.serve('/signer.cer', { body: signer.certPem });
    const printed = loadWebhookReceiverConfig(sandbox.env);
    config = {
      ...printed,
      certificateHosts: [...printed.certificateHosts, server.host],
      caPem: `${printed.caPem}\n${ca.certPem}`,
    };
    [genuine] = (await events.updates(1)) as [Received];
  });
  afterAll(async () => {
    for (const r of receivers) r.close();
    await events.close();
    await server.close();
    await sandbox.close();
  });

  it('queues genuine referral events: 200, and the message names the referral that changed, when, and when it arrived', async () => {
    let changed: MutationResult | undefined;
    const deliveries = await events.capture(['referral-created', 'referral-updated'], 3, () => {
      changed = sandbox.mutate(2, 1);
    });
    const queue = new MemoryQueue();
    const { receive } = receiver(queue);
    for (const delivery of deliveries) {
      const result = await receive(delivery.body, delivery.headers);
      expect(result.status).toBe(200);
      expect(result.queued).toBeDefined();
      expect(result.logFields).toMatchObject({ outcome: 'queued', referralId: result.queued?.referralId });
    }
    expect(queue.messages).toHaveLength(3);
    const ids = [...(changed?.updated ?? []), ...(changed?.created ?? [])].sort();
    expect(queue.messages.map((m) => m.referralId).sort()).toEqual(ids);
    for (const message of queue.messages) {
      const referral = sandbox.store.get(message.referralId);
      expect(message.changedAt).toBe(canonicalTimestamp(referral?.updatedDateTime ?? ''));
      expect(message.eventName).toBe(
        changed?.created.includes(message.referralId) ? 'referral-created' : 'referral-updated',
      );
      expect(Date.now() - (timestampToEpochMs(message.receivedAt) ?? 0)).toBeLessThan(60_000);
    }
  });

  it("acknowledges the validation event (test-created) with 200 and queues nothing: Partner Center's status then says completed", async () => {
    const [test] = (await events.testEvent()) as [Received];
    const queue = new MemoryQueue();
    const result = await receiver(queue).receive(test.body, test.headers);
    expect(result).toMatchObject({ status: 200, logFields: { outcome: 'acknowledged', reason: 'test_event' } });
    expect(result.queued).toBeUndefined();
    expect(queue.messages).toEqual([]);
  });

  it('answers 401 and queues nothing for unsigned, forged, altered and foreign-certificate events', async () => {
    const queue = new MemoryQueue();
    const { receive } = receiver(queue);
    const impostor = await makeCertificate({ cn: 'impostor', org: 'referrals-lake sandbox' });
    const cases: Array<[string, Received, string]> = [
      ['unsigned', { body: genuine.body, headers: { ...genuine.headers, authorization: undefined } }, 'unsigned'],
      [
        'forged',
        {
          body: genuine.body,
          headers: { ...genuine.headers, authorization: signatureHeader(genuine.body, impostor.keyPem) },
        },
        'bad_signature',
      ],
      [
        'altered',
        { body: Buffer.from(genuineEvent({ EventName: 'referral-created' })), headers: genuine.headers },
        'bad_signature',
      ],
      [
        'foreign certificate',
        { body: genuine.body, headers: { ...genuine.headers, 'x-ms-certificate-url': 'https://evil.example/c.cer' } },
        'foreign_certificate_host',
      ],
      [
        'self-signed certificate on an allowed host',
        {
          body: genuine.body,
          headers: {
            ...genuine.headers,
            authorization: signatureHeader(genuine.body, impostor.keyPem),
            'x-ms-certificate-url': server.serve('/impostor.cer', { body: impostor.certPem }),
          },
        },
        'certificate_untrusted',
      ],
    ];
    for (const [what, request, reason] of cases) {
      const result = await receive(request.body, request.headers);
      expect(result, what).toMatchObject({ status: 401, logFields: { outcome: 'refused', reason } });
      expect(result.queued).toBeUndefined();
    }
    expect(queue.messages).toEqual([]);
  });

  it('answers 400 and queues nothing: over 64 KiB (before the signature is looked at), then signed bodies that break the body rules', async () => {
    const queue = new MemoryQueue();
    const { receive } = receiver(queue);
    const huge = await receive(Buffer.alloc(64 * 1024 + 1, 0x7b), {});
    expect(huge).toMatchObject({ status: 400, logFields: { outcome: 'refused', reason: 'too_large', bytes: 65537 } });
    const cases: Array<[string, Received, string]> = [
      ['bad JSON', signed('{"EventName":'), 'not_json'],
      ['an unknown event', signed(genuineEvent({ EventName: 'customer-created' })), 'unknown_event'],
      [
        'a ResourceUri outside Partner Center',
        signed(
          genuineEvent({
            ResourceUri: 'https://evil.example/engagements/v1/referrals/4b5c9e2a-7d1f-4e8a-9c3b-2f6a1d0e8b7c',
          }),
        ),
        'foreign_resource',
      ],
    ];
    for (const [what, request, reason] of cases) {
      const result = await receive(request.body, request.headers);
      expect(result, what).toMatchObject({ status: 400, logFields: { outcome: 'refused', reason } });
    }
    // The same rules hold whoever signed: the operator's signer passes when the body is right.
    const right = signed(genuine.body);
    expect(await receive(right.body, right.headers)).toMatchObject({ status: 200 });
    expect(queue.messages).toHaveLength(1);
  });

  it('replays: a captured event replayed verifies and is queued again (the worker collapses it); past the age window it is acknowledged, not queued', async () => {
    const queue = new MemoryQueue();
    const { receive } = receiver(queue);
    const first = await receive(genuine.body, genuine.headers);
    const replay = await receive(genuine.body, genuine.headers);
    expect([first.status, replay.status]).toEqual([200, 200]);
    expect(replay.queued).toEqual({ ...first.queued, receivedAt: expect.any(String) });
    const changedMs = timestampToEpochMs(first.queued?.changedAt ?? '') ?? 0;
    try {
      clock = changedMs + config.maxEventAgeMs + 60_000;
      const late = await receive(genuine.body, genuine.headers);
      expect(late).toMatchObject({
        status: 200,
        logFields: { outcome: 'acknowledged', reason: 'stale', ageSeconds: config.maxEventAgeMs / 1000 + 60 },
      });
      expect(late.queued).toBeUndefined();
    } finally {
      clock = undefined;
    }
    expect(queue.messages).toHaveLength(2);
  });

  it("takes the app's Storage queue client as its queue: EventQueue<ReferralEventMessage> is a QueueSender", () => {
    // The check is the compiler's (npm run lint): this line would not type-check otherwise.
    const fits = (queue: EventQueue<ReferralEventMessage>): QueueSender => queue;
    expect(fits).toBeTypeOf('function');
  });

  it('answers 503 when the queue fails, so that Partner Center tries again; nothing is reported queued', async () => {
    const queue = new MemoryQueue();
    queue.failing = true;
    const result = await receiver(queue).receive(genuine.body, genuine.headers);
    expect(result).toMatchObject({ status: 503, logFields: { outcome: 'failed', reason: 'queue_unavailable' } });
    expect(result.queued).toBeUndefined();
  });

  it('log fields never hold the body, the signature or a header value', async () => {
    const queue = new MemoryQueue();
    const { receive } = receiver(queue);
    const signature = String(genuine.headers.authorization).slice('Signature '.length, 40);
    const unknown = signed(genuineEvent({ EventName: 'customer-created' }));
    const results = [
      await receive(genuine.body, genuine.headers),
      await receive(Buffer.from(genuineEvent({ AuditUri: 'x' })), genuine.headers),
      await receive(genuine.body, { ...genuine.headers, 'x-ms-certificate-url': 'https://evil.example/c.cer?sig=abc' }),
      await receive(unknown.body, unknown.headers),
    ];
    for (const { logFields } of results) {
      const text = JSON.stringify(logFields);
      expect(text).not.toContain(signature);
      expect(text).not.toContain('ResourceUri');
      expect(text).not.toContain('engagements/v1');
      expect(text).not.toContain('sig=abc');
    }
  });
});

/**
 * verifyEvent against real deliveries: the sandbox signs and sends events to a local receiver, and
 * the captured raw bodies and headers are checked as the Azure Function will check them, with the
 * settings the sandbox prints. Forgeries are made here with keys and certificates of the test's own.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import * as x509 from '@peculiar/x509';
import selfsigned from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/sandbox.js';
import { loadWebhookReceiverConfig, type WebhookReceiverConfig } from '../../src/config.js';
import { CertificateStore, type CertificateStoreOptions } from '../../src/events/certificates.js';
import { verifyEvent } from '../../src/events/signature.js';
import {
  type Answer,
  CertificateServer,
  type Issued,
  makeCertificate,
  signatureHeader,
} from '../helpers/certificates.js';
import { SandboxEvents } from '../helpers/sandbox-events.js';
import { send } from '../helpers/sandbox-http.js';
import type { Received } from '../helpers/webhook-receiver.js';

describe('verifyEvent on sandbox deliveries', () => {
  let sandbox: Sandbox;
  let events: SandboxEvents;
  let server: CertificateServer;
  let config: WebhookReceiverConfig;
  let genuine: Received;
  let genuinePem: string;
  let forger: { ca: Issued; signer: Issued };
  const stores: CertificateStore[] = [];

  /** A fresh store (empty cache) with the sandbox's settings, the test server's host also allowed. */
  const store = (options: Partial<CertificateStoreOptions> = {}) => {
    const made = new CertificateStore({
      allowedHosts: config.certificateHosts,
      issuerOrganization: config.certificateIssuerOrganization,
      chain: config.certificateChain,
      caPem: config.caPem,
      ...options,
    });
    stores.push(made);
    return made;
  };
  const certificateDownloads = () => sandbox.stats().webhooks.certificateRequests;
  const withHeaders = (received: Received, headers: IncomingHttpHeaders): Received => ({
    body: received.body,
    headers: { ...received.headers, ...headers },
  });
  /** The body signed with the forger's key, its certificate served at an allowlisted URL. */
  const forged = (body: Buffer, certificateUrl: string): Received => ({
    body,
    headers: {
      ...genuine.headers,
      authorization: signatureHeader(body, forger.signer.keyPem),
      'x-ms-certificate-url': certificateUrl,
    },
  });

  beforeAll(async () => {
    sandbox = await startSandbox({ count: 40, seed: 21, webhooks: { retryDelaysMs: [5], attemptTimeoutMs: 2000 } });
    events = await SandboxEvents.start(sandbox);
    // The sandbox's own server certificate is issued by its CA: the test server is an allowlistable
    // https host the app's TLS trusts, as Partner Center's blob host is.
    server = await CertificateServer.start(sandbox.receiverTls);
    config = loadWebhookReceiverConfig({
      ...sandbox.env,
      PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: `${sandbox.env.PARTNER_CENTER_WEBHOOKS_CERT_HOSTS},${server.host}`,
    });
    [genuine] = (await events.updates(1)) as [Received];
    genuinePem = (await send(sandbox, sandbox.webhookCertificateUrl)).text;
    const ca = await makeCertificate({ cn: 'forger CA', org: 'referrals-lake sandbox', ca: true });
    forger = { ca, signer: await makeCertificate({ cn: 'forger', org: 'referrals-lake sandbox', issuer: ca }) };
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });
  afterAll(async () => {
    await events.close();
    await server.close();
    await sandbox.close();
  });

  it('reads the settings the sandbox prints: its certificate host, organisation and the anchored rule', () => {
    expect(config.certificateHosts).toContain(new URL(sandbox.webhookCertificateUrl).host);
    expect(config.certificateIssuerOrganization).toBe('referrals-lake sandbox');
    expect(config.certificateChain).toBe('anchored');
    expect(config.caPem).toBe(sandbox.caPem);
  });

  it('genuine events verify: referral and test events, the signature in Authorization or x-ms-signature', async () => {
    const certificates = store();
    const updates = await events.updates(2);
    const [test] = await events.testEvent();
    const [msHeader] = await events.updates(1, { SignatureTokenToMsSignatureHeader: true });
    expect(msHeader?.headers.authorization).toBeUndefined();
    for (const received of [genuine, ...updates, test, msHeader] as Received[]) {
      const result = await verifyEvent(received.body, received.headers, certificates);
      expect(result).toMatchObject({ ok: true, certificate: { anchored: true } });
    }
    // As an Azure Functions v4 request carries them: fetch Headers.
    const fetchHeaders = new Headers(genuine.headers as Record<string, string>);
    expect(await verifyEvent(genuine.body, fetchHeaders, certificates)).toMatchObject({ ok: true });
  });

  it('a burst of 20 events downloads the certificate once', async () => {
    const burst = await events.updates(20);
    const certificates = store();
    const before = certificateDownloads();
    const results = await Promise.all(burst.map((r) => verifyEvent(r.body, r.headers, certificates)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await verifyEvent(genuine.body, genuine.headers, certificates)).toMatchObject({ ok: true });
    expect(certificateDownloads() - before).toBe(1);
  });

  it('an altered body fails: a changed byte, or the same JSON re-serialised', async () => {
    const certificates = store();
    const changed = Buffer.from(genuine.body.toString('utf8').replace('referral-updated', 'referral-created'));
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(genuine.body.toString('utf8')), null, 1));
    for (const body of [changed, reserialised]) {
      expect(await verifyEvent(body, genuine.headers, certificates)).toEqual({
        ok: false,
        reason: 'bad_signature',
        detail: 'the signature does not match the body and certificate',
      });
    }
  });

  it("a forgery signed with another key fails: bad_signature against Partner Center's certificate, untrusted with its own", async () => {
    const certificates = store();
    const withGenuineUrl = forged(genuine.body, String(genuine.headers['x-ms-certificate-url']));
    expect(await verifyEvent(withGenuineUrl.body, withGenuineUrl.headers, certificates)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    // Its own certificate, from an allowlisted host, same organisation, another CA: the chain reaches no root.
    const own = forged(genuine.body, server.serve('/forger.cer', { body: forger.signer.certPem }));
    expect(await verifyEvent(own.body, own.headers, certificates)).toEqual({
      ok: false,
      reason: 'certificate_untrusted',
      detail: 'its chain reaches no trusted root (PARTNER_CENTER_WEBHOOKS_CERT_CHAIN=anchored)',
    });
    // Its own root served with it changes nothing; neither does another organisation.
    const bundled = forged(
      genuine.body,
      server.serve('/forger-bundle.cer', { body: forger.signer.certPem + forger.ca.certPem }),
    );
    expect(await verifyEvent(bundled.body, bundled.headers, certificates)).toMatchObject({
      reason: 'certificate_untrusted',
      detail: 'its chain ends at a root that is not trusted',
    });
    const fabrikamCa = await makeCertificate({ cn: 'Fabrikam CA', org: 'Fabrikam', ca: true });
    const fabrikam = await makeCertificate({ cn: 'signer', org: 'Fabrikam', issuer: fabrikamCa });
    const other = {
      ...forged(genuine.body, server.serve('/fabrikam.cer', { body: fabrikam.certPem })),
    };
    other.headers.authorization = signatureHeader(genuine.body, fabrikam.keyPem);
    expect(await verifyEvent(other.body, other.headers, certificates)).toMatchObject({
      reason: 'certificate_untrusted',
      detail: 'its issuer does not name O=referrals-lake sandbox',
    });
  });

  it('under `partial`, an issuer neither served nor trusted rests on the allowlisted download; a borrowed CA name does not', async () => {
    const partial = store({ chain: 'partial' });
    const own = forged(genuine.body, server.serve('/forger-partial.cer', { body: forger.signer.certPem }));
    expect(await verifyEvent(own.body, own.headers, partial)).toMatchObject({
      ok: true,
      certificate: { anchored: false },
    });
    const sandboxCaName = new x509.X509Certificate(sandbox.caPem).subject;
    const borrowed = await makeCertificate({
      cn: 'signer',
      org: 'referrals-lake sandbox',
      issuer: forger.ca,
      issuerName: sandboxCaName,
    });
    const impostor = forged(genuine.body, server.serve('/borrowed.cer', { body: borrowed.certPem }));
    impostor.headers.authorization = signatureHeader(genuine.body, borrowed.keyPem);
    expect(await verifyEvent(impostor.body, impostor.headers, partial)).toMatchObject({
      reason: 'certificate_untrusted',
      detail: 'its chain names a known issuer that did not sign it',
    });
  });

  it('a certificate URL off the allowlist is refused before any download: another host, port, scheme, user info', async () => {
    const certificates = store();
    const sandboxUrl = new URL(sandbox.webhookCertificateUrl);
    const urls = [
      'https://3psostorageacct.blob.core.windows.net.evil.example/cert/pc.cer',
      'https://evil.example/cert.cer',
      `http://${sandboxUrl.host}${sandboxUrl.pathname}`,
      `https://user:pw@${sandboxUrl.host}${sandboxUrl.pathname}`,
      `https://127.0.0.1:1${sandboxUrl.pathname}`,
      `https://localhost:${sandboxUrl.port}${sandboxUrl.pathname}`,
      // Varied URLs of the allowed host that name no certificate file, or the same one differently.
      `${sandbox.webhookCertificateUrl}?1`,
      `${sandbox.webhookCertificateUrl}#x`,
      `https://${sandboxUrl.host}/cert/`,
      'not a URL',
    ];
    const before = { sandbox: certificateDownloads(), server: server.total() };
    for (const url of urls) {
      const result = await verifyEvent(genuine.body, { ...genuine.headers, 'x-ms-certificate-url': url }, certificates);
      expect(result, url).toMatchObject({ ok: false, reason: 'foreign_certificate_host' });
    }
    expect({ sandbox: certificateDownloads(), server: server.total() }).toEqual(before);
    const result = await verifyEvent(
      genuine.body,
      { ...genuine.headers, 'x-ms-certificate-url': 'https://evil.example:8443/c.cer' },
      certificates,
    );
    // The refused host is named, for operators when Partner Center moves its certificate.
    expect(result).toMatchObject({ detail: 'the certificate URL is not https on an allowed host (evil.example:8443)' });
  });

  it('missing or garbled signature headers are unsigned; another algorithm is bad_algorithm; nothing is downloaded', async () => {
    const certificates = store();
    const before = certificateDownloads();
    const cases: Array<[IncomingHttpHeaders, string]> = [
      [{ authorization: undefined }, 'unsigned'],
      [{ authorization: 'Bearer abc' }, 'unsigned'],
      [{ authorization: 'Signature' }, 'unsigned'],
      [{ authorization: 'Signature not*base64' }, 'unsigned'],
      [{ authorization: `Signature ${'A'.repeat(2000)}` }, 'unsigned'],
      [{ 'x-ms-signature': 'garbled' }, 'unsigned'],
      [{ 'x-ms-certificate-url': undefined }, 'unsigned'],
      [{ 'x-ms-signature-algorithm': undefined }, 'unsigned'],
      [{ 'x-ms-signature-algorithm': 'rsa-sha1' }, 'bad_algorithm'],
      [{ 'x-ms-signature-algorithm': 'hmac-sha256' }, 'bad_algorithm'],
    ];
    for (const [headers, reason] of cases) {
      const received = withHeaders(genuine, headers);
      const result = await verifyEvent(received.body, received.headers, certificates);
      expect(result, JSON.stringify(headers).slice(0, 80)).toMatchObject({ ok: false, reason });
    }
    // The scheme's case does not matter (RFC 9110); the algorithm's neither.
    const relaxed = withHeaders(genuine, {
      authorization: String(genuine.headers.authorization).replace('Signature', 'signature'),
      'x-ms-signature-algorithm': 'RSA-SHA256',
    });
    expect(await verifyEvent(relaxed.body, relaxed.headers, certificates)).toMatchObject({ ok: true });
    expect(certificateDownloads() - before).toBe(1);
  });

  it('no failure detail repeats the signature, the body or a header value', async () => {
    const certificates = store();
    const signature = String(genuine.headers.authorization).slice('Signature '.length);
    const body = genuine.body.toString('utf8');
    const results = [
      await verifyEvent(Buffer.from(`${body} `), genuine.headers, certificates),
      await verifyEvent(genuine.body, { ...genuine.headers, 'x-ms-signature-algorithm': 'rsa-md5' }, certificates),
      await verifyEvent(genuine.body, { ...genuine.headers, authorization: `Signature ${signature}!` }, certificates),
    ];
    for (const result of results) {
      const text = JSON.stringify(result);
      expect(text).not.toContain(signature.slice(0, 24));
      expect(text).not.toContain('referral-updated');
      expect(text).not.toContain('engagements');
    }
  });

  it('serves PEM, a bundle with the CA, or DER alike: each verifies the genuine signature', async () => {
    const der = new X509Certificate(genuinePem).raw;
    for (const [path, body] of [
      ['/genuine.pem', genuinePem],
      ['/genuine-bundle.pem', genuinePem + sandbox.caPem],
      ['/genuine.cer', der],
    ] as const) {
      const url = server.serve(path, { body });
      const received = withHeaders(genuine, { 'x-ms-certificate-url': url });
      expect(await verifyEvent(received.body, received.headers, store()), path).toMatchObject({ ok: true });
    }
  });

  it('a download that is not a certificate is certificate_unavailable: a redirect, an error, too large, too slow, untrusted TLS', async () => {
    const certificates = store({ timeoutMs: 300 });
    const before = certificateDownloads();
    const answers: Array<[string, Answer, RegExp]> = [
      ['/redirect.cer', { status: 302, headers: { Location: sandbox.webhookCertificateUrl }, body: '' }, /HTTP 302/],
      ['/missing.cer', { status: 404, body: 'no' }, /HTTP 404/],
      ['/huge.cer', { body: Buffer.alloc(70 * 1024, 0x41) }, /larger than 65536 bytes/],
      ['/html.cer', { body: '<html>hello</html>' }, /served no PEM or DER certificate/],
      ['/slow.cer', 'hang', /timed out/],
    ];
    for (const [path, answer, detail] of answers) {
      const received = withHeaders(genuine, { 'x-ms-certificate-url': server.serve(path, answer) });
      const result = await verifyEvent(received.body, received.headers, certificates);
      expect(result, path).toEqual({
        ok: false,
        reason: 'certificate_unavailable',
        detail: expect.stringMatching(detail),
      });
    }
    // The redirect was not followed: the sandbox's certificate route, where it pointed, saw nothing.
    expect(certificateDownloads()).toBe(before);
    // An allowlisted host whose TLS certificate the app does not trust (not a public root, not the CA file).
    const untrusted = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], { keyType: 'ec' });
    const stranger = await CertificateServer.start({ certPem: untrusted.cert, keyPem: untrusted.private });
    try {
      const received = withHeaders(genuine, { 'x-ms-certificate-url': stranger.serve('/c.pem', { body: genuinePem }) });
      const allowing = store({ allowedHosts: [stranger.host] });
      expect(await verifyEvent(received.body, received.headers, allowing)).toMatchObject({
        reason: 'certificate_unavailable',
        detail: expect.stringMatching(/self.signed certificate/i),
      });
      expect(stranger.count('/c.pem')).toBe(0);
    } finally {
      await stranger.close();
    }
  });

  it('keeps the certificate in use when varied URLs fill the cache: new URLs are refused, not it evicted', async () => {
    const certificates = store({ maxEntries: 3 });
    const check = () => verifyEvent(genuine.body, genuine.headers, certificates);
    expect(await check()).toMatchObject({ ok: true });
    const before = certificateDownloads();
    // Certificate files that do not exist on an allowed host: failures first make room for each other.
    for (let i = 0; i < 10; i++) {
      const url = server.serve(`/missing-${i}.cer`, { status: 404, body: '' });
      const result = await verifyEvent(genuine.body, { ...genuine.headers, 'x-ms-certificate-url': url }, certificates);
      expect(result).toMatchObject({ ok: false, reason: 'certificate_unavailable' });
    }
    expect(await check()).toMatchObject({ ok: true });
    expect(certificateDownloads()).toBe(before);
  });

  it('a failed refresh keeps the certificate it was to replace', async () => {
    let now = Date.now();
    const certificates = store({ now: () => now });
    const url = server.serve('/kept.cer', { body: genuinePem });
    const signed = { ...genuine.headers, 'x-ms-certificate-url': url };
    expect(await verifyEvent(genuine.body, signed, certificates)).toMatchObject({ ok: true });
    server.serve('/kept.cer', { status: 503, body: '' });
    now += 61_000;
    // A bad signature asks for a fresh copy; the download fails; the certificate in hand still verifies.
    const altered = Buffer.from(genuine.body);
    altered[altered.length - 2] = 0x20;
    expect(await verifyEvent(altered, signed, certificates)).toMatchObject({ reason: 'bad_signature' });
    expect(await verifyEvent(genuine.body, signed, certificates)).toMatchObject({ ok: true });
  });

  it('caches a failure briefly, a certificate for its TTL, and downloads a renewed one after refreshAfterMs', async () => {
    let now = Date.now();
    const ca = await makeCertificate({ cn: 'Renewal CA', org: 'referrals-lake sandbox', ca: true });
    const first = await makeCertificate({ cn: 'signer 1', org: 'referrals-lake sandbox', issuer: ca });
    const second = await makeCertificate({ cn: 'signer 2', org: 'referrals-lake sandbox', issuer: ca });
    const certificates = store({ caPem: `${sandbox.caPem}\n${ca.certPem}`, now: () => now });
    const url = server.serve('/renewed.cer', { status: 503, body: '' });
    const signedBy = (signer: Issued): Received => ({
      body: genuine.body,
      headers: {
        ...genuine.headers,
        authorization: signatureHeader(genuine.body, signer.keyPem),
        'x-ms-certificate-url': url,
      },
    });
    const check = (received: Received) => verifyEvent(received.body, received.headers, certificates);

    expect(await check(signedBy(first))).toMatchObject({ reason: 'certificate_unavailable' });
    server.serve('/renewed.cer', { body: first.certPem });
    expect(await check(signedBy(first))).toMatchObject({ reason: 'certificate_unavailable' });
    now += 11_000;
    expect(await check(signedBy(first))).toMatchObject({ ok: true });
    expect(server.count('/renewed.cer')).toBe(2);

    server.serve('/renewed.cer', { body: second.certPem });
    expect(await check(signedBy(second))).toMatchObject({ reason: 'bad_signature' });
    expect(server.count('/renewed.cer')).toBe(2);
    now += 61_000;
    // A burst signed with the renewed key: the first event's refresh is the only download.
    const burst = await Promise.all(Array.from({ length: 5 }, () => check(signedBy(second))));
    expect(burst.map((r) => r.ok)).toEqual(Array(5).fill(true));
    expect(await check(signedBy(second))).toMatchObject({ ok: true });
    expect(server.count('/renewed.cer')).toBe(3);
  });
});

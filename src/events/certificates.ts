/**
 * The signing certificates of webhook events: downloaded only from an allowlisted https URL,
 * parsed (PEM, a PEM bundle with intermediates, or DER: Partner Center's `.cer` format is not
 * documented), judged once by certificate-trust.ts, and cached per URL so that a burst of events
 * costs one download.
 *
 * The download is the one place where an event makes this app reach out, so it is narrow: the URL
 * comes from the event's `x-ms-certificate-url` header (which the signature does not cover), and is
 * fetched only when it is `https:`, has no user info, and its host (and port) is on
 * PARTNER_CENTER_WEBHOOKS_CERT_HOSTS. Redirects are not followed (node:https never does), answers
 * are capped in size and time, and no other URL is ever fetched: not an AIA or CRL URL of the
 * certificate, nothing it names. TLS trusts what the rest of the app trusts: Node's roots plus
 * PARTNER_CENTER_CA_FILE (the same transport as the Partner Center client).
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { createHttpsTransport, type Transport, TransportError } from '../source/http/transport.js';
import { assessSigningCertificate, type ChainRule, pemCertificates, trustAnchors } from './certificate-trust.js';

export type CertificateFailure = 'foreign_certificate_host' | 'certificate_unavailable' | 'certificate_untrusted';

/** A certificate judged trustworthy: the key that checks signatures, and what the log may say of it. */
export interface SigningCertificate {
  readonly publicKey: KeyObject;
  /** Whether its chain reached a root, or the allowlisted download vouched for it (certificate-trust.ts). */
  readonly anchored: boolean;
  readonly fingerprint256: string;
  /** The end of its validity: it is never used, nor cached, past that. */
  readonly notAfterMs: number;
}

export type CertificateOutcome =
  | { readonly ok: true; readonly certificate: SigningCertificate }
  /** `why` is this module's own words (and, for a foreign host, that host): never the body or a header. */
  | { readonly ok: false; readonly reason: CertificateFailure; readonly why: string };

/** What signature.ts needs; a fake in tests of the receiver's other rules. */
export interface CertificateSource {
  get(certificateUrl: string): Promise<CertificateOutcome>;
  /**
   * Downloads again when the cached certificate is old enough (Partner Center may renew it at the
   * same URL); undefined when it is too recent to doubt, so forged events cannot force downloads.
   */
  refresh(certificateUrl: string): Promise<CertificateOutcome | undefined>;
  close(): void;
}

export interface CertificateStoreOptions {
  readonly allowedHosts: readonly string[];
  readonly issuerOrganization: string;
  readonly chain: ChainRule;
  /** PEM of PARTNER_CENTER_CA_FILE: trusted by the download's TLS and as a chain anchor. */
  readonly caPem?: string;
  /** Instead of an https transport of its own (tests). */
  readonly transport?: Transport;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly ttlMs?: number;
  readonly failureTtlMs?: number;
  readonly refreshAfterMs?: number;
  readonly maxEntries?: number;
  readonly maxConcurrentDownloads?: number;
  readonly now?: () => number;
}

/**
 * The receiver should answer Partner Center within about a second; only an event that finds the
 * cache cold waits for a download, and never longer than this.
 */
const DEFAULT_TIMEOUT_MS = 5000;
/** A certificate is 1–2 KiB, a bundle of four under 8. */
const DEFAULT_MAX_BYTES = 64 * 1024;
/** Renewals are rare; refresh() heals one sooner. */
const DEFAULT_TTL_MS = 3600_000;
/** A failure is retried soon: Partner Center retries the event, and the next attempt should download again. */
const DEFAULT_FAILURE_TTL_MS = 10_000;
/** The youngest cached certificate a failed signature may cause to be downloaded again. */
const DEFAULT_REFRESH_AFTER_MS = 60_000;
/** One URL in practice; a few more while a renewal moves it. Bounded so that varied URLs cannot grow it. */
const DEFAULT_MAX_ENTRIES = 16;
/** Different allowlisted URLs downloading at once; past this an event is answered 401 and retried. */
const DEFAULT_MAX_CONCURRENT_DOWNLOADS = 4;
/** More certificates than a chain needs is not a certificate file. */
const MAX_CERTIFICATES = 8;
/** What a certificate URL's path ends in (Partner Center's: `.cer`). */
const CERTIFICATE_FILE = /\.(?:cer|crt|pem)$/i;

interface Entry {
  readonly outcome: Promise<CertificateOutcome>;
  readonly startedAt: number;
  /** Infinity while the download runs: callers in that time share it. */
  expiresAt: number;
  /** Set once the download ended in a failure. */
  failed?: boolean;
}

/**
 * The allowlisted URL, or undefined: https only, no user info, host and port on the list. The
 * scheme is not compared loosely as a ResourceUri's is: this is a download, and only TLS makes the
 * host's word worth anything.
 */
export function allowlistedCertificateUrl(text: string, allowedHosts: readonly string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return undefined;
  // A query or fragment changes nothing the host serves but would make every URL new to the cache:
  // a cheap way to force downloads and push the real certificate out. A certificate file it must be.
  if (url.search !== '' || url.hash !== '' || !CERTIFICATE_FILE.test(url.pathname)) return undefined;
  // URL.host is lower case and drops the default port, as the setting's entries are written.
  return allowedHosts.includes(url.host) ? url : undefined;
}

/** The host a refused certificate URL names, for the log: operators need it when Microsoft moves the certificate. */
export function certificateUrlHost(text: string): string {
  try {
    return new URL(text).host.slice(0, 255) || '(none)';
  } catch {
    return '(not a URL)';
  }
}

export class CertificateStore implements CertificateSource {
  private readonly entries = new Map<string, Entry>();
  private readonly transport: Transport;
  private readonly anchors: readonly X509Certificate[];
  private readonly now: () => number;
  private downloads = 0;

  constructor(private readonly options: CertificateStoreOptions) {
    this.transport =
      options.transport ??
      createHttpsTransport({
        caPem: options.caPem,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxResponseBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        maxSockets: options.maxConcurrentDownloads ?? DEFAULT_MAX_CONCURRENT_DOWNLOADS,
      });
    this.anchors = trustAnchors(options.caPem);
    this.now = options.now ?? Date.now;
  }

  get(certificateUrl: string): Promise<CertificateOutcome> {
    const url = allowlistedCertificateUrl(certificateUrl, this.options.allowedHosts);
    if (!url) return Promise.resolve(foreign(certificateUrl));
    const cached = this.entries.get(url.href);
    if (cached && cached.expiresAt > this.now()) return cached.outcome;
    return this.start(url);
  }

  async refresh(certificateUrl: string): Promise<CertificateOutcome | undefined> {
    const url = allowlistedCertificateUrl(certificateUrl, this.options.allowedHosts);
    const cached = url && this.entries.get(url.href);
    if (!url || !cached) return undefined;
    // A download under way (another event's refresh) is as fresh as it gets: wait for it.
    if (cached.expiresAt === Number.POSITIVE_INFINITY) return cached.outcome;
    if (this.now() - cached.startedAt < (this.options.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS)) return undefined;
    return this.start(url, cached);
  }

  close(): void {
    this.transport.close();
  }

  /** A download; a refresh that fails keeps the certificate it was to replace. */
  private start(url: URL, previous?: Entry): Promise<CertificateOutcome> {
    if (this.downloads >= (this.options.maxConcurrentDownloads ?? DEFAULT_MAX_CONCURRENT_DOWNLOADS)) {
      return Promise.resolve(unavailable('too many certificate downloads at once'));
    }
    if (!previous && !this.makeRoom()) return Promise.resolve(unavailable('too many certificate URLs at once'));
    this.downloads++;
    const downloaded = this.download(url).finally(() => this.downloads--);
    const entry: Entry = {
      startedAt: this.now(),
      expiresAt: Number.POSITIVE_INFINITY,
      outcome: previous ? downloaded.then((outcome) => (outcome.ok ? outcome : previous.outcome)) : downloaded,
    };
    void entry.outcome.then((outcome) => {
      entry.expiresAt = this.expiry(outcome);
      entry.failed = !outcome.ok;
    });
    this.remember(url.href, entry);
    return entry.outcome;
  }

  /** A trusted certificate is kept for the TTL, never past its own end; a failure briefly. */
  private expiry(outcome: CertificateOutcome): number {
    const now = this.now();
    if (!outcome.ok) return now + (this.options.failureTtlMs ?? DEFAULT_FAILURE_TTL_MS);
    return Math.min(now + (this.options.ttlMs ?? DEFAULT_TTL_MS), outcome.certificate.notAfterMs);
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /**
   * A place for a new URL: expired entries go first, then failures, oldest first. A certificate in
   * use (trusted and unexpired) or a download under way is never pushed out for a new URL: varied
   * URLs could otherwise evict the real certificate and have every real event refused.
   */
  private makeRoom(): boolean {
    const max = this.options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (this.entries.size < max) return true;
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size < max) return true;
    for (const [key, entry] of this.entries) {
      if (entry.failed) {
        this.entries.delete(key);
        return true;
      }
    }
    return false;
  }

  /** Never rejects: every failure is an outcome. */
  private async download(url: URL): Promise<CertificateOutcome> {
    let body: Buffer;
    try {
      const res = await this.transport.get(url, { accept: '*/*' });
      if (res.status !== 200) return unavailable(`the certificate URL answered HTTP ${res.status}`);
      body = res.body;
    } catch (error) {
      return unavailable(`the certificate download failed: ${downloadFailure(error)}`);
    }
    return this.judge(body);
  }

  private judge(body: Buffer): CertificateOutcome {
    const certificates = parseCertificates(body);
    const [leaf, ...served] = certificates;
    if (!leaf) return unavailable('the certificate URL served no PEM or DER certificate');
    const decision = assessSigningCertificate(
      leaf,
      served,
      {
        issuerOrganization: this.options.issuerOrganization,
        chain: this.options.chain,
        anchors: this.anchors,
      },
      this.now(),
    );
    if (!decision.trusted) return { ok: false, reason: 'certificate_untrusted', why: decision.why };
    return {
      ok: true,
      certificate: {
        publicKey: leaf.publicKey,
        anchored: decision.anchored,
        fingerprint256: leaf.fingerprint256,
        notAfterMs: Date.parse(leaf.validTo),
      },
    };
  }
}

/**
 * The certificates of a download, the signing one first (as TLS orders a chain): PEM, one or a
 * bundle, or a single DER certificate. Empty when it is neither, or holds more than a chain would.
 */
export function parseCertificates(body: Buffer): X509Certificate[] {
  try {
    const text = body.toString('latin1');
    const certificates = text.includes('-----BEGIN CERTIFICATE-----')
      ? pemCertificates(text)
      : [new X509Certificate(body)];
    return certificates.length <= MAX_CERTIFICATES ? certificates : [];
  } catch {
    return [];
  }
}

function foreign(certificateUrl: string): CertificateOutcome {
  return {
    ok: false,
    reason: 'foreign_certificate_host',
    why: `the certificate URL is not https on an allowed host (${certificateUrlHost(certificateUrl)})`,
  };
}

function unavailable(why: string): CertificateOutcome {
  return { ok: false, reason: 'certificate_unavailable', why };
}

/** The transport's reason (timeout, TLS, size), without the URL it repeats. */
function downloadFailure(error: unknown): string {
  if (error instanceof TransportError)
    return error.timedOut ? 'timed out' : error.message.replace(/^GET \S+ failed: /, '');
  return error instanceof Error ? error.message : 'unknown error';
}

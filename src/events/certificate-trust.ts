/**
 * Whether a webhook event's signing certificate may be believed: the rule docs/security.md states
 * ("Webhook events"). It gets the certificates and the time and fetches nothing; certificates.ts
 * downloads, and only from an allowlisted host.
 *
 * Partner Center's docs say the certificate "chains to the Microsoft Root" and tell receivers to
 * verify the chain and the issuer's organisation; their sample calls .NET's X509Certificate2.Verify(),
 * which builds the chain from the Windows store and downloads missing intermediates from the
 * certificate's AIA URLs. This receiver downloads nothing but the allowlisted URL, so it builds the
 * chain from what it holds: the certificates served with the signing certificate, Node's bundled
 * roots (tls.rootCertificates) and PARTNER_CENTER_CA_FILE. Node's X509Certificate checks one link
 * at a time (checkIssued: names and key identifiers; verify: the signature), so the walk is here.
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

/** PARTNER_CENTER_WEBHOOKS_CERT_CHAIN. */
export type ChainRule = 'partial' | 'anchored';

export interface TrustPolicy {
  /** The `O=` the certificate's issuer must name (PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG). */
  readonly issuerOrganization: string;
  readonly chain: ChainRule;
  /** Roots a chain may end at: Node's bundled roots and the certificates of PARTNER_CENTER_CA_FILE. */
  readonly anchors: readonly X509Certificate[];
}

export type TrustDecision =
  /** `anchored`: the chain reached a root; false: the allowlisted TLS download vouches for the missing links. */
  | { readonly trusted: true; readonly anchored: boolean }
  /** `why` is this module's own words: no certificate text. */
  | { readonly trusted: false; readonly why: string };

/** Leaf, intermediates, root: Microsoft's TLS chains have three or four certificates. */
const MAX_CHAIN_LENGTH = 5;
const MIN_RSA_BITS = 2048;

/**
 * The rule: the signing certificate is within its dates, is no CA, is not self-issued, names the
 * expected issuer organisation and has an RSA key of 2048 bits or more (the header says rsa-sha256);
 * then its chain is walked. A link that is present must verify: an issuer named like a certificate
 * we hold but not signed by it, a non-CA issuer, an issuer out of its dates, or a chain ending at a
 * self-signed root we do not trust, is refused under either chain rule. Only a link that is simply
 * absent (the issuer is neither served nor a root we hold) is where the rules differ: `anchored`
 * refuses, `partial` accepts, because then the certificate's only credential is where it came from:
 * a TLS-authenticated https download from a host on PARTNER_CENTER_WEBHOOKS_CERT_HOSTS.
 */
export function assessSigningCertificate(
  certificate: X509Certificate,
  served: readonly X509Certificate[],
  policy: TrustPolicy,
  nowMs: number,
): TrustDecision {
  const problem = certificateProblem(certificate, policy, nowMs);
  if (problem !== undefined) return { trusted: false, why: problem };
  const chain = walkChain(certificate, served, policy.anchors, nowMs);
  if (chain.kind === 'broken') return { trusted: false, why: chain.why };
  if (chain.kind === 'incomplete' && policy.chain === 'anchored') {
    return { trusted: false, why: 'its chain reaches no trusted root (PARTNER_CENTER_WEBHOOKS_CERT_CHAIN=anchored)' };
  }
  return { trusted: true, anchored: chain.kind === 'anchored' };
}

function certificateProblem(certificate: X509Certificate, policy: TrustPolicy, nowMs: number): string | undefined {
  if (!withinValidity(certificate, nowMs)) return 'it is outside its validity dates';
  if (certificate.ca) return 'it is a CA certificate, which signs certificates, not events';
  // A self-signed leaf chains to nothing, so under `partial` it would rest on the download alone.
  if (certificate.subject === certificate.issuer) return 'it is self-issued';
  if (!issuerOrganizations(certificate).includes(policy.issuerOrganization)) {
    return `its issuer does not name O=${policy.issuerOrganization}`;
  }
  const key = certificate.publicKey;
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return `its key is not RSA of ${MIN_RSA_BITS} bits or more`;
  }
  return undefined;
}

/**
 * The issuer's `O=` values. Node prints a name one attribute a line, RFC 2253-escaped, so a value
 * is compared whole: `O=Microsoft Corporation Ltd` is not Microsoft Corporation (the docs' sample
 * uses Contains, which would accept it).
 */
export function issuerOrganizations(certificate: X509Certificate): string[] {
  return certificate.issuer
    .split('\n')
    .filter((line) => line.startsWith('O='))
    .map((line) => line.slice(2));
}

type Chain = { readonly kind: 'anchored' } | { readonly kind: 'incomplete' } | { readonly kind: 'broken'; why: string };

function walkChain(
  leaf: X509Certificate,
  served: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  nowMs: number,
): Chain {
  let current = leaf;
  const used = new Set<X509Certificate>([leaf]);
  for (let length = 1; length <= MAX_CHAIN_LENGTH; length++) {
    const anchor = anchors.find((a) => signedBy(current, a));
    if (anchor) {
      return withinValidity(anchor, nowMs)
        ? { kind: 'anchored' }
        : { kind: 'broken', why: 'its root is outside its validity dates' };
    }
    const issuer = served.find((c) => !used.has(c) && signedBy(current, c));
    if (!issuer) return missingIssuer(current, [...anchors, ...served]);
    if (!issuer.ca) return { kind: 'broken', why: 'a certificate of its chain was issued by a non-CA certificate' };
    if (!withinValidity(issuer, nowMs)) {
      return { kind: 'broken', why: 'a certificate of its chain is outside its validity dates' };
    }
    used.add(issuer);
    current = issuer;
  }
  return { kind: 'broken', why: `its chain is longer than ${MAX_CHAIN_LENGTH} certificates` };
}

/**
 * No certificate at hand signed `current`. That is a missing link only when none at hand bears its
 * issuer's name and it is not self-signed: an issuer named like a root we trust, but whose key did
 * not sign, is a forgery of that name, and a self-signed end is a root we were never asked to trust.
 */
function missingIssuer(current: X509Certificate, atHand: readonly X509Certificate[]): Chain {
  if (current.subject === current.issuer)
    return { kind: 'broken', why: 'its chain ends at a root that is not trusted' };
  if (atHand.some((c) => c.subject === current.issuer)) {
    return { kind: 'broken', why: 'its chain names a known issuer that did not sign it' };
  }
  return { kind: 'incomplete' };
}

/** checkIssued compares names and key identifiers; verify checks the signature itself. */
function signedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}

function withinValidity(certificate: X509Certificate, nowMs: number): boolean {
  return nowMs >= Date.parse(certificate.validFrom) && nowMs <= Date.parse(certificate.validTo);
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text (a bundle or a CA file), in order. */
export function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

let nodeRoots: readonly X509Certificate[] | undefined;

/** Node's bundled roots, parsed once per process (about 140: a few milliseconds, on first use). */
function bundledRoots(): readonly X509Certificate[] {
  nodeRoots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  return nodeRoots;
}

/** Chain anchors: Node's bundled roots, plus the CA file's certificates when one is set. */
export function trustAnchors(caPem: string | undefined): X509Certificate[] {
  return [...bundledRoots(), ...(caPem ? pemCertificates(caPem) : [])];
}

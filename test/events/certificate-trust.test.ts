/**
 * The signing certificate's trust rule on its own (docs/security.md, "Webhook events"): what the
 * certificate itself must be, then the chain walked link by link through served certificates to
 * an anchor; where `partial` and `anchored` differ (an absent issuer) and where they do not (a
 * present link that fails).
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { assessSigningCertificate, type TrustPolicy, trustAnchors } from '../../src/events/certificate-trust.js';
import { parseCertificates } from '../../src/events/certificates.js';
import { type Issued, makeCertificate } from '../helpers/certificates.js';

const ORG = 'Contoso Signing';
const cert = (issued: Issued) => new X509Certificate(issued.certPem);

describe('signing certificate trust', () => {
  let root: Issued;
  let intermediate: Issued;
  let leaf: Issued;
  let anchors: X509Certificate[];
  const policy = (chain: TrustPolicy['chain'], extra: Partial<TrustPolicy> = {}): TrustPolicy => ({
    issuerOrganization: ORG,
    chain,
    anchors,
    ...extra,
  });
  const judge = (signer: Issued, served: Issued[], rule: TrustPolicy['chain'] = 'anchored', now = Date.now()) =>
    assessSigningCertificate(cert(signer), served.map(cert), policy(rule), now);

  beforeAll(async () => {
    root = await makeCertificate({ cn: 'Contoso Root', org: ORG, ca: true });
    intermediate = await makeCertificate({ cn: 'Contoso Issuing CA', org: ORG, ca: true, issuer: root });
    leaf = await makeCertificate({ cn: 'events.contoso.example', org: ORG, issuer: intermediate });
    // As PARTNER_CENTER_CA_FILE would hold it, beside Node's roots.
    anchors = trustAnchors(root.certPem);
  });

  it("reaches a root through the served intermediates, under either rule; Node's roots are anchors too", () => {
    expect(judge(leaf, [intermediate])).toEqual({ trusted: true, anchored: true });
    expect(judge(leaf, [intermediate], 'partial')).toEqual({ trusted: true, anchored: true });
    expect(trustAnchors(undefined).length).toBeGreaterThan(50);
    expect(anchors.length).toBe(trustAnchors(undefined).length + 1);
  });

  it('an absent issuer: `anchored` refuses, `partial` lets the allowlisted download vouch (and says so)', () => {
    expect(judge(leaf, [])).toEqual({
      trusted: false,
      why: 'its chain reaches no trusted root (PARTNER_CENTER_WEBHOOKS_CERT_CHAIN=anchored)',
    });
    expect(judge(leaf, [], 'partial')).toEqual({ trusted: true, anchored: false });
  });

  it('refuses, under either rule, a signing certificate that is a CA, self-signed, out of its dates, of another organisation or with a small key', async () => {
    const cases: Array<[string, Issued, RegExp]> = [
      ['a CA', await makeCertificate({ cn: 'signer', org: 'x', ca: true, issuer: intermediate }), /CA certificate/],
      ['self-signed', await makeCertificate({ cn: 'signer', org: ORG }), /self-issued/],
      [
        'expired',
        await makeCertificate({
          cn: 'signer',
          org: 'x',
          issuer: intermediate,
          notBefore: new Date(Date.now() - 10 * 86_400_000),
          notAfter: new Date(Date.now() - 86_400_000),
        }),
        /validity/,
      ],
      [
        'not yet valid',
        await makeCertificate({
          cn: 'signer',
          org: 'x',
          issuer: intermediate,
          notBefore: new Date(Date.now() + 3600_000),
        }),
        /validity/,
      ],
      [
        'another organisation',
        await makeCertificate({ cn: 'signer', org: ORG, issuer: await makeOtherCa('Fabrikam') }),
        /does not name O=Contoso Signing/,
      ],
      [
        'a 1024-bit key',
        await makeCertificate({ cn: 'signer', org: 'x', issuer: intermediate, keyBits: 1024 }),
        /RSA of 2048/,
      ],
    ];
    for (const [what, signer, why] of cases) {
      for (const rule of ['anchored', 'partial'] as const) {
        const decision = judge(signer, [intermediate], rule);
        expect(decision.trusted, `${what} (${rule})`).toBe(false);
        if (!decision.trusted) expect(decision.why, what).toMatch(why);
      }
    }
  });

  it('matches the organisation whole: O=Contoso Signing Ltd is not Contoso Signing (the docs sample would accept it)', async () => {
    const lookalikeCa = await makeOtherCa(`${ORG} Ltd`);
    const signer = await makeCertificate({ cn: 'signer', org: ORG, issuer: lookalikeCa });
    expect(judge(signer, [lookalikeCa], 'partial')).toMatchObject({ trusted: false, why: /does not name/ });
  });

  it('refuses, even under `partial`, a link that is present but fails: a borrowed issuer name, an untrusted root, a non-CA issuer, an expired intermediate', async () => {
    const impostor = await makeOtherCa(ORG);
    // Names the intermediate (which is served) as issuer, but the impostor's key signed it.
    const borrowed = await makeCertificate({
      cn: 'signer',
      org: ORG,
      issuer: impostor,
      issuerName: intermediate.subject,
    });
    expect(judge(borrowed, [intermediate], 'partial')).toMatchObject({
      trusted: false,
      why: /known issuer that did not sign/,
    });
    // Names the root (an anchor), nothing served: still a known name.
    const borrowedRoot = await makeCertificate({ cn: 'signer', org: ORG, issuer: impostor, issuerName: root.subject });
    expect(judge(borrowedRoot, [], 'partial')).toMatchObject({ trusted: false, why: /known issuer that did not sign/ });
    // Its own root, served with it, is a root nobody asked us to trust.
    const selfRooted = await makeCertificate({ cn: 'signer', org: ORG, issuer: impostor });
    expect(judge(selfRooted, [impostor], 'partial')).toMatchObject({ trusted: false, why: /root that is not trusted/ });
    const notCa = await makeCertificate({ cn: 'not a CA', org: ORG, issuer: root });
    const underNotCa = await makeCertificate({ cn: 'signer', org: ORG, issuer: notCa });
    expect(judge(underNotCa, [notCa], 'partial')).toMatchObject({ trusted: false, why: /non-CA/ });
    const old = await makeCertificate({
      cn: 'Contoso Old CA',
      org: ORG,
      ca: true,
      issuer: root,
      notAfter: new Date(Date.now() - 1000),
    });
    const underOld = await makeCertificate({ cn: 'signer', org: ORG, issuer: old });
    expect(judge(underOld, [old], 'partial')).toMatchObject({ trusted: false, why: /outside its validity/ });
  });

  it('reads PEM, a PEM bundle (signing certificate first) and DER; anything else is no certificate', () => {
    expect(parseCertificates(Buffer.from(leaf.certPem)).map((c) => c.subject)).toEqual([cert(leaf).subject]);
    const bundle = parseCertificates(Buffer.from(`${leaf.certPem}${intermediate.certPem}`));
    expect(bundle.map((c) => c.subject)).toEqual([cert(leaf).subject, cert(intermediate).subject]);
    expect(parseCertificates(leaf.certDer).map((c) => c.fingerprint256)).toEqual([cert(leaf).fingerprint256]);
    expect(parseCertificates(Buffer.from('<html>not found</html>'))).toEqual([]);
    expect(parseCertificates(Buffer.from(leaf.certPem.repeat(9)))).toEqual([]);
  });
});

function makeOtherCa(org: string): Promise<Issued> {
  return makeCertificate({ cn: `${org} CA`, org, ca: true });
}

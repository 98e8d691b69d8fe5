/**
 * The sandbox serves HTTPS because MSAL refuses http:// authorities. It makes its own small CA and a
 * server certificate for 127.0.0.1/localhost signed by it; clients trust the CA through the
 * PARTNER_CENTER_CA_FILE setting (or NODE_EXTRA_CA_CERTS for child processes). The pair is cached in
 * a directory so that restarts, and other processes, can trust the same CA.
 *
 * The same CA issues the RSA certificate that signs webhook events, as Partner Center's is issued
 * under Microsoft's roots: a receiver has a chain to check, not a bare key to compare. The CA's key
 * is never written down, so every certificate is made in the one run that makes the CA.
 */

import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import selfsigned from 'selfsigned';

export interface SandboxTls {
  readonly caCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Where the CA certificate is on disk, for clients and child processes. */
  readonly caFile: string;
  /** The sandbox app's registered client certificate (RSA: MSAL signs assertions with PS256). */
  readonly clientCertPem: string;
  /** Its private key and certificate in one PEM file, as PARTNER_CENTER_CLIENT_CERTIFICATE_FILE wants it. */
  readonly clientCertFile: string;
  /** The RSA key and certificate (issued by the CA) that sign webhook events. */
  readonly webhookSigning: { readonly keyPem: string; readonly certPem: string };
}

const VALID_DAYS = 30;
/** The CA's subject carries an organisation, as the docs tell receivers to check the issuer's. */
export const SANDBOX_ORGANIZATION = 'referrals-lake sandbox';

interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientFile: string;
  readonly webhookSigningFile: string;
}

interface CreatedTls {
  readonly caCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly webhookSigningCertPem: string;
  readonly webhookSigningKeyPem: string;
}

/** Loads the cached CA + server certificate from `dir`, or makes new ones if missing or near expiry. */
export async function loadOrCreateTls(dir: string): Promise<SandboxTls> {
  const files: TlsFiles = {
    caFile: join(dir, 'sandbox-ca.pem'),
    certFile: join(dir, 'sandbox-server.pem'),
    keyFile: join(dir, 'sandbox-server.key'),
    clientFile: join(dir, 'sandbox-client.pem'),
    webhookSigningFile: join(dir, 'sandbox-webhook-signing.pem'),
  };
  const cached = await readCached(files);
  if (cached) return cached;
  await mkdir(dir, { recursive: true });
  const created = await createTls();
  await writeFile(files.caFile, created.caCertPem);
  await writeFile(files.certFile, created.certPem);
  await writeFile(files.keyFile, created.keyPem, { mode: 0o600 });
  await writeFile(files.clientFile, `${created.clientKeyPem}${created.clientCertPem}`, { mode: 0o600 });
  await writeFile(files.webhookSigningFile, `${created.webhookSigningKeyPem}${created.webhookSigningCertPem}`, {
    mode: 0o600,
  });
  return {
    caCertPem: created.caCertPem,
    certPem: created.certPem,
    keyPem: created.keyPem,
    caFile: files.caFile,
    clientCertPem: created.clientCertPem,
    clientCertFile: files.clientFile,
    webhookSigning: { keyPem: created.webhookSigningKeyPem, certPem: created.webhookSigningCertPem },
  };
}

/** The cached set, or undefined when a file is missing (an older cache lacks some) or a certificate is near expiry. */
async function readCached(files: TlsFiles): Promise<SandboxTls | undefined> {
  try {
    const [caCertPem, certPem, keyPem, clientPem, signingPem] = await Promise.all([
      readFile(files.caFile, 'utf8'),
      readFile(files.certFile, 'utf8'),
      readFile(files.keyFile, 'utf8'),
      readFile(files.clientFile, 'utf8'),
      readFile(files.webhookSigningFile, 'utf8'),
    ]);
    const signing = splitKeyAndCertificate(signingPem);
    if (nearExpiry(certPem) || nearExpiry(signing.certPem)) return undefined;
    // Code without webhooks remakes the other files alone; a signing certificate of an older CA is stale.
    if (!issuedBy(signing.certPem, caCertPem)) return undefined;
    return {
      caCertPem,
      certPem,
      keyPem,
      caFile: files.caFile,
      clientCertPem: splitKeyAndCertificate(clientPem).certPem,
      clientCertFile: files.clientFile,
      webhookSigning: signing,
    };
  } catch {
    return undefined;
  }
}

function nearExpiry(certPem: string): boolean {
  return Date.parse(new X509Certificate(certPem).validTo) - Date.now() < 24 * 3600_000;
}

function issuedBy(certPem: string, caPem: string): boolean {
  const ca = new X509Certificate(caPem);
  const cert = new X509Certificate(certPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** A key-then-certificate PEM file, as the cache writes them. */
function splitKeyAndCertificate(pem: string): { keyPem: string; certPem: string } {
  const at = pem.indexOf('-----BEGIN CERTIFICATE-----');
  if (at <= 0) throw new Error('not a key + certificate PEM file');
  return { keyPem: pem.slice(0, at), certPem: pem.slice(at) };
}

async function createTls(): Promise<CreatedTls> {
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const notAfterDate = new Date(Date.now() + VALID_DAYS * 86_400_000);
  const caSubject = [
    { name: 'commonName', value: 'referrals-lake sandbox CA' },
    { name: 'organizationName', value: SANDBOX_ORGANIZATION },
  ];
  const ca = await selfsigned.generate(caSubject, {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const client = await selfsigned.generate([{ name: 'commonName', value: 'referrals-lake sandbox app' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
  });
  const webhookSigning = await createWebhookSigningCertificate(ca, notBeforeDate, notAfterDate);
  return {
    caCertPem: ca.cert,
    certPem: server.cert,
    keyPem: server.private,
    clientCertPem: client.cert,
    clientKeyPem: client.private,
    webhookSigningCertPem: webhookSigning.certPem,
    webhookSigningKeyPem: webhookSigning.keyPem,
  };
}

/**
 * The RSA certificate that signs webhook events (rsa-sha256, the algorithm Partner Center names),
 * issued by the EC sandbox CA. selfsigned issues only leaves of the CA's own key type, so this one
 * is made with @peculiar/x509, the library selfsigned builds on.
 */
async function createWebhookSigningCertificate(
  ca: { readonly cert: string; readonly private: string },
  notBefore: Date,
  notAfter: Date,
): Promise<{ certPem: string; keyPem: string }> {
  const subtle = webcrypto.subtle;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const caKey = await subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.private).export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const keys = await subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  const certificate = await x509.X509CertificateGenerator.create({
    // A leading 0–7 keeps the DER integer positive, as RFC 5280 wants serial numbers.
    serialNumber: `7${randomBytes(15).toString('hex')}`,
    subject: `CN=referrals-lake sandbox webhook signing, O=${SANDBOX_ORGANIZATION}`,
    issuer: new x509.X509Certificate(ca.cert).subject,
    notBefore,
    notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem: `${certificate.toString('pem')}\n`, keyPem };
}

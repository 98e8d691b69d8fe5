/**
 * The sandbox serves HTTPS because MSAL refuses http:// authorities. It makes its own small CA and a
 * server certificate for 127.0.0.1/localhost signed by it; clients trust the CA through the
 * PARTNER_CENTER_CA_FILE setting (or NODE_EXTRA_CA_CERTS for child processes). The pair is cached in
 * a directory so that restarts, and other processes, can trust the same CA.
 */

import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
}

const VALID_DAYS = 30;

/** Loads the cached CA + server certificate from `dir`, or makes new ones if missing or near expiry. */
export async function loadOrCreateTls(dir: string): Promise<SandboxTls> {
  const files = {
    caFile: join(dir, 'sandbox-ca.pem'),
    certFile: join(dir, 'sandbox-server.pem'),
    keyFile: join(dir, 'sandbox-server.key'),
    clientFile: join(dir, 'sandbox-client.pem'),
  };
  const cached = await readCached(files);
  if (cached) return cached;
  await mkdir(dir, { recursive: true });
  const created = await createTls();
  await writeFile(files.caFile, created.caCertPem);
  await writeFile(files.certFile, created.certPem);
  await writeFile(files.keyFile, created.keyPem, { mode: 0o600 });
  await writeFile(files.clientFile, `${created.clientKeyPem}${created.clientCertPem}`, { mode: 0o600 });
  return {
    caCertPem: created.caCertPem,
    certPem: created.certPem,
    keyPem: created.keyPem,
    caFile: files.caFile,
    clientCertPem: created.clientCertPem,
    clientCertFile: files.clientFile,
  };
}

async function readCached(files: {
  caFile: string;
  certFile: string;
  keyFile: string;
  clientFile: string;
}): Promise<SandboxTls | undefined> {
  try {
    const [caCertPem, certPem, keyPem, clientPem] = await Promise.all([
      readFile(files.caFile, 'utf8'),
      readFile(files.certFile, 'utf8'),
      readFile(files.keyFile, 'utf8'),
      readFile(files.clientFile, 'utf8'),
    ]);
    const validTo = Date.parse(new X509Certificate(certPem).validTo);
    if (validTo - Date.now() < 24 * 3600_000) return undefined;
    const clientCertPem = clientPem.slice(clientPem.indexOf('-----BEGIN CERTIFICATE-----'));
    return { caCertPem, certPem, keyPem, caFile: files.caFile, clientCertPem, clientCertFile: files.clientFile };
  } catch {
    return undefined;
  }
}

async function createTls(): Promise<{
  caCertPem: string;
  certPem: string;
  keyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}> {
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const notAfterDate = new Date(Date.now() + VALID_DAYS * 86_400_000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'referrals-lake sandbox CA' }], {
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
  return {
    caCertPem: ca.cert,
    certPem: server.cert,
    keyPem: server.private,
    clientCertPem: client.cert,
    clientKeyPem: client.private,
  };
}

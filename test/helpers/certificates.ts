/**
 * Certificates a test makes for itself: CAs, signing certificates and the odd ones a receiver must
 * refuse (a CA as signer, self-signed, expired, a small key, an issuer that only borrows a trusted
 * name), and an https server that serves whatever a test says at an allowlistable host:port while
 * counting requests. RSA throughout, as Partner Center signs (rsa-sha256).
 */
import { createPrivateKey, KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface Issued {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly keyPem: string;
  /** The subject as `CN=…, O=…`, for a certificate that names this one as issuer. */
  readonly subject: string;
  readonly privateKey: webcrypto.CryptoKey;
}

export interface CertificateSpec {
  readonly cn: string;
  readonly org: string;
  /** Signed by this one; absent: self-signed. */
  readonly issuer?: Issued;
  /** Name the issuer so, but sign with `issuer`'s key (a borrowed name). */
  readonly issuerName?: string;
  readonly ca?: boolean;
  readonly keyBits?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export async function makeCertificate(spec: CertificateSpec): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: spec.keyBits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const subject = `CN=${spec.cn}, O=${spec.org}`;
  const ca = spec.ca ?? false;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `7${randomBytes(15).toString('hex')}`,
    subject,
    issuer: spec.issuerName ?? spec.issuer?.subject ?? subject,
    notBefore: spec.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: spec.notAfter ?? new Date(Date.now() + 30 * DAY_MS),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey,
    signingKey: spec.issuer?.privateKey ?? keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(ca, undefined, true),
      new x509.KeyUsagesExtension(
        ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    ],
  });
  return {
    certPem: `${certificate.toString('pem')}\n`,
    certDer: Buffer.from(certificate.rawData),
    keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
    subject,
    privateKey: keys.privateKey,
  };
}

/** `Signature <base64>` of the body, as Partner Center writes it, with any key. */
export function signatureHeader(body: Buffer, keyPem: string): string {
  return `Signature ${sign('sha256', body, createPrivateKey(keyPem)).toString('base64')}`;
}

export type Answer =
  | { readonly body: string | Buffer; readonly status?: number; readonly headers?: Record<string, string> }
  /** Never answers: the client's deadline must end it. */
  | 'hang';

/** An https server on 127.0.0.1 answering per path what a test sets, and counting the requests per path. */
export class CertificateServer {
  readonly answers = new Map<string, Answer>();
  readonly requests = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  /** `tls` is the server's own certificate: the sandbox's receiverTls is trusted through the sandbox CA. */
  static async start(tls: { readonly certPem: string; readonly keyPem: string }): Promise<CertificateServer> {
    let self: CertificateServer | undefined;
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => self?.answer(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    self = new CertificateServer(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  get host(): string {
    return new URL(this.origin).host;
  }

  /** Serves `answer` at `path` and returns the full URL. */
  serve(path: string, answer: Answer): string {
    this.answers.set(path, answer);
    return `${this.origin}${path}`;
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  total(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.set(path, this.count(path) + 1);
    const answer = this.answers.get(path);
    if (answer === 'hang') return;
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(answer.status ?? 200, answer.headers ?? { 'Content-Type': 'application/x-x509-ca-cert' });
    res.end(answer.body);
  }
}

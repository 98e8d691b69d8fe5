/**
 * Certificate credentials, as Entra checks them: the app signs a short JWT (the client assertion)
 * with its private key and names the certificate by its SHA-256 (or SHA-1) thumbprint; the token
 * endpoint verifies the signature with the registered certificate and the claims with its own URL.
 */
import { constants, createHash, verify, X509Certificate } from 'node:crypto';

export interface RegisteredCertificate {
  readonly certificatePem: string;
}

export type AssertionCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function verifyClientAssertion(
  assertion: string,
  certificate: RegisteredCertificate,
  expected: { clientId: string; audiences: readonly string[]; nowSeconds: number },
): AssertionCheck {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'the client assertion is not a JWT' };
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'the client assertion is not a JWT' };
  }
  const cert = new X509Certificate(certificate.certificatePem);
  if (!thumbprintMatches(header, cert))
    return { ok: false, reason: 'the assertion names a certificate not registered for the app' };
  if (!signatureValid(`${headerPart}.${payloadPart}`, signaturePart, String(header.alg), cert)) {
    return { ok: false, reason: 'the client assertion failed signature validation' };
  }
  if (claims.iss !== expected.clientId || claims.sub !== expected.clientId) {
    return { ok: false, reason: 'the assertion iss and sub must be the client id' };
  }
  if (!expected.audiences.includes(String(claims.aud)))
    return { ok: false, reason: 'the assertion audience is not this token endpoint' };
  if (typeof claims.exp !== 'number' || claims.exp < expected.nowSeconds)
    return { ok: false, reason: 'the client assertion has expired' };
  return { ok: true };
}

function thumbprintMatches(header: Record<string, unknown>, cert: X509Certificate): boolean {
  const der = cert.raw;
  const sha256 = createHash('sha256').update(der).digest('base64url');
  const sha1 = createHash('sha1').update(der).digest('base64url');
  return header['x5t#S256'] === sha256 || header.x5t === sha1;
}

function signatureValid(signed: string, signature: string, alg: string, cert: X509Certificate): boolean {
  const key = cert.publicKey;
  const data = Buffer.from(signed);
  const sig = Buffer.from(signature, 'base64url');
  if (alg === 'RS256') return verify('sha256', data, key, sig);
  if (alg === 'PS256') {
    return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  }
  return false;
}

/**
 * Is this request a webhook event Partner Center signed? The steps of the docs' "How to authenticate
 * the callback": the headers are there (the signature in `Authorization: Signature <base64>`, or in
 * `x-ms-signature` when the registration set SignatureTokenToMsSignatureHeader;
 * `x-ms-certificate-url`; `x-ms-signature-algorithm`), the certificate is downloaded and judged
 * (certificates.ts), and its RSA key verifies the PKCS#1 v1.5 SHA-256 signature of the raw body
 * bytes: the bytes as received, never a re-serialised JSON.
 *
 * Cheap checks come first, so that a request without a plausible signature never causes a download.
 * A failure is a reason code and a short detail in this module's words: never the signature, the
 * body, or a header's value (only a refused certificate URL's host, which operators need to see).
 *
 * Nothing here is compared against a secret: the signature and the certificate are public, and the
 * only comparison of signature bytes happens inside OpenSSL's verify. So no constant-time code is
 * needed, and a timing difference tells a caller nothing it could not read from the answer.
 */
import { constants, verify } from 'node:crypto';
import type { CertificateFailure, CertificateSource, SigningCertificate } from './certificates.js';

export type VerifyFailure = 'unsigned' | 'bad_algorithm' | CertificateFailure | 'bad_signature';

export type VerifyResult =
  | { readonly ok: true; readonly certificate: SigningCertificate }
  | { readonly ok: false; readonly reason: VerifyFailure; readonly detail: string };

/** Node's IncomingHttpHeaders (lower-case names) or the fetch Headers an Azure Functions v4 request has. */
export type EventHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export const SIGNATURE_ALGORITHM = 'rsa-sha256';
/** A 4096-bit RSA signature is 684 base64 characters; anything far longer is not one. */
const MAX_SIGNATURE_CHARS = 1024;
/** The auth scheme is case-insensitive (RFC 9110); the token is standard base64. */
const SIGNATURE = /^signature +([A-Za-z0-9+/]+={0,2})$/i;

export async function verifyEvent(
  rawBody: Buffer,
  headers: EventHeaders,
  certificates: CertificateSource,
): Promise<VerifyResult> {
  const signed = signedHeaders(headers);
  if ('reason' in signed) return signed;
  const first = await certificates.get(signed.certificateUrl);
  if (!first.ok) return refused(first.reason, first.why);
  if (signatureMatches(rawBody, signed.signature, first.certificate)) {
    return { ok: true, certificate: first.certificate };
  }
  // Partner Center may renew the certificate at the same URL: a cached one that is old enough is
  // downloaded again once before the signature is called bad.
  const renewed = await certificates.refresh(signed.certificateUrl);
  if (renewed?.ok && signatureMatches(rawBody, signed.signature, renewed.certificate)) {
    return { ok: true, certificate: renewed.certificate };
  }
  return refused('bad_signature', 'the signature does not match the body and certificate');
}

interface SignedHeaders {
  readonly signature: Buffer;
  readonly certificateUrl: string;
}

type Refused = { readonly ok: false; readonly reason: VerifyFailure; readonly detail: string };

/** The three headers, present and well formed, or why not. */
function signedHeaders(headers: EventHeaders): SignedHeaders | Refused {
  const signature = signatureHeader(headers);
  if (signature === undefined) return refused('unsigned', 'no Signature in x-ms-signature or Authorization');
  const parsed = signature.length <= MAX_SIGNATURE_CHARS ? SIGNATURE.exec(signature.trim()) : null;
  if (!parsed?.[1]) return refused('unsigned', 'the signature header is not `Signature <base64>`');
  const certificateUrl = headerValue(headers, 'x-ms-certificate-url');
  if (!certificateUrl) return refused('unsigned', 'no x-ms-certificate-url');
  const algorithm = headerValue(headers, 'x-ms-signature-algorithm');
  if (!algorithm) return refused('unsigned', 'no x-ms-signature-algorithm');
  if (algorithm.trim().toLowerCase() !== SIGNATURE_ALGORITHM) {
    return refused('bad_algorithm', `the algorithm is not ${SIGNATURE_ALGORITHM}`);
  }
  return { signature: Buffer.from(parsed[1], 'base64'), certificateUrl: certificateUrl.trim() };
}

/**
 * x-ms-signature when present (a registration that asked for it, typically because something in
 * front of the receiver owns Authorization), else Authorization. No fallback from a present but
 * malformed x-ms-signature: one request, one signature.
 */
function signatureHeader(headers: EventHeaders): string | undefined {
  return headerValue(headers, 'x-ms-signature') ?? headerValue(headers, 'authorization');
}

function signatureMatches(rawBody: Buffer, signature: Buffer, certificate: SigningCertificate): boolean {
  return verify('sha256', rawBody, { key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
}

function refused(reason: VerifyFailure, detail: string): Refused {
  return { ok: false, reason, detail };
}

/**
 * One header's value, or undefined when absent, empty or repeated: a repeated signature or
 * certificate URL is ambiguous, and fetch Headers join repeats with ", ", which then fails its parse.
 */
export function headerValue(headers: EventHeaders, name: string): string | undefined {
  const value = isFetchHeaders(headers) ? headers.get(name) : recordHeader(headers, name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isFetchHeaders(headers: EventHeaders): headers is { get(name: string): string | null } {
  return typeof headers.get === 'function';
}

function recordHeader(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  name: string,
): string | undefined {
  // Node lower-cases names; a hand-built record may not.
  const key = name in headers ? name : Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value as string | undefined;
}

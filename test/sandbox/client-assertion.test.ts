import { constants, createHash, createSign, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyClientAssertion } from '../../sandbox/client-assertion.js';
import { loadOrCreateTls, type SandboxTls } from '../../sandbox/tls.js';

let tls: SandboxTls;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'assertion-'));
  tls = await loadOrCreateTls(work);
});
afterAll(() => rm(work, { recursive: true, force: true }));

const AUD = 'https://127.0.0.1:1/tenant/oauth2/v2.0/token';

function assertion(
  claims: Record<string, unknown>,
  options: { alg?: 'PS256' | 'RS256'; key?: string; thumb?: string } = {},
) {
  const pem = readFileSync(tls.clientCertFile, 'utf8');
  const key = options.key ?? /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0] ?? '';
  const thumb =
    options.thumb ?? createHash('sha256').update(new X509Certificate(tls.clientCertPem).raw).digest('base64url');
  const alg = options.alg ?? 'PS256';
  const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT', 'x5t#S256': thumb })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const data = Buffer.from(`${head}.${body}`);
  const sig =
    alg === 'PS256'
      ? sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : createSign('sha256').update(data).sign(key);
  return `${head}.${body}.${sig.toString('base64url')}`;
}

const valid = { iss: 'app', sub: 'app', aud: AUD, exp: 2_000_000_000, jti: 'x' };
const expected = { clientId: 'app', audiences: [AUD], nowSeconds: 1_900_000_000 };

describe('verifyClientAssertion', () => {
  it('accepts PS256 and RS256 assertions signed with the registered key', () => {
    expect(verifyClientAssertion(assertion(valid), { certificatePem: tls.clientCertPem }, expected)).toEqual({
      ok: true,
    });
    expect(
      verifyClientAssertion(assertion(valid, { alg: 'RS256' }), { certificatePem: tls.clientCertPem }, expected),
    ).toEqual({
      ok: true,
    });
  });

  it.each([
    [
      'another key',
      () =>
        assertion(valid, {
          key: generateKeyPairSync('rsa', { modulusLength: 2048 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        }),
      /signature/,
    ],
    ['another thumbprint', () => assertion(valid, { thumb: 'AAAA' }), /not registered/],
    ['a wrong audience', () => assertion({ ...valid, aud: 'https://elsewhere/token' }), /audience/],
    ['another client', () => assertion({ ...valid, iss: 'other', sub: 'other' }), /client id/],
    ['an expired assertion', () => assertion({ ...valid, exp: 1_800_000_000 }), /expired/],
    ['garbage', () => 'not-a-jwt', /not a JWT/],
  ])('refuses %s', (_label, make, reason) => {
    const check = verifyClientAssertion(make(), { certificatePem: tls.clientCertPem }, expected);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });
});

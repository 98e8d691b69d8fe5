/**
 * The sandbox identity provider, driven by the real @azure/msal-node over HTTPS on 127.0.0.1: proves the
 * app's MSAL setup works offline and unchanged, and pins the MSAL 7 behaviours the app relies on
 * (forceCache for rotated refresh tokens, cache write-back, no instance discovery with knownAuthorities).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthError,
  ConfidentialClientApplication,
  type Configuration,
  type DeviceCodeRequest,
  type INetworkModule,
  type NetworkRequestOptions,
  PublicClientApplication,
} from '@azure/msal-node';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdentityOptions, IdentityProvider, type SandboxUser } from '../../sandbox/identity.js';
import { loadOrCreateTls, type SandboxTls } from '../../sandbox/tls.js';
import { createMsalNetworkClient, type MsalNetworkClient } from '../../src/source/auth/network-client.js';

const TENANT_ID = '6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const CLIENT_ID = '0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d';
const CLIENT_SECRET = 'sandbox-Secret~value.0123456789';
const PC_SCOPE = 'https://api.partner.microsoft.com/user_impersonation';
const PC_DEFAULT_SCOPE = 'https://api.partner.microsoft.com/.default';
const USERS: SandboxUser[] = [
  { oid: '11111111-1111-4111-8111-111111111111', email: 'ada.admin@contoso.example', name: 'Ada Admin', role: 'admin' },
  { oid: '22222222-2222-4222-8222-222222222222', email: 'uma.user@contoso.example', name: 'Uma User', role: 'user' },
  {
    oid: '33333333-3333-4333-8333-333333333333',
    email: 'nia.norole@contoso.example',
    name: 'Nia Norole',
    role: 'none',
  },
];

type DeviceCodeInfo = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];
type Json = Record<string, unknown>;

interface Sandbox {
  provider: IdentityProvider;
  origin: string;
  /** host:port, the form MSAL's knownAuthorities compares with. */
  host: string;
  /** Paths the server received, in order. */
  paths: string[];
  close(): Promise<void>;
}

let tlsDir: string;
let tls: SandboxTls;
let network: MsalNetworkClient;
/** Every URL MSAL asked the network client for, across all tests. */
const msalUrls: string[] = [];
let recordingNetwork: INetworkModule;
/** Auto-approves device codes after 300 ms. */
let sandbox: Sandbox;
/** Approves device codes only by hand, and has a clock the tests can move. */
let manual: Sandbox;
let manualSkewMs = 0;

async function startSandbox(options: Partial<IdentityOptions>): Promise<Sandbox> {
  const provider = await IdentityProvider.create({
    tenantId: TENANT_ID,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    users: USERS,
    ...options,
  });
  const paths: string[] = [];
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    paths.push(url.pathname);
    provider.handle(req, res, url).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `https://127.0.0.1:${port}`;
  provider.setIssuerOrigin(origin);
  return {
    provider,
    origin,
    host: `127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Records the URLs MSAL calls, so the test can show nothing left loopback. */
function recording(inner: INetworkModule, urls: string[]): INetworkModule {
  return {
    sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number) {
      urls.push(url);
      return inner.sendGetRequestAsync<T>(url, options, timeout);
    },
    sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions) {
      urls.push(url);
      return inner.sendPostRequestAsync<T>(url, options);
    },
  };
}

function msalConfig(target: Sandbox, clientSecret = CLIENT_SECRET): Configuration {
  return {
    auth: {
      clientId: CLIENT_ID,
      authority: `${target.origin}/${TENANT_ID}`,
      clientSecret,
      // Host and port, no scheme: this alone stops MSAL's instance discovery call to login.microsoftonline.com.
      knownAuthorities: [target.host],
    },
    system: { networkClient: recordingNetwork },
  };
}

function confidentialApp(target: Sandbox = sandbox, clientSecret = CLIENT_SECRET): ConfidentialClientApplication {
  return new ConfidentialClientApplication(msalConfig(target, clientSecret));
}

/** Device code is a public-client flow: MSAL only has acquireTokenByDeviceCode on PublicClientApplication. */
function publicApp(target: Sandbox): PublicClientApplication {
  const { clientSecret: _ignored, ...auth } = msalConfig(target).auth;
  return new PublicClientApplication({ auth, system: { networkClient: recordingNetwork } });
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Json }> {
  const response = await network.sendPostRequestAsync<Json>(url, {
    body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
  });
  return { status: response.status, body: response.body };
}

/** A browser-style form post (HTML answer), for the /devicelogin page. */
function postPage(url: string, form: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', ca: tls.caCertPem, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(new URLSearchParams(form).toString());
  });
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('expected the promise to reject');
}

beforeAll(async () => {
  tlsDir = await mkdtemp(join(tmpdir(), 'identity-test-'));
  tls = await loadOrCreateTls(tlsDir);
  network = createMsalNetworkClient({ caPem: tls.caCertPem, timeoutMs: 10_000 });
  recordingNetwork = recording(network, msalUrls);
  sandbox = await startSandbox({ deviceCodeAutoApproveMs: 300 });
  manual = await startSandbox({ deviceCodeAutoApproveMs: null, now: () => Date.now() + manualSkewMs });
});

afterAll(async () => {
  network?.close();
  await sandbox?.close();
  await manual?.close();
  if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('serves the OpenID configuration MSAL validates, and the signing keys', async () => {
    const config = await network.sendGetRequestAsync<Json>(
      `${sandbox.origin}/${TENANT_ID}/v2.0/.well-known/openid-configuration`,
    );
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      issuer: `${sandbox.origin}/${TENANT_ID}/v2.0`,
      authorization_endpoint: `${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/authorize`,
      token_endpoint: `${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/devicecode`,
      jwks_uri: `${sandbox.origin}/${TENANT_ID}/discovery/v2.0/keys`,
      end_session_endpoint: `${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/logout`,
    });
    const keys = await network.sendGetRequestAsync<{ keys: Json[] }>(String(config.body.jwks_uri));
    expect(keys.body.keys).toHaveLength(1);
    expect(keys.body.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
  });

  it('accepts common/organizations and refuses an unknown tenant in Entra error shape', async () => {
    const common = await network.sendGetRequestAsync<Json>(
      `${sandbox.origin}/organizations/v2.0/.well-known/openid-configuration`,
    );
    expect(common.body.issuer).toBe(`${sandbox.origin}/{tenantid}/v2.0`);
    const unknown = await network.sendGetRequestAsync<Json>(
      `${sandbox.origin}/fabrikam.example/v2.0/.well-known/openid-configuration`,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
    expect(String(unknown.body.error_description)).toMatch(/^AADSTS90002: /);
    expect(unknown.body).toHaveProperty('trace_id');
    expect(unknown.body).toHaveProperty('correlation_id');
  });

  it('accepts a verified domain of the tenant in place of its id; the issuer and the MSAL account name the id', async () => {
    const named = await startSandbox({ domains: ['Contoso.example'] });
    try {
      const config = await network.sendGetRequestAsync<Json>(
        `${named.origin}/contoso.example/v2.0/.well-known/openid-configuration`,
      );
      expect(config.status).toBe(200);
      expect(config.body).toMatchObject({
        issuer: `${named.origin}/${TENANT_ID}/v2.0`,
        token_endpoint: `${named.origin}/contoso.example/oauth2/v2.0/token`,
      });
      const base = msalConfig(named);
      const app = new ConfidentialClientApplication({
        ...base,
        auth: { ...base.auth, authority: `${named.origin}/contoso.example` },
      });
      const result = await app.acquireTokenByRefreshToken({
        refreshToken: named.provider.issueBootstrapRefreshToken(),
        scopes: [PC_SCOPE],
        forceCache: true,
      });
      expect(result?.account).toMatchObject({ tenantId: TENANT_ID, environment: named.host });
      const other = await network.sendGetRequestAsync<Json>(
        `${named.origin}/fabrikam.example/v2.0/.well-known/openid-configuration`,
      );
      expect(other.body).toMatchObject({ error: 'invalid_tenant' });
      expect(String(other.body.error_description)).toContain("domain 'contoso.example'");
    } finally {
      await named.close();
    }
  });

  it('leaves other paths to the caller', async () => {
    const response = await network.sendGetRequestAsync<Json>(`${sandbox.origin}/v1.0/engagements/referrals`);
    expect(response).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(sandbox.paths).toContain('/v1.0/engagements/referrals');
  });
});

describe('refresh tokens through MSAL', () => {
  it('redeems the bootstrap token, refreshes with the rotated token from the cache, and refuses the bootstrap again', async () => {
    const bootstrap = sandbox.provider.issueBootstrapRefreshToken();
    const app = confidentialApp();
    const first = await app.acquireTokenByRefreshToken({
      refreshToken: bootstrap,
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    expect(first?.account?.username).toBe(USERS[0]?.email);
    expect(first?.account?.tenantId).toBe(TENANT_ID);
    const firstCheck = await sandbox.provider.verifyAccessToken(`Bearer ${first?.accessToken}`);
    expect(firstCheck).toMatchObject({ ok: true, appOnly: false, user: { email: USERS[0]?.email, role: 'admin' } });

    // The cache holds the rotated refresh token, not the bootstrap one.
    const serialized = app.getTokenCache().serialize();
    expect(serialized).not.toContain(bootstrap);
    expect(Object.keys(JSON.parse(serialized).RefreshToken)).toHaveLength(1);

    const account = first?.account;
    if (!account) throw new Error('no account');
    const refreshesBefore = sandbox.provider.stats.refreshes;
    const second = await app.acquireTokenSilent({ account, scopes: [PC_SCOPE], forceRefresh: true });
    expect(second.fromCache).toBe(false);
    expect(second.accessToken).not.toBe(first?.accessToken);
    expect(sandbox.provider.stats.refreshes).toBe(refreshesBefore + 1);
    expect((await sandbox.provider.verifyAccessToken(`Bearer ${second.accessToken}`)).ok).toBe(true);

    const invalidBefore = sandbox.provider.stats.invalidGrants;
    const reuse = await rejection(
      confidentialApp().acquireTokenByRefreshToken({ refreshToken: bootstrap, scopes: [PC_SCOPE], forceCache: true }),
    );
    expect(reuse.errorCode).toBe('invalid_grant');
    expect(reuse.message).toContain('AADSTS70000');
    expect(reuse.message).not.toContain(bootstrap);
    expect(sandbox.provider.stats.invalidGrants).toBe(invalidBefore + 1);
  });

  it('MSAL 7 drops the rotated refresh token without forceCache (so the app must pass it)', async () => {
    const bootstrap = sandbox.provider.issueBootstrapRefreshToken();
    const app = confidentialApp();
    const result = await app.acquireTokenByRefreshToken({ refreshToken: bootstrap, scopes: [PC_SCOPE] });
    expect(result?.accessToken).toBeTruthy();
    // The account was not in the cache, so MSAL stored nothing: the new refresh token is lost and the old one is spent.
    expect(await app.getTokenCache().getAllAccounts()).toHaveLength(0);
    expect(JSON.parse(app.getTokenCache().serialize()).RefreshToken).toEqual({});
  });

  it('a new process can work from the serialized cache alone; the cache it did not write back is then stale', async () => {
    const firstProcess = confidentialApp();
    await firstProcess.acquireTokenByRefreshToken({
      refreshToken: sandbox.provider.issueBootstrapRefreshToken(),
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    const persisted = firstProcess.getTokenCache().serialize();

    const nextProcess = confidentialApp();
    nextProcess.getTokenCache().deserialize(persisted);
    const [account] = await nextProcess.getTokenCache().getAllAccounts();
    if (!account) throw new Error('no account in the persisted cache');
    const cached = await nextProcess.acquireTokenSilent({ account, scopes: [PC_SCOPE] });
    expect(cached.fromCache).toBe(true);
    const refreshed = await nextProcess.acquireTokenSilent({ account, scopes: [PC_SCOPE], forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect((await sandbox.provider.verifyAccessToken(`Bearer ${refreshed.accessToken}`)).ok).toBe(true);
    expect(nextProcess.getTokenCache().serialize()).not.toBe(persisted);

    // The first process still holds the refresh token the second one rotated away.
    const [staleAccount] = await firstProcess.getTokenCache().getAllAccounts();
    if (!staleAccount) throw new Error('no account');
    const stale = await rejection(
      firstProcess.acquireTokenSilent({ account: staleAccount, scopes: [PC_SCOPE], forceRefresh: true }),
    );
    expect(stale.errorCode).toBe('invalid_grant');
  });

  it('a refresh token issued to the confidential client cannot be redeemed without the secret', async () => {
    const tokenUrl = `${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token`;
    const withSecret = await postForm(tokenUrl, {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: sandbox.provider.issueBootstrapRefreshToken(),
      scope: `${PC_SCOPE} offline_access`,
    });
    expect(withSecret.status).toBe(200);
    expect(withSecret.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: `${PC_SCOPE} offline_access`,
    });
    expect(withSecret.body).not.toHaveProperty('id_token');
    const withoutSecret = await postForm(tokenUrl, {
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: String(withSecret.body.refresh_token),
      scope: PC_SCOPE,
    });
    expect(withoutSecret.status).toBe(401);
    expect(withoutSecret.body).toMatchObject({ error: 'invalid_client', error_codes: [7000218] });
  });
});

describe('device code flow through MSAL', () => {
  it('completes when the sandbox auto-approves, after telling the user where to go', async () => {
    let shown: DeviceCodeInfo | undefined;
    const started = Date.now();
    const result = await publicApp(sandbox).acquireTokenByDeviceCode({
      scopes: [PC_SCOPE],
      deviceCodeCallback: (info) => {
        shown = info;
      },
    });
    expect(shown?.userCode).toMatch(/^[A-Z2-9]{9}$/);
    expect(shown?.verificationUri).toBe(`${sandbox.origin}/devicelogin`);
    expect(shown?.message).toContain(shown?.userCode ?? '?');
    expect(shown?.interval).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result?.account?.username).toBe(USERS[0]?.email);
    expect((await sandbox.provider.verifyAccessToken(`Bearer ${result?.accessToken}`)).ok).toBe(true);
    expect(sandbox.provider.stats.byGrant.device_code).toBeGreaterThanOrEqual(2); // a pending poll, then the token
  });

  it('completes for the user who approves the code by hand', async () => {
    let approved: boolean | undefined;
    const pca = publicApp(manual);
    const result = await pca.acquireTokenByDeviceCode({
      scopes: [PC_SCOPE],
      deviceCodeCallback: (info) => {
        setTimeout(() => {
          approved = manual.provider.approveDeviceCode(info.userCode, 1);
        }, 1_200);
      },
    });
    expect(approved).toBe(true);
    expect(result?.account?.username).toBe(USERS[1]?.email);
    const check = await manual.provider.verifyAccessToken(`Bearer ${result?.accessToken}`);
    expect(check).toMatchObject({ ok: true, user: { role: 'user' } });
    expect(manual.provider.approveDeviceCode('NOSUCHCODE')).toBe(false);

    // The refresh token from a public-client sign-in keeps working for the confidential app (one app registration).
    const app = confidentialApp(manual);
    app.getTokenCache().deserialize(pca.getTokenCache().serialize());
    const [account] = await app.getTokenCache().getAllAccounts();
    if (!account) throw new Error('no account');
    expect(
      (await app.acquireTokenSilent({ account, scopes: [PC_SCOPE], forceRefresh: true })).accessToken,
    ).toBeTruthy();
  });

  it('answers authorization_pending, then expired_token once the code outlives its 15 minutes', async () => {
    const base = `${manual.origin}/${TENANT_ID}/oauth2/v2.0`;
    const issued = await postForm(`${base}/devicecode`, { client_id: CLIENT_ID, scope: `${PC_SCOPE} offline_access` });
    expect(issued.body).toMatchObject({ expires_in: 900, interval: 1 });
    const poll = {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: CLIENT_ID,
      device_code: String(issued.body.device_code),
    };
    const pending = await postForm(`${base}/token`, poll);
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({ error: 'authorization_pending', error_codes: [70016] });
    manualSkewMs = 16 * 60_000;
    try {
      const expired = await postForm(`${base}/token`, poll);
      expect(expired.body).toMatchObject({ error: 'expired_token', error_codes: [70019] });
      expect(manual.provider.approveDeviceCode(String(issued.body.user_code))).toBe(false);
    } finally {
      manualSkewMs = 0;
    }
  });
});

describe('the /devicelogin page', () => {
  it('approves a code for the chosen user, once', async () => {
    const base = `${manual.origin}/${TENANT_ID}/oauth2/v2.0`;
    const issued = await postForm(`${base}/devicecode`, {
      client_id: CLIENT_ID,
      scope: `${PC_SCOPE} openid offline_access`,
    });
    const userCode = String(issued.body.user_code);
    const form = { user_code: userCode.toLowerCase(), user: USERS[1]?.email ?? '' };
    const approved = await postPage(`${manual.origin}/devicelogin`, form);
    expect(approved.status).toBe(200);
    expect(approved.text).toContain(USERS[1]?.email);
    expect((await postPage(`${manual.origin}/devicelogin`, form)).status).toBe(400);

    const poll = {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: CLIENT_ID,
      device_code: String(issued.body.device_code),
    };
    const tokens = await postForm(`${base}/token`, poll);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toHaveProperty('id_token');
    expect(tokens.body).not.toHaveProperty('client_info'); // only when asked with client_info=1, as MSAL does
    const again = await postForm(`${base}/token`, poll);
    expect(again.body).toMatchObject({ error: 'invalid_grant', error_codes: [70000] });
  });
});

describe('client authentication', () => {
  it('a wrong client secret fails with invalid_client and the secret appears nowhere in the error', async () => {
    const wrongSecret = 'wrong-Secret~value.9876543210';
    const bootstrap = sandbox.provider.issueBootstrapRefreshToken();
    const error = await rejection(
      confidentialApp(sandbox, wrongSecret).acquireTokenByRefreshToken({
        refreshToken: bootstrap,
        scopes: [PC_SCOPE],
        forceCache: true,
      }),
    );
    expect(error.errorCode).toBe('invalid_client');
    expect(error.message).toContain('AADSTS7000215');
    const everything = `${error.message} ${error.stack} ${JSON.stringify(error)}`;
    for (const secret of [wrongSecret, CLIENT_SECRET, bootstrap]) expect(everything).not.toContain(secret);

    // A refused client does not spend the refresh token.
    const ok = await confidentialApp().acquireTokenByRefreshToken({
      refreshToken: bootstrap,
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    expect(ok?.accessToken).toBeTruthy();
  });

  it('refuses a client assertion when the app has no certificate registered', async () => {
    const response = await postForm(`${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
      scope: PC_DEFAULT_SCOPE,
    });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(String(response.body.error_description)).toMatch(/no certificate is registered/);
  });

  it('refuses an unknown application', async () => {
    const response = await postForm(`${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: '99999999-9999-4999-8999-999999999999',
      client_secret: CLIENT_SECRET,
      scope: PC_DEFAULT_SCOPE,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
  });
});

describe('access token checks for the Referrals API', () => {
  it('expireAccessTokens makes every issued token fail; a forced refresh gets a good one', async () => {
    const app = confidentialApp();
    const result = await app.acquireTokenByRefreshToken({
      refreshToken: sandbox.provider.issueBootstrapRefreshToken(),
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    const header = `Bearer ${result?.accessToken}`;
    expect((await sandbox.provider.verifyAccessToken(header)).ok).toBe(true);
    sandbox.provider.expireAccessTokens();
    const check = await sandbox.provider.verifyAccessToken(header);
    expect(check).toMatchObject({ ok: false, status: 401, error: 'invalid_token', reason: 'expired' });
    if (check.ok) throw new Error('unreachable');
    expect(check.wwwAuthenticate).toMatch(
      /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\/.+", error="invalid_token"/,
    );

    // MSAL cannot know: a plain silent call still returns the cached (now refused) token.
    const account = result?.account;
    if (!account) throw new Error('no account');
    const cached = await app.acquireTokenSilent({ account, scopes: [PC_SCOPE] });
    expect(cached.fromCache).toBe(true);
    expect((await sandbox.provider.verifyAccessToken(`Bearer ${cached.accessToken}`)).ok).toBe(false);
    const fresh = await app.acquireTokenSilent({ account, scopes: [PC_SCOPE], forceRefresh: true });
    expect((await sandbox.provider.verifyAccessToken(`Bearer ${fresh.accessToken}`)).ok).toBe(true);
  });

  it('a token past its exp is refused', async () => {
    const result = await confidentialApp(manual).acquireTokenByRefreshToken({
      refreshToken: manual.provider.issueBootstrapRefreshToken(),
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    manualSkewMs = 2 * 3600_000;
    try {
      const check = await manual.provider.verifyAccessToken(`Bearer ${result?.accessToken}`);
      expect(check).toMatchObject({ ok: false, status: 401, reason: 'expired' });
    } finally {
      manualSkewMs = 0;
    }
  });

  it('an app-only token (client credentials) is issued but refused with 403', async () => {
    const result = await confidentialApp().acquireTokenByClientCredential({ scopes: [PC_DEFAULT_SCOPE] });
    expect(result?.accessToken).toBeTruthy();
    const check = await sandbox.provider.verifyAccessToken(`Bearer ${result?.accessToken}`);
    expect(check).toMatchObject({ ok: false, status: 403, error: 'insufficient_scope', reason: 'app_only' });
    expect(sandbox.provider.stats.byGrant.client_credentials).toBeGreaterThanOrEqual(1);

    const notDefault = await rejection(confidentialApp().acquireTokenByClientCredential({ scopes: [PC_SCOPE] }));
    expect(notDefault.errorCode).toBe('invalid_scope');
  });

  it('a user without a Referrals role is refused with 403', async () => {
    const result = await confidentialApp().acquireTokenByRefreshToken({
      refreshToken: sandbox.provider.issueBootstrapRefreshToken(2),
      scopes: [PC_SCOPE],
      forceCache: true,
    });
    const check = await sandbox.provider.verifyAccessToken(`Bearer ${result?.accessToken}`);
    expect(check).toMatchObject({ ok: false, status: 403, reason: 'no_role' });
    if (check.ok) throw new Error('unreachable');
    expect(check.description).toContain('Referrals admin');
  });

  it('refuses missing, malformed and foreign-signed tokens with 401', async () => {
    expect(await sandbox.provider.verifyAccessToken(undefined)).toMatchObject({
      ok: false,
      status: 401,
      error: 'invalid_token',
      reason: 'missing',
    });
    expect(await sandbox.provider.verifyAccessToken('Basic abc')).toMatchObject({ status: 401, reason: 'malformed' });
    expect(await sandbox.provider.verifyAccessToken('Bearer not.a.jwt')).toMatchObject({
      status: 401,
      reason: 'malformed',
    });
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ tid: TENANT_ID, oid: USERS[0]?.oid, scp: 'user_impersonation', jti: 'x' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(`${sandbox.origin}/${TENANT_ID}/v2.0`)
      .setAudience('https://api.partner.microsoft.com')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(await sandbox.provider.verifyAccessToken(`Bearer ${forged}`)).toMatchObject({
      status: 401,
      reason: 'bad_signature',
    });
  });
});

describe('network client', () => {
  it('without the sandbox CA the TLS handshake fails, as a network_error naming host and path only', async () => {
    const untrusting = createMsalNetworkClient({ timeoutMs: 5_000 });
    try {
      const error = await rejection(
        untrusting.sendPostRequestAsync(`${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token?client-request-id=abc`, {
          body: `client_secret=${CLIENT_SECRET}`,
        }),
      );
      expect(error.errorCode).toBe('network_error');
      expect(error.message).toContain(`${sandbox.origin}/${TENANT_ID}/oauth2/v2.0/token failed:`);
      expect(error.message).not.toContain('client-request-id');
      expect(error.message).not.toContain(CLIENT_SECRET);
    } finally {
      untrusting.close();
    }
  });

  it('times out a server that never answers', async () => {
    const silent = createServer({ cert: tls.certPem, key: tls.keyPem }, () => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const client = createMsalNetworkClient({ caPem: tls.caCertPem, timeoutMs: 300 });
    try {
      const error = await rejection(
        client.sendGetRequestAsync(`https://127.0.0.1:${port}/t/v2.0/.well-known/openid-configuration`),
      );
      expect(error.errorCode).toBe('network_error');
      expect(error.message).toMatch(/timed out after 300 ms/);
    } finally {
      client.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('offline', () => {
  it('MSAL only ever called the loopback sandboxes and never did instance discovery', () => {
    expect(msalUrls.length).toBeGreaterThan(10);
    for (const url of msalUrls) expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(msalUrls.some((url) => url.includes('/v2.0/.well-known/openid-configuration'))).toBe(true);
    expect(msalUrls.some((url) => url.includes('discovery/instance'))).toBe(false);
  });
});

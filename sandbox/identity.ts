/**
 * The sandbox's stand-in for the Microsoft Entra ID v2.0 endpoints: OpenID configuration, signing keys,
 * device code and token endpoints, plus the access-token check the sandbox Referrals API uses.
 *
 * It aims to be faithful where a real client can trip: MSAL needs the OpenID document fields it
 * validates, errors come in Entra's JSON shape with AADSTS codes, refresh tokens rotate (a reused one
 * gets invalid_grant, so an app that forgets to write its token cache back fails here, not in
 * production), app-only tokens are issued but refused by the API (the Referrals call is app + user),
 * and Partner Center roles decide 403s. It is not a security boundary: one tenant, one app, a
 * throwaway in-memory RSA key. Tokens and secrets are never logged or echoed.
 */

import {
  createHash,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { verifyClientAssertion } from './client-assertion.js';

export type PartnerCenterRole = 'admin' | 'user' | 'none';

export interface SandboxUser {
  oid: string;
  email: string;
  name: string;
  /** Partner Center role: Referrals admin, Referrals user, or none (signs in, but the API answers 403). */
  role: PartnerCenterRole;
}

export interface IdentityOptions {
  tenantId: string;
  /** Verified domain names of the tenant: as in Entra, an endpoint's tenant segment may be one instead of the id. */
  domains?: readonly string[];
  clientId: string;
  clientSecret: string;
  /** A certificate registered for the app (PEM): client assertions signed with its key are accepted. */
  clientCertificatePem?: string;
  /** The first user is the seeded one: bootstrap refresh tokens and auto-approved device codes are theirs. */
  users: SandboxUser[];
  /** Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** The sandbox approves a device code itself this long after issuing it; null (default) = only approveDeviceCode or the /devicelogin page. */
  deviceCodeAutoApproveMs?: number | null;
  /** Default 900, as Entra. */
  deviceCodeLifetimeSeconds?: number;
  /** A refresh token unused this long is refused (Entra: 90 days). */
  refreshTokenInactivitySeconds?: number;
  /** e.g. https://127.0.0.1:54321; can also be set later (setIssuerOrigin) or is taken from the first request's Host. */
  issuerOrigin?: string;
  /** Millisecond clock, for tests. */
  now?: () => number;
}

export interface IdentityStats {
  /** Every request to the token endpoint, good or bad. */
  tokenRequests: number;
  /** Token requests by grant: 'refresh_token', 'device_code', 'client_credentials', or the raw grant_type. */
  byGrant: Record<string, number>;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Device codes handed out. */
  deviceCodes: number;
  /** invalid_grant answers (reused, unknown or expired grants). */
  invalidGrants: number;
}

/** Why a token was refused, for tests and logs (the API's error body should use `description`). */
export type TokenRejectReason =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'wrong_tenant'
  | 'unknown_user'
  | 'app_only'
  | 'missing_scope'
  | 'no_role';

export type AccessTokenCheck =
  | { ok: true; user: SandboxUser; appOnly: false }
  | {
      ok: false;
      status: 401 | 403;
      /** RFC 6750 code, for WWW-Authenticate. */
      error: 'invalid_token' | 'insufficient_scope';
      reason: TokenRejectReason;
      description: string;
      /** A ready WWW-Authenticate header value. */
      wwwAuthenticate: string;
    };

export const PARTNER_CENTER_RESOURCE = 'https://api.partner.microsoft.com';
export const PARTNER_CENTER_USER_SCOPE = `${PARTNER_CENTER_RESOURCE}/user_impersonation`;
export const PARTNER_CENTER_DEFAULT_SCOPE = `${PARTNER_CENTER_RESOURCE}/.default`;

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const PUBLIC_TENANTS = new Set(['common', 'organizations']);
const MAX_FORM_BYTES = 64 * 1024;
/** MSAL sleeps `interval` seconds between polls; Entra says 5, the sandbox 1 so tests stay quick. */
const DEVICE_CODE_INTERVAL_SECONDS = 1;
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

interface RefreshGrant {
  oid: string;
  /** Issued to an authenticated (confidential) client: redeeming it needs the client secret again. */
  confidential: boolean;
  issuedAtMs: number;
  redeemed: boolean;
}

interface DeviceCodeGrant {
  deviceCode: string;
  userCode: string;
  scope: string;
  createdAtMs: number;
  expiresAtMs: number;
  approvedOid: string | null;
  redeemed: boolean;
}

interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri?: string;
}

/** A failed grant or client check: the status and the Entra-shaped error to send. */
interface Refusal {
  status: number;
  error: string;
  code: number;
  message: string;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

interface ClientAuth {
  confidential: boolean;
}

interface RequestContext {
  tenant: string;
  clientRequestId: string;
}

type TenantRouteKind = 'openid' | 'keys' | 'token' | 'devicecode' | 'authorize' | 'logout';
type Route = { kind: TenantRouteKind; tenant: string } | { kind: 'devicelogin' };

class BodyTooLargeError extends Error {}

export class IdentityProvider {
  private readonly tenantId: string;
  private readonly domains: ReadonlySet<string>;
  private readonly clientId: string;
  private readonly secretDigest: Buffer;
  private readonly users: readonly SandboxUser[];
  private readonly accessTokenLifetimeSeconds: number;
  private readonly deviceCodeAutoApproveMs: number | null;
  private readonly deviceCodeLifetimeSeconds: number;
  private readonly refreshTokenInactivityMs: number;
  private readonly now: () => number;
  private readonly key: SigningKey;
  private issuerOrigin: string | undefined;
  private readonly clientCertificatePem: string | undefined;

  /** Keyed by a hash of the token so a heap dump or debugger view shows no usable token. */
  private readonly refreshGrants = new Map<string, RefreshGrant>();
  private readonly deviceCodes = new Map<string, DeviceCodeGrant>();
  /** jti → issue sequence; expireAccessTokens() moves the cut-off so earlier tokens fail even before `exp`. */
  private readonly accessTokenSequence = new Map<string, number>();
  private issuedAccessTokens = 0;
  private expiredThroughSequence = 0;
  private readonly counters: IdentityStats = {
    tokenRequests: 0,
    byGrant: {},
    refreshes: 0,
    deviceCodes: 0,
    invalidGrants: 0,
  };

  constructor(options: IdentityOptions, signingKey?: { privateKey: KeyObject; publicKey: KeyObject }) {
    if (options.users.length === 0) throw new RangeError('IdentityProvider needs at least one user');
    this.tenantId = options.tenantId;
    this.domains = new Set((options.domains ?? []).map((d) => d.toLowerCase()));
    this.clientId = options.clientId;
    this.secretDigest = sha256(options.clientSecret);
    this.clientCertificatePem = options.clientCertificatePem;
    this.users = [...options.users];
    this.accessTokenLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3600;
    this.deviceCodeAutoApproveMs = options.deviceCodeAutoApproveMs ?? null;
    this.deviceCodeLifetimeSeconds = options.deviceCodeLifetimeSeconds ?? 900;
    this.refreshTokenInactivityMs = (options.refreshTokenInactivitySeconds ?? 90 * 86_400) * 1000;
    this.now = options.now ?? Date.now;
    this.key = withKid(signingKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }));
    if (options.issuerOrigin) this.setIssuerOrigin(options.issuerOrigin);
  }

  /** Like the constructor, but makes the RSA key off the event loop. */
  static async create(options: IdentityOptions): Promise<IdentityProvider> {
    const pair = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    return new IdentityProvider(options, pair);
  }

  /** The origin the server listens on; tokens and the OpenID document name it. */
  setIssuerOrigin(origin: string): void {
    this.issuerOrigin = new URL(origin).origin;
  }

  /** Without setIssuerOrigin, the first request's Host decides (the server may not know its port up front). */
  private adoptOriginFromHost(host: string | undefined): void {
    if (!host) return;
    try {
      this.setIssuerOrigin(`https://${host}`);
    } catch {
      // A malformed Host leaves the origin unset; the next request may carry a usable one.
    }
  }

  get stats(): IdentityStats {
    return { ...this.counters, byGrant: { ...this.counters.byGrant } };
  }

  /** Handles the request if it is an identity route; returns false otherwise (the caller answers it). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const route = matchRoute(url.pathname);
    if (!route) return false;
    if (!this.issuerOrigin) this.adoptOriginFromHost(req.headers.host);
    const clientRequestId = headerValue(req, 'client-request-id') ?? randomUUID();
    try {
      if (route.kind === 'devicelogin') {
        await this.deviceLoginPage(req, res);
        return true;
      }
      const ctx: RequestContext = { tenant: route.tenant, clientRequestId };
      if (!this.isServedTenant(route.tenant)) {
        const refusal = refuse(
          400,
          'invalid_tenant',
          90002,
          `Tenant '${route.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. The sandbox serves tenant '${this.tenantId}'${this.domainList()} (or 'common'/'organizations').`,
        );
        this.sendRefusal(res, refusal, ctx);
        return true;
      }
      await this.dispatch(route.kind, req, res, ctx);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      sendJson(res, 413, { error: 'invalid_request', error_description: 'Request body too large.' }, clientRequestId);
    }
    return true;
  }

  /** Checks an Authorization header for the Referrals API: a delegated token of a user with a Referrals role. */
  async verifyAccessToken(authorization: string | undefined): Promise<AccessTokenCheck> {
    if (!authorization?.trim()) {
      return this.reject(
        401,
        'missing',
        'Authorization header is missing. Send "Authorization: Bearer <access token>".',
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    const token = match?.[1];
    if (!token) return this.reject(401, 'malformed', 'Authorization header is not a Bearer token.');
    const verified = await this.verifySignatureAndClaims(token);
    if (!verified.ok) return verified.rejection;
    return this.checkAuthorization(verified.claims);
  }

  /** A valid refresh token for `users[userIndex]`, as if that user had signed in once with the device code flow. */
  issueBootstrapRefreshToken(userIndex = 0): string {
    return this.issueRefreshToken(this.userAt(userIndex).oid, false);
  }

  /** Every access token issued so far now fails verification (the fault "token expired mid-run"). */
  expireAccessTokens(): void {
    this.expiredThroughSequence = this.issuedAccessTokens;
  }

  /** Signs in `users[userIndex]` on a pending device code; false when the code is unknown, expired or already approved. */
  approveDeviceCode(userCode: string, userIndex = 0): boolean {
    const user = this.userAt(userIndex);
    const grant = this.findDeviceCodeByUserCode(userCode);
    if (!grant || grant.redeemed || grant.approvedOid || this.now() >= grant.expiresAtMs) return false;
    grant.approvedOid = user.oid;
    return true;
  }

  private async dispatch(kind: TenantRouteKind, req: IncomingMessage, res: ServerResponse, ctx: RequestContext) {
    switch (kind) {
      case 'openid':
        sendJson(res, 200, this.openIdConfiguration(ctx.tenant), ctx.clientRequestId);
        return;
      case 'keys':
        sendJson(res, 200, this.jwks(), ctx.clientRequestId);
        return;
      case 'token':
        await this.tokenEndpoint(req, res, ctx);
        return;
      case 'devicecode':
        await this.deviceCodeEndpoint(req, res, ctx);
        return;
      case 'authorize':
        // Interactive sign-in would need a browser round trip; the app's headless flow is device code.
        this.sendRefusal(
          res,
          refuse(
            400,
            'invalid_request',
            9002313,
            'The sandbox does not support interactive sign-in (authorization code flow). Use the device code flow.',
          ),
          ctx,
        );
        return;
      case 'logout':
        sendHtml(res, 200, page('Signed out', '<p>You have signed out of the sandbox.</p>'));
        return;
    }
  }

  // ---- discovery -------------------------------------------------------------------------------

  private openIdConfiguration(tenant: string): Record<string, unknown> {
    const origin = this.origin();
    const base = `${origin}/${tenant}`;
    // Like Entra, a multi-tenant path gets a templated issuer; the tenant, by id or domain, its own (with the id).
    const issuer = PUBLIC_TENANTS.has(tenant.toLowerCase()) ? `${origin}/{tenantid}/v2.0` : this.issuer();
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      grant_types_supported: ['refresh_token', DEVICE_CODE_GRANT, 'client_credentials'],
      issuer,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'oid', 'tid', 'preferred_username', 'ver'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'sandbox.localhost',
    };
  }

  private jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    return {
      keys: [{ kty: jwk.kty, use: 'sig', kid: this.key.kid, alg: 'RS256', n: jwk.n, e: jwk.e, issuer: this.issuer() }],
    };
  }

  // ---- device code -----------------------------------------------------------------------------

  private async deviceCodeEndpoint(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    if (req.method !== 'POST') {
      this.sendRefusal(res, postOnly(req.method), ctx);
      return;
    }
    const form = await readForm(req);
    const clientId = form.get('client_id');
    if (!clientId) return this.sendRefusal(res, missingParameter('client_id'), ctx);
    if (!this.isOurClient(clientId)) return this.sendRefusal(res, this.unknownClient(clientId, ctx.tenant), ctx);
    const scope = form.get('scope');
    if (!scope) return this.sendRefusal(res, missingParameter('scope'), ctx);
    const scopeCheck = checkDelegatedScope(scope);
    if (!scopeCheck.ok) return this.sendRefusal(res, scopeCheck.refusal, ctx);

    const grant = this.createDeviceCode(scope);
    const verificationUri = `${this.origin()}/devicelogin`;
    sendJson(
      res,
      200,
      {
        user_code: grant.userCode,
        device_code: grant.deviceCode,
        verification_uri: verificationUri,
        expires_in: this.deviceCodeLifetimeSeconds,
        interval: DEVICE_CODE_INTERVAL_SECONDS,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${grant.userCode} to authenticate.`,
      },
      ctx.clientRequestId,
    );
  }

  private createDeviceCode(scope: string): DeviceCodeGrant {
    const createdAtMs = this.now();
    const grant: DeviceCodeGrant = {
      deviceCode: opaqueToken(),
      userCode: userCode(),
      scope,
      createdAtMs,
      expiresAtMs: createdAtMs + this.deviceCodeLifetimeSeconds * 1000,
      approvedOid: null,
      redeemed: false,
    };
    this.deviceCodes.set(tokenKey(grant.deviceCode), grant);
    this.counters.deviceCodes++;
    return grant;
  }

  private findDeviceCodeByUserCode(code: string): DeviceCodeGrant | undefined {
    const wanted = code.replace(/[\s-]/g, '').toUpperCase();
    for (const grant of this.deviceCodes.values()) if (grant.userCode === wanted) return grant;
    return undefined;
  }

  /** Auto-approval happens when a poll looks, so no timer outlives the server. */
  private applyAutoApproval(grant: DeviceCodeGrant): void {
    if (grant.approvedOid || this.deviceCodeAutoApproveMs === null) return;
    if (this.now() - grant.createdAtMs >= this.deviceCodeAutoApproveMs) grant.approvedOid = this.userAt(0).oid;
  }

  /** A tiny page at the verification URI so a person can approve a code by hand during a demo. */
  private async deviceLoginPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      const form = await readForm(req);
      const index = this.users.findIndex((u) => u.email === form.get('user'));
      const approved = index >= 0 && this.approveDeviceCode(form.get('user_code') ?? '', index);
      const user = this.users[index];
      if (approved && user) {
        sendHtml(
          res,
          200,
          page('Signed in', `<p>You have signed in as ${escapeHtml(user.email)}. You may now close this window.</p>`),
        );
      } else {
        sendHtml(
          res,
          400,
          page(
            'Code not accepted',
            '<p>That code is unknown, expired or already used. <a href="/devicelogin">Try again</a>.</p>',
          ),
        );
      }
      return;
    }
    const options = this.users
      .map(
        (u) =>
          `<option value="${escapeHtml(u.email)}">${escapeHtml(u.name)} (${escapeHtml(u.email)}, role: ${u.role})</option>`,
      )
      .join('');
    sendHtml(
      res,
      200,
      page(
        'Enter code',
        `<form method="post"><p><label>Code <input name="user_code" autofocus></label></p><p><label>Sign in as <select name="user">${options}</select></label></p><p><button>Next</button></p></form>`,
      ),
    );
  }

  // ---- token endpoint --------------------------------------------------------------------------

  private async tokenEndpoint(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    this.counters.tokenRequests++;
    if (req.method !== 'POST') return this.sendRefusal(res, postOnly(req.method), ctx);
    const form = await readForm(req);
    const grantType = form.get('grant_type');
    if (!grantType) return this.sendRefusal(res, missingParameter('grant_type'), ctx);
    const grantName = grantType === DEVICE_CODE_GRANT ? 'device_code' : grantType;
    this.counters.byGrant[grantName] = (this.counters.byGrant[grantName] ?? 0) + 1;

    const client = this.authenticateClient(req, form, ctx.tenant);
    if (!client.ok) return this.sendRefusal(res, client.refusal, ctx);

    const outcome = await this.runGrant(grantName, form, client.value);
    if (!outcome.ok) {
      if (outcome.refusal.error === 'invalid_grant') this.counters.invalidGrants++;
      return this.sendRefusal(res, outcome.refusal, ctx);
    }
    if (grantName === 'refresh_token') this.counters.refreshes++;
    sendJson(res, 200, outcome.value, ctx.clientRequestId);
  }

  private runGrant(grantName: string, form: URLSearchParams, client: ClientAuth): Promise<Outcome<object>> {
    switch (grantName) {
      case 'refresh_token':
        return this.refreshTokenGrant(form, client);
      case 'device_code':
        return this.deviceCodeGrant(form, client);
      case 'client_credentials':
        return this.clientCredentialsGrant(form, client);
      default:
        return Promise.resolve(
          fail(
            400,
            'unsupported_grant_type',
            70003,
            `The app requested an unsupported grant type '${grantName}'. The sandbox supports refresh_token, ${DEVICE_CODE_GRANT} and client_credentials.`,
          ),
        );
    }
  }

  /**
   * client_secret_post or client_secret_basic; no credential at all is a public client (the sandbox app
   * allows public client flows, as device code needs). Certificates (client_assertion) are refused.
   */
  private authenticateClient(req: IncomingMessage, form: URLSearchParams, tenant: string): Outcome<ClientAuth> {
    const basic = parseBasicAuth(headerValue(req, 'authorization'));
    const clientId = basic?.clientId ?? form.get('client_id');
    if (!clientId) return { ok: false, refusal: missingParameter('client_id') };
    if (!this.isOurClient(clientId)) return { ok: false, refusal: this.unknownClient(clientId, tenant) };
    const assertion = form.get('client_assertion');
    if (assertion !== null) return this.checkAssertion(assertion, tenant);
    const secret = basic?.secret ?? form.get('client_secret');
    if (secret === null) return { ok: true, value: { confidential: false } };
    if (!timingSafeEqual(sha256(secret), this.secretDigest)) {
      return fail(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.`,
      );
    }
    return { ok: true, value: { confidential: true } };
  }

  private async refreshTokenGrant(form: URLSearchParams, client: ClientAuth): Promise<Outcome<object>> {
    const presented = form.get('refresh_token');
    if (!presented) return { ok: false, refusal: missingParameter('refresh_token') };
    const key = tokenKey(presented);
    const grant = this.refreshGrants.get(key);
    if (!grant)
      return fail(
        400,
        'invalid_grant',
        9002313,
        'Invalid request. Request is malformed or invalid. (The refresh token is not one this sandbox issued; a sandbox restart forgets all tokens.)',
      );
    if (grant.redeemed) {
      return fail(
        400,
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The refresh token was already redeemed: the sandbox rotates refresh tokens, so store the new refresh token from every token response (write the token cache back).',
      );
    }
    if (this.now() - grant.issuedAtMs > this.refreshTokenInactivityMs) {
      const issued = new Date(grant.issuedAtMs).toISOString();
      return fail(
        400,
        'invalid_grant',
        700082,
        `The refresh token has expired due to inactivity. The token was issued on ${issued} and was inactive for ${Math.round(this.refreshTokenInactivityMs / 86_400_000)} days.`,
      );
    }
    if (grant.confidential && !client.confidential) {
      return fail(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. (The refresh token was issued to a confidential client.)",
      );
    }
    const scope = form.get('scope');
    if (!scope) return { ok: false, refusal: missingParameter('scope') };
    const scopeCheck = checkDelegatedScope(scope);
    if (!scopeCheck.ok) return scopeCheck;
    const user = this.users.find((u) => u.oid === grant.oid);
    if (!user) return fail(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    grant.redeemed = true;
    const body = await this.userTokenResponse(user, scopeCheck.value, grant.confidential || client.confidential, form);
    return { ok: true, value: body };
  }

  private async deviceCodeGrant(form: URLSearchParams, client: ClientAuth): Promise<Outcome<object>> {
    const deviceCode = form.get('device_code');
    if (!deviceCode) return { ok: false, refusal: missingParameter('device_code') };
    const grant = this.deviceCodes.get(tokenKey(deviceCode));
    if (!grant)
      return fail(
        400,
        'bad_verification_code',
        70018,
        'Invalid verification code: the device_code was not recognized.',
      );
    if (grant.redeemed)
      return fail(
        400,
        'invalid_grant',
        70000,
        'Provided grant is invalid or malformed. The device code was already redeemed.',
      );
    if (this.now() >= grant.expiresAtMs)
      return fail(400, 'expired_token', 70019, 'Verification code expired. Have the user retry the sign-in.');
    this.applyAutoApproval(grant);
    if (!grant.approvedOid)
      return fail(
        400,
        'authorization_pending',
        70016,
        'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
      );
    const oid = grant.approvedOid;
    const user = this.users.find((u) => u.oid === oid);
    if (!user) return fail(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    const scopeCheck = checkDelegatedScope(form.get('scope') ?? grant.scope);
    if (!scopeCheck.ok) return scopeCheck;
    grant.redeemed = true;
    return { ok: true, value: await this.userTokenResponse(user, scopeCheck.value, client.confidential, form) };
  }

  private async clientCredentialsGrant(form: URLSearchParams, client: ClientAuth): Promise<Outcome<object>> {
    if (!client.confidential) {
      return fail(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    const scope = form.get('scope') ?? '';
    if (scope.trim().toLowerCase() !== PARTNER_CENTER_DEFAULT_SCOPE) {
      return fail(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI); the sandbox serves ${PARTNER_CENTER_DEFAULT_SCOPE}.`,
      );
    }
    const accessToken = await this.signAccessToken(this.appOnlyClaims());
    // Entra returns no scope, id_token, refresh_token or client_info for client credentials.
    return {
      ok: true,
      value: {
        token_type: 'Bearer',
        expires_in: this.accessTokenLifetimeSeconds,
        ext_expires_in: this.accessTokenLifetimeSeconds,
        access_token: accessToken,
      },
    };
  }

  // ---- token minting ---------------------------------------------------------------------------

  private async userTokenResponse(
    user: SandboxUser,
    scopes: GrantedScopes,
    confidential: boolean,
    form: URLSearchParams,
  ): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: scopes.granted.join(' '),
      expires_in: this.accessTokenLifetimeSeconds,
      ext_expires_in: this.accessTokenLifetimeSeconds,
      access_token: await this.signAccessToken(this.userAccessClaims(user)),
    };
    if (scopes.oidc.has('offline_access')) body.refresh_token = this.issueRefreshToken(user.oid, confidential);
    if (scopes.oidc.has('openid')) body.id_token = await this.signIdToken(user);
    // MSAL sends client_info=1 and builds the cache's home account id from the answer.
    if (form.get('client_info') === '1') body.client_info = clientInfo(user.oid, this.tenantId);
    return body;
  }

  private userAccessClaims(user: SandboxUser): JWTPayload {
    return {
      aud: PARTNER_CENTER_RESOURCE,
      tid: this.tenantId,
      oid: user.oid,
      sub: this.pairwiseSubject(user.oid),
      upn: user.email,
      unique_name: user.email,
      preferred_username: user.email,
      name: user.name,
      scp: 'user_impersonation',
      appid: this.clientId,
      azp: this.clientId,
      idtyp: 'user',
      ver: '2.0',
    };
  }

  private appOnlyClaims(): JWTPayload {
    const servicePrincipalOid = deterministicGuid(`sp:${this.clientId}`);
    return {
      aud: PARTNER_CENTER_RESOURCE,
      tid: this.tenantId,
      oid: servicePrincipalOid,
      sub: servicePrincipalOid,
      appid: this.clientId,
      azp: this.clientId,
      idtyp: 'app',
      roles: [],
      ver: '2.0',
    };
  }

  private async signAccessToken(claims: JWTPayload): Promise<string> {
    const jti = base64url(randomBytes(16));
    this.issuedAccessTokens++;
    this.accessTokenSequence.set(jti, this.issuedAccessTokens);
    return this.sign({ ...claims, jti }, this.accessTokenLifetimeSeconds);
  }

  private signIdToken(user: SandboxUser): Promise<string> {
    return this.sign(
      {
        aud: this.clientId,
        tid: this.tenantId,
        oid: user.oid,
        sub: this.pairwiseSubject(user.oid),
        preferred_username: user.email,
        name: user.name,
        ver: '2.0',
      },
      3600,
    );
  }

  private sign(claims: JWTPayload, lifetimeSeconds: number): Promise<string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.key.kid })
      .setIssuer(this.issuer())
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + lifetimeSeconds)
      .sign(this.key.privateKey);
  }

  private issueRefreshToken(oid: string, confidential: boolean): string {
    const token = opaqueToken();
    this.refreshGrants.set(tokenKey(token), { oid, confidential, issuedAtMs: this.now(), redeemed: false });
    return token;
  }

  /** Entra's `sub` is per application; oid is the stable user id. */
  private pairwiseSubject(oid: string): string {
    return base64url(createHash('sha256').update(`${this.clientId}:${oid}`).digest());
  }

  // ---- verification ----------------------------------------------------------------------------

  private async verifySignatureAndClaims(
    token: string,
  ): Promise<{ ok: true; claims: JWTPayload } | { ok: false; rejection: AccessTokenCheck }> {
    try {
      const { payload } = await jwtVerify(token, this.key.publicKey, {
        algorithms: ['RS256'],
        issuer: this.issuer(),
        audience: PARTNER_CENTER_RESOURCE,
        currentDate: new Date(this.now()),
      });
      return { ok: true, claims: payload };
    } catch (error) {
      return { ok: false, rejection: this.rejectionFor(error) };
    }
  }

  private rejectionFor(error: unknown): AccessTokenCheck {
    const code = (error as { code?: unknown }).code;
    const claim = (error as { claim?: unknown }).claim;
    if (code === 'ERR_JWT_EXPIRED')
      return this.reject(401, 'expired', 'Lifetime validation failed: the access token is expired.');
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf') {
      return this.reject(401, 'not_yet_valid', 'Lifetime validation failed: the access token is not yet valid.');
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') {
      return this.reject(
        401,
        'wrong_audience',
        `The access token audience is not ${PARTNER_CENTER_RESOURCE}; request the scope ${PARTNER_CENTER_USER_SCOPE}.`,
      );
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'iss') {
      return this.reject(401, 'wrong_issuer', 'The access token was not issued by this sandbox tenant.');
    }
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JOSE_ALG_NOT_ALLOWED') {
      return this.reject(401, 'bad_signature', 'The access token signature is invalid.');
    }
    return this.reject(401, 'malformed', 'The access token is malformed.');
  }

  private checkAuthorization(claims: JWTPayload): AccessTokenCheck {
    if (claims.tid !== this.tenantId)
      return this.reject(401, 'wrong_tenant', 'The access token is for another tenant.');
    const sequence = typeof claims.jti === 'string' ? this.accessTokenSequence.get(claims.jti) : undefined;
    if (sequence === undefined || sequence <= this.expiredThroughSequence) {
      return this.reject(401, 'expired', 'Lifetime validation failed: the access token is expired.');
    }
    if (claims.idtyp === 'app' || typeof claims.scp !== 'string') {
      return this.reject(
        403,
        'app_only',
        'This API requires an app + user (delegated) access token; app-only tokens are not supported.',
      );
    }
    if (!claims.scp.split(' ').includes('user_impersonation')) {
      return this.reject(403, 'missing_scope', `The access token lacks the scope ${PARTNER_CENTER_USER_SCOPE}.`);
    }
    const user = this.users.find((u) => u.oid === claims.oid);
    if (!user) return this.reject(401, 'unknown_user', 'The access token names a user this tenant does not know.');
    if (user.role === 'none') {
      return this.reject(
        403,
        'no_role',
        `The signed-in user ${user.email} holds neither the Referrals admin nor the Referrals user role in Partner Center.`,
      );
    }
    return { ok: true, user, appOnly: false };
  }

  private reject(status: 401 | 403, reason: TokenRejectReason, description: string): AccessTokenCheck {
    const error = status === 401 ? 'invalid_token' : 'insufficient_scope';
    const authorizationUri = `${this.origin()}/${this.tenantId}/oauth2/v2.0/authorize`;
    const quoted = description.replace(/["\\]/g, "'");
    const wwwAuthenticate =
      reason === 'missing'
        ? `Bearer authorization_uri="${authorizationUri}", resource_id="${PARTNER_CENTER_RESOURCE}"`
        : `Bearer authorization_uri="${authorizationUri}", error="${error}", error_description="${quoted}"`;
    return { ok: false, status, error, reason, description, wwwAuthenticate };
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private origin(): string {
    return this.issuerOrigin ?? 'https://127.0.0.1';
  }

  private issuer(): string {
    return `${this.origin()}/${this.tenantId}/v2.0`;
  }

  private isServedTenant(tenant: string): boolean {
    const lower = tenant.toLowerCase();
    return lower === this.tenantId.toLowerCase() || this.domains.has(lower) || PUBLIC_TENANTS.has(lower);
  }

  private domainList(): string {
    return this.domains.size === 0 ? '' : `, domain ${[...this.domains].map((d) => `'${d}'`).join(', ')}`;
  }

  /** Certificate credentials: the assertion must be signed with the registered certificate's key. */
  private checkAssertion(assertion: string, tenant: string): Outcome<ClientAuth> {
    if (!this.clientCertificatePem) {
      return fail(401, 'invalid_client', 700027, 'Client assertion failed: no certificate is registered for this app.');
    }
    const audiences = [tenant, this.tenantId].map((t) => `${this.origin()}/${t}/oauth2/v2.0/token`);
    const check = verifyClientAssertion(
      assertion,
      { certificatePem: this.clientCertificatePem },
      { clientId: this.clientId, audiences, nowSeconds: Math.floor(this.now() / 1000) },
    );
    if (!check.ok) return fail(401, 'invalid_client', 700027, `Client assertion failed: ${check.reason}.`);
    return { ok: true, value: { confidential: true } };
  }

  private isOurClient(clientId: string): boolean {
    return clientId.toLowerCase() === this.clientId.toLowerCase();
  }

  private unknownClient(clientId: string, tenant: string): Refusal {
    return refuse(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }

  private userAt(index: number): SandboxUser {
    const user = this.users[index];
    if (!user) throw new RangeError(`no sandbox user at index ${index}`);
    return user;
  }

  private sendRefusal(res: ServerResponse, refusal: Refusal, ctx: RequestContext): void {
    sendJson(res, refusal.status, entraError(refusal, ctx.clientRequestId, this.origin()), ctx.clientRequestId);
  }
}

// ---- scopes ------------------------------------------------------------------------------------

interface GrantedScopes {
  /** What the response's `scope` says: the Partner Center scope plus the OIDC scopes asked for. */
  granted: string[];
  oidc: Set<string>;
}

/** Delegated requests must name the Partner Center API, as user_impersonation or .default. */
function checkDelegatedScope(scope: string): Outcome<GrantedScopes> {
  const requested = scope.split(/\s+/).filter(Boolean);
  const oidc = new Set(requested.map((s) => s.toLowerCase()).filter((s) => OIDC_SCOPES.has(s)));
  const resourceScopes = requested.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
  const accepted = new Set([PARTNER_CENTER_USER_SCOPE, PARTNER_CENTER_DEFAULT_SCOPE]);
  const unsupported = resourceScopes.filter((s) => !accepted.has(s.toLowerCase()));
  if (resourceScopes.length === 0 || unsupported.length > 0) {
    return fail(
      400,
      'invalid_scope',
      70011,
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: ${unsupported.join(' ') || scope}. The sandbox only issues tokens for ${PARTNER_CENTER_USER_SCOPE} (or ${PARTNER_CENTER_DEFAULT_SCOPE}).`,
    );
  }
  // .default resolves to the consented permission, which for this app is user_impersonation.
  const granted = [PARTNER_CENTER_USER_SCOPE, ...oidc];
  return { ok: true, value: { granted, oidc } };
}

// ---- routing and HTTP --------------------------------------------------------------------------

function matchRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length === 1 && parts[0] === 'devicelogin') return { kind: 'devicelogin' };
  const [tenant, ...rest] = parts;
  if (!tenant) return undefined;
  const path = rest.join('/');
  const kinds: Record<string, TenantRouteKind> = {
    'v2.0/.well-known/openid-configuration': 'openid',
    'discovery/v2.0/keys': 'keys',
    'oauth2/v2.0/token': 'token',
    'oauth2/v2.0/devicecode': 'devicecode',
    'oauth2/v2.0/authorize': 'authorize',
    'oauth2/v2.0/logout': 'logout',
  };
  const kind = kinds[path];
  return kind ? { kind, tenant } : undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  // Like Entra, any other content type reads as an empty form (and then misses grant_type).
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function parseBasicAuth(header: string | undefined): { clientId: string; secret: string } | undefined {
  const match = header ? /^Basic\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown, clientRequestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    // Token responses must not be cached by anything in between (RFC 6749 §5.1).
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    'x-ms-request-id': randomUUID(),
    'client-request-id': clientRequestId,
  });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} - referrals-lake sandbox</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- errors ------------------------------------------------------------------------------------

function refuse(status: number, error: string, code: number, message: string): Refusal {
  return { status, error, code, message };
}

function fail<T>(status: number, error: string, code: number, message: string): Outcome<T> {
  return { ok: false, refusal: refuse(status, error, code, message) };
}

function missingParameter(name: string): Refusal {
  return refuse(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

function postOnly(method: string | undefined): Refusal {
  return refuse(
    400,
    'invalid_request',
    900561,
    `The endpoint only accepts POST, OPTIONS requests. Received a ${method ?? 'GET'} request.`,
  );
}

function entraError(refusal: Refusal, correlationId: string, origin: string): EntraErrorBody {
  const traceId = randomUUID();
  const timestamp = `${new Date().toISOString().slice(0, 19).replace('T', ' ')}Z`;
  return {
    error: refusal.error,
    error_description: `AADSTS${refusal.code}: ${refusal.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [refusal.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${origin}/error?code=${refusal.code}`,
  };
}

// ---- small crypto helpers ----------------------------------------------------------------------

function withKid(pair: { privateKey: KeyObject; publicKey: KeyObject }): SigningKey {
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  return { ...pair, kid: base64url(createHash('sha256').update(spki).digest()).slice(0, 27) };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function tokenKey(token: string): string {
  return sha256(token).toString('hex');
}

function base64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

/** Opaque, unguessable: refresh tokens and device codes. */
function opaqueToken(): string {
  return `0.S.${base64url(randomBytes(72))}`;
}

/** Nine characters, as Entra's user codes, without look-alikes (0/O, 1/I). */
function userCode(): string {
  let code = '';
  for (let i = 0; i < 9; i++) code += USER_CODE_ALPHABET.charAt(randomInt(USER_CODE_ALPHABET.length));
  return code;
}

function clientInfo(oid: string, tid: string): string {
  return Buffer.from(JSON.stringify({ uid: oid, utid: tid }), 'utf8').toString('base64url');
}

function deterministicGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

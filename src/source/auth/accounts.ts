/**
 * Which cached account a run may use. A token cache outlives the settings that filled it: it can
 * hold an account of an earlier authority (a restarted sandbox, another cloud), of another tenant
 * (the app moved), or several users. Only an account of the configured authority host and tenant
 * is used: another authority's refresh token must not be presented here, and another tenant's
 * token would export another partner's referrals.
 */
import type { AccountInfo, INetworkModule, NetworkResponse } from '@azure/msal-node';
import { ConfigError, UpstreamError } from '../../common/errors.js';
import { safeUrl } from '../../common/redact.js';

/** What the settings allow. `tenantId` undefined: any tenant (a multi-tenant authority). */
export interface AccountScope {
  /** Host (and port) of PARTNER_CENTER_AUTHORITY_HOST. */
  readonly authorityHost: string;
  readonly tenantId: string | undefined;
  /** PARTNER_CENTER_USERNAME: only this user's account counts. */
  readonly username?: string;
}

export type AccountChoice =
  | { readonly kind: 'found'; readonly account: AccountInfo }
  /** None of this authority and tenant; `elsewhere` accounts belong to others. */
  | { readonly kind: 'none'; readonly elsewhere: number }
  /** PARTNER_CENTER_USERNAME names none of the accounts of this authority and tenant. */
  | { readonly kind: 'not-named'; readonly usernames: readonly string[] }
  /** Several accounts of this authority and tenant, and no PARTNER_CENTER_USERNAME to choose. */
  | { readonly kind: 'ambiguous'; readonly usernames: readonly string[] };

export function chooseAccount(accounts: readonly AccountInfo[], scope: AccountScope): AccountChoice {
  const inScope = accounts.filter(
    (a) =>
      sameAuthority(a.environment, scope.authorityHost) &&
      (scope.tenantId === undefined || sameName(a.tenantId, scope.tenantId)),
  );
  if (inScope.length === 0) return { kind: 'none', elsewhere: accounts.length };
  if (scope.username !== undefined) {
    const wanted = scope.username;
    const named = inScope.find((a) => sameName(a.username, wanted));
    return named ? { kind: 'found', account: named } : { kind: 'not-named', usernames: usernames(inScope) };
  }
  const [only, ...more] = inScope;
  if (only && more.length === 0) return { kind: 'found', account: only };
  return { kind: 'ambiguous', usernames: usernames(inScope) };
}

/**
 * MSAL files public-cloud accounts under its preferred alias (login.windows.net) whatever host the
 * authority names; these are the alias groups of its built-in cloud metadata. Any other host (the
 * sandbox, a host given in knownAuthorities) is filed under itself.
 */
const CLOUD_ALIASES: readonly (readonly string[])[] = [
  ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'],
  ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
  ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
];

export function sameAuthority(environment: string, authorityHost: string): boolean {
  const a = hostKey(environment);
  const b = hostKey(authorityHost);
  return a === b || CLOUD_ALIASES.some((group) => group.includes(a) && group.includes(b));
}

function hostKey(host: string): string {
  return host.toLowerCase().replace(/:443$/, '');
}

/** UPNs, domains and GUIDs compare without case. */
export function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function usernames(accounts: readonly AccountInfo[]): string[] {
  return [...new Set(accounts.map((a) => a.username || '(no username)'))].sort();
}

/** The one field read, or an Entra error. */
interface OpenIdDocument {
  readonly issuer?: unknown;
  readonly error?: unknown;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

/**
 * The tenant id cached accounts must carry (MSAL's `tenantId`, the id token's `tid`, always the
 * GUID). A GUID setting is itself. A domain is resolved as Entra resolves it: the issuer of the
 * tenant's OpenID configuration names the id (one GET, the same document MSAL fetches). A
 * multi-tenant alias (common, organizations) allows any tenant: undefined.
 */
export async function tenantIdOf(
  authorityOrigin: string,
  tenant: string,
  network: INetworkModule,
): Promise<string | undefined> {
  if (GUID.test(tenant)) return tenant.toLowerCase();
  if (MULTI_TENANT.has(tenant.toLowerCase())) return undefined;
  const url = `${authorityOrigin}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;
  let response: NetworkResponse<OpenIdDocument>;
  try {
    response = await network.sendGetRequestAsync<OpenIdDocument>(url);
  } catch (error) {
    throw new UpstreamError(
      `Could not look up the tenant '${tenant}' at Entra ID`,
      { url: safeUrl(url) },
      {
        cause: error,
      },
    );
  }
  const issuer = typeof response.body?.issuer === 'string' ? response.body.issuer : '';
  const id = /^https:\/\/[^/]+\/([^/]+)\/v2\.0\/?$/.exec(issuer)?.[1] ?? '';
  if (response.status === 200 && GUID.test(id)) return id.toLowerCase();
  if (response.body?.error === 'invalid_tenant') {
    throw new ConfigError('PARTNER_CENTER_TENANT_ID', `Entra ID at ${new URL(url).host} knows no tenant '${tenant}'`);
  }
  throw new UpstreamError(`Entra ID answered HTTP ${response.status} without a tenant id for '${tenant}'`, {
    url: safeUrl(url),
    status: response.status,
  });
}

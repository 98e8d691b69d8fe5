/**
 * MSAL applications configured from PartnerCenterConfig. The same code talks to real Entra ID or to
 * the sandbox by configuration alone: authority host, tenant and an optional extra CA.
 */
import {
  ConfidentialClientApplication,
  type Configuration,
  type ICachePlugin,
  LogLevel,
  PublicClientApplication,
} from '@azure/msal-node';
import type { PartnerCenterConfig } from '../../config.js';
import type { MsalNetworkClient } from './network-client.js';

export interface MsalAppOptions {
  readonly cachePlugin?: ICachePlugin;
  readonly networkClient: MsalNetworkClient;
}

const PUBLIC_CLOUD_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net']);

function msalConfiguration(config: PartnerCenterConfig, options: MsalAppOptions, withSecret: boolean): Configuration {
  const authorityHost = new URL(config.authorityHost);
  return {
    auth: {
      clientId: config.clientId,
      authority: `${config.authorityHost}/${config.tenantId}`,
      ...(withSecret && config.clientSecret ? { clientSecret: config.clientSecret } : {}),
      ...(withSecret && config.clientCertificate ? { clientCertificate: { ...config.clientCertificate } } : {}),
      // A non-public authority (the sandbox, a sovereign cloud) must be named with its port, or MSAL
      // asks the public cloud's instance discovery endpoint about it.
      ...(PUBLIC_CLOUD_HOSTS.has(authorityHost.hostname) ? {} : { knownAuthorities: [authorityHost.host] }),
    },
    ...(options.cachePlugin ? { cache: { cachePlugin: options.cachePlugin } } : {}),
    system: {
      networkClient: options.networkClient,
      // MSAL's own logging can include PII; keep it to errors and never with PII.
      loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
    },
  };
}

/** The unattended app: client id + secret, delegated tokens from the cache. */
export function createConfidentialClient(config: PartnerCenterConfig, options: MsalAppOptions) {
  return new ConfidentialClientApplication(msalConfiguration(config, options, true));
}

/**
 * The sign-in app: MSAL offers the device code flow only on public clients. It shares the client id
 * and the cache, so the confidential client finds the account and refresh token it leaves (the app
 * registration needs "Allow public client flows").
 */
export function createPublicClient(config: PartnerCenterConfig, options: MsalAppOptions) {
  return new PublicClientApplication(msalConfiguration(config, options, false));
}

/**
 * MSAL applications configured from PartnerCenterConfig. The same code talks to real Entra ID or to
 * the sandbox by configuration alone: authority host, tenant and an optional extra CA.
 */
import { ConfidentialClientApplication, type Configuration, type ICachePlugin, LogLevel } from '@azure/msal-node';
import type { PartnerCenterConfig } from '../../config.js';
import { createMsalNetworkClient, type MsalNetworkClient } from './network-client.js';

export interface MsalAppOptions {
  readonly cachePlugin?: ICachePlugin;
  readonly networkClient?: MsalNetworkClient;
}

const PUBLIC_CLOUD_HOSTS = new Set(['login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net']);

export function msalConfiguration(config: PartnerCenterConfig, options: MsalAppOptions = {}): Configuration {
  const authorityHost = new URL(config.authorityHost);
  return {
    auth: {
      clientId: config.clientId,
      authority: `${config.authorityHost}/${config.tenantId}`,
      ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}),
      // A non-public authority (the sandbox, a sovereign cloud) must be named, or MSAL asks the public
      // cloud's instance discovery endpoint about it; naming it keeps every call on that host.
      ...(PUBLIC_CLOUD_HOSTS.has(authorityHost.hostname) ? {} : { knownAuthorities: [authorityHost.host] }),
    },
    ...(options.cachePlugin ? { cache: { cachePlugin: options.cachePlugin } } : {}),
    system: {
      networkClient: options.networkClient ?? createMsalNetworkClient({ caPem: config.caPem }),
      // MSAL's own logging can include PII; keep it to errors and never with PII.
      loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
    },
  };
}

export function createConfidentialClient(config: PartnerCenterConfig, options: MsalAppOptions = {}) {
  return new ConfidentialClientApplication(msalConfiguration(config, options));
}

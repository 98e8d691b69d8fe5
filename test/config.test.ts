import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/common/errors.js';
import { FUNCTION_APP_TUNING } from '../src/common/process-tuning.js';
import { loadPartnerCenterConfig, loadWebhookReceiverConfig, SETTING_NAMES, SETTINGS } from '../src/config.js';
import { thrownBy } from './helpers/errors.js';

const minimal = { PARTNER_CENTER_TENANT_ID: 'contoso.onmicrosoft.com', PARTNER_CENTER_CLIENT_ID: 'abc' };

const configError = (fn: () => unknown) => thrownBy(ConfigError, fn);

describe('config', () => {
  it('fills defaults for the public cloud', () => {
    const config = loadPartnerCenterConfig(minimal);
    expect(config.apiBaseUrl).toBe('https://api.partner.microsoft.com');
    expect(config.authorityHost).toBe('https://login.microsoftonline.com');
    expect(config.scope).toBe('https://api.partner.microsoft.com/user_impersonation');
    expect(config.clientSecret).toBeUndefined();
  });

  it('reads the webhook settings: registration origin and the certificate hosts, validated and named', () => {
    const config = loadPartnerCenterConfig(minimal);
    expect(config.webhooksBaseUrl).toBe('https://api.partnercenter.microsoft.com');
    expect(config.webhookCertificateHosts).toEqual(['3psostorageacct.blob.core.windows.net']);
    const sandboxLike = loadPartnerCenterConfig({
      ...minimal,
      PARTNER_CENTER_WEBHOOKS_BASE_URL: 'https://127.0.0.1:8443/',
      PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: ' 127.0.0.1:8443, Certs.Example.com ',
    });
    expect(sandboxLike.webhooksBaseUrl).toBe('https://127.0.0.1:8443');
    expect(sandboxLike.webhookCertificateHosts).toEqual(['127.0.0.1:8443', 'certs.example.com']);
    const plain = configError(() =>
      loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_WEBHOOKS_BASE_URL: 'http://127.0.0.1:8443' }),
    );
    expect(plain.setting).toBe('PARTNER_CENTER_WEBHOOKS_BASE_URL');
    for (const bad of ['https://certs.example.com', 'certs.example.com/cert', ',', 'a..b', 'host:0']) {
      const error = configError(() => loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: bad }));
      expect(error.setting, bad).toBe('PARTNER_CENTER_WEBHOOKS_CERT_HOSTS');
    }
  });

  it("reads the receiver's settings without the sign-in ones: Microsoft's defaults, the sandbox's values, bad values named", () => {
    expect(loadWebhookReceiverConfig({})).toEqual({
      webhooksBaseUrl: 'https://api.partnercenter.microsoft.com',
      certificateHosts: ['3psostorageacct.blob.core.windows.net'],
      certificateIssuerOrganization: 'Microsoft Corporation',
      certificateChain: 'partial',
      maxEventAgeMs: 24 * 3600_000,
      caPem: undefined,
    });
    const sandboxLike = loadWebhookReceiverConfig({
      PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG: 'referrals-lake sandbox',
      PARTNER_CENTER_WEBHOOKS_CERT_CHAIN: 'anchored',
      PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES: '15',
    });
    expect(sandboxLike).toMatchObject({
      certificateIssuerOrganization: 'referrals-lake sandbox',
      certificateChain: 'anchored',
      maxEventAgeMs: 15 * 60_000,
    });
    for (const [name, bad] of [
      ['PARTNER_CENTER_WEBHOOKS_CERT_CHAIN', 'none'],
      ['PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES', '0'],
    ] as const) {
      expect(configError(() => loadWebhookReceiverConfig({ [name]: bad })).setting).toBe(name);
    }
  });

  it('names the missing setting', () => {
    expect(configError(() => loadPartnerCenterConfig({ PARTNER_CENTER_CLIENT_ID: 'x' })).setting).toBe(
      'PARTNER_CENTER_TENANT_ID',
    );
  });

  it('names a malformed setting and never echoes a secret', () => {
    const error = configError(() => loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_API_BASE_URL: 'http://x' }));
    expect(error.setting).toBe('PARTNER_CENTER_API_BASE_URL');
    expect(error.message).toMatch(/https/);
    const missingCa = configError(() => loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_CA_FILE: '/nope.pem' }));
    expect(missingCa.setting).toBe('PARTNER_CENTER_CA_FILE');
  });

  it('refuses a Key Vault reference App Service did not resolve, without echoing it, and says how to refresh', () => {
    const reference =
      '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/partner-center-client-secret)';
    const error = configError(() => loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_CLIENT_SECRET: reference }));
    expect(error.setting).toBe('PARTNER_CENTER_CLIENT_SECRET');
    expect(error.message).toMatch(/Key Vault reference that App Service did not resolve/);
    expect(error.message).toContain('/config/configreferences/appsettings/refresh');
    expect(error.message).not.toContain('kv-x');
    // Any setting, any spelling App Service accepts; a value that merely mentions one is a value.
    const lower = configError(() =>
      loadPartnerCenterConfig({
        ...minimal,
        PARTNER_CENTER_CLIENT_ID: '@microsoft.keyvault(VaultName=v;SecretName=s)',
      }),
    );
    expect(lower.setting).toBe('PARTNER_CENTER_CLIENT_ID');
    expect(
      loadPartnerCenterConfig({ ...minimal, PARTNER_CENTER_CLIENT_SECRET: 'abc@Microsoft.KeyVault(' }).clientSecret,
    ).toBe('abc@Microsoft.KeyVault(');
  });

  it('local.settings.sample.json lists exactly the settings the code reads', () => {
    const sample = JSON.parse(readFileSync(new URL('../local.settings.sample.json', import.meta.url), 'utf8')) as {
      Values: Record<string, string>;
    };
    const functionsHost = ['AzureWebJobsStorage', 'FUNCTIONS_WORKER_RUNTIME', ...Object.keys(FUNCTION_APP_TUNING)];
    expect(
      Object.keys(sample.Values)
        .filter((k) => !functionsHost.includes(k))
        .sort(),
    ).toEqual([...SETTING_NAMES].sort());
    for (const [name, value] of Object.entries(FUNCTION_APP_TUNING)) expect(sample.Values[name], name).toBe(value);
    for (const name of SETTING_NAMES) {
      // Secrets stay empty; the Azurite shortcut carries no key.
      if (SETTINGS[name].secret)
        expect(['', 'UseDevelopmentStorage=true'], `${name} must be empty`).toContain(sample.Values[name]);
    }
  });

  it('the README settings table documents every setting', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of SETTING_NAMES) expect(readme).toContain(`\`${name}\``);
  });
});

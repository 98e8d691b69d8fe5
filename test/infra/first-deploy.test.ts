/**
 * The first `azd up`, the first run and its monitoring (issue 18): one test per defect a careful read
 * of the Bicep against the Flex Consumption documentation found, each failing on the old text.
 * The Bicep compiler cannot run here; these read the files as text (bicep.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/errors.js';
import { processTuningInEffect } from '../../src/common/process-tuning.js';
import { loadPartnerCenterConfig, SETTINGS } from '../../src/config.js';
import { thrownBy } from '../helpers/errors.js';
import {
  appSettingVars,
  type BicepFile,
  declaration,
  declarations,
  INFRA,
  infraFile,
  params,
  REPO,
  readBicepFiles,
} from './bicep.js';

const files = readBicepFiles();
const file = (name: string): BicepFile => infraFile(files, name);
const main = file('main.bicep');
const app = file(join('modules', 'function-app.bicep'));
const roles = file(join('modules', 'role-assignments.bicep'));
const hostSettings = appSettingVars(app).get('hostAppSettings') ?? new Map<string, string>();
const text = (path: string) => readFileSync(join(REPO, path), 'utf8');
const site = declaration(app, 'site');

describe('infra: the first azd up (issue 18)', () => {
  it('1. sets no ftpsState, which Flex Consumption refuses, and turns FTP and basic-auth publishing off by policy', () => {
    for (const f of files) expect(f.code, f.path).not.toMatch(/ftpsState/i);
    const policies = [...declarations(app).values()].filter((d) =>
      d.type.startsWith('Microsoft.Web/sites/basicPublishingCredentialsPolicies@'),
    );
    const byName = new Map(policies.map((p) => [/name: '(\w+)'/.exec(p.body)?.[1], p.body]));
    expect([...byName.keys()].sort()).toEqual(['ftp', 'scm']);
    for (const body of byName.values()) {
      expect(body).toMatch(/parent: site\b/);
      expect(body).toMatch(/properties: \{ allow: false \}/);
      expect(body).not.toMatch(/\bif\b/);
    }
  });

  it('2. runs the app as a user-assigned identity whose roles are granted before the site exists', () => {
    for (const f of files) expect(f.code, `${f.path}: no system-assigned identity`).not.toMatch(/SystemAssigned/);
    expect(site?.body).toMatch(
      /identity: \{\s*type: 'UserAssigned'\s*userAssignedIdentities: \{ '\$\{identityId\}': \{\} \}/,
    );
    // The identity is its own module, the role assignments take its principal, and the site waits for them.
    expect(declaration(main, 'appIdentity')?.type).toBe('modules/identity.bicep');
    const access = declaration(main, 'access');
    expect(access?.body).toMatch(/functionPrincipalId: appIdentity\.outputs\.principalId/);
    expect(access?.body).not.toMatch(/functionApp\./);
    const functionApp = declaration(main, 'functionApp');
    expect(functionApp?.body).toMatch(/dependsOn: \[[^\]]*\baccess\b[^\]]*\]/);
    expect(functionApp?.body).toMatch(/identityId: appIdentity\.outputs\.id/);
    expect(functionApp?.body).toMatch(/identityClientId: appIdentity\.outputs\.clientId/);
    // Every consumer of the identity names it: deployment storage, host storage, telemetry, the SDK.
    expect(site?.body).toMatch(
      /authentication: \{ type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId \}/,
    );
    expect(hostSettings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(hostSettings.get('AzureWebJobsStorage__clientId')).toBe('identityClientId');
    expect(hostSettings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep's interpolation, as written in the file
      "'Authorization=AAD;ClientId=${identityClientId}'",
    );
    expect(hostSettings.get('AZURE_CLIENT_ID')).toBe('identityClientId');
    // A principal created moments before: principalType spares ARM the directory lookup that can miss it.
    for (const name of ['functionLake', 'functionHostStorage', 'functionSecrets', 'functionTelemetry']) {
      expect(declaration(roles, name)?.body, name).toMatch(/principalType: 'ServicePrincipal'/);
    }
  });

  it('3. resolves the Key Vault reference with that identity, and the app refuses an unresolved reference', () => {
    expect(site?.body).toMatch(/keyVaultReferenceIdentity: identityId\b/);
    const reference =
      '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/partner-center-client-secret)';
    const error = thrownBy(ConfigError, () =>
      loadPartnerCenterConfig({
        PARTNER_CENTER_TENANT_ID: 'contoso.onmicrosoft.com',
        PARTNER_CENTER_CLIENT_ID: 'abc',
        PARTNER_CENTER_CLIENT_SECRET: reference,
      }),
    );
    expect(error.setting).toBe('PARTNER_CENTER_CLIENT_SECRET');
    expect(error.message).toMatch(/did not resolve/);
    // The documented refresh of configuration references, not a restart, in both walkthroughs.
    for (const doc of ['README.md', join('docs', 'operations.md')]) {
      expect(text(doc), doc).toContain('/config/configreferences/appsettings/refresh?api-version=2022-03-01');
      expect(text(doc), doc).not.toMatch(/az functionapp restart/);
    }
  });

  it('4. tunes the Node worker through its arguments, not NODE_OPTIONS, and tells the operator where to look', () => {
    const allSettings = files.flatMap((f) => [...appSettingVars(f).values()].flatMap((m) => [...m.keys()]));
    expect(allSettings).not.toContain('NODE_OPTIONS');
    expect(hostSettings.get('languageWorkers__node__arguments')).toMatch(/--max-old-space-size=/);
    expect(hostSettings.get('MALLOC_MMAP_THRESHOLD_')).toBeDefined();
    const operations = text(join('docs', 'operations.md'));
    expect(operations).toContain('languageWorkers__node__arguments');
    // The figures the docs tell an operator to read are the ones the sync's start log reports.
    for (const field of Object.keys(processTuningInEffect())) expect(operations).toContain(`\`${field}\``);
    const sample = JSON.parse(text('local.settings.sample.json')) as { Values: Record<string, string> };
    expect(Object.keys(sample.Values)).not.toContain('NODE_OPTIONS');
  });

  it('5. records successful runs in requests, which the 26-hour alert counts', () => {
    const host = JSON.parse(text('host.json')) as {
      logging: {
        logLevel: Record<string, string>;
        applicationInsights: { samplingSettings: { excludedTypes: string } };
      };
    };
    const level = host.logging.logLevel['Host.Results'] ?? host.logging.logLevel.default;
    expect(['Trace', 'Debug', 'Information']).toContain(level);
    expect(host.logging.applicationInsights.samplingSettings.excludedTypes.split(';')).toContain('Request');
    const timer = /app\.timer\('(\w+)'/.exec(text(join('src', 'functions', 'sync-referrals.ts')))?.[1];
    expect(timer).toBe('syncReferrals');
    const alert = /No successful run in the last 26 hours[\s\S]*?```kusto\n([\s\S]*?)```/.exec(
      text(join('docs', 'operations.md')),
    )?.[1];
    expect(alert).toMatch(
      new RegExp(`^requests\\n\\| where name == "${timer}" and success == true and timestamp > ago\\(26h\\)`),
    );
  });

  it('6. grants the deployer the lake and secret roles only when asked, never again by default', () => {
    expect(params(main).find((p) => p.name === 'grantDeployerAccess')).toMatchObject({
      type: 'bool',
      defaultValue: 'false',
    });
    expect(params(roles).find((p) => p.name === 'grantDeployerAccess')).toMatchObject({
      type: 'bool',
      defaultValue: 'false',
    });
    expect(declaration(main, 'access')?.body).toMatch(/grantDeployerAccess: grantDeployerAccess/);
    const deployer = [...declarations(roles).entries()].filter(([, d]) =>
      /principalId: deployerPrincipalId/.test(d.body),
    );
    expect(deployer.map(([name]) => name).sort()).toEqual(['deployerLake', 'deployerSecrets']);
    for (const [name, d] of deployer) expect(d.condition, name).toMatch(/^grantDeployerAccess && /);
    const parameters = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: azd's substitution, as written in the file
    expect(parameters.parameters.grantDeployerAccess?.value).toBe('${GRANT_DEPLOYER_ACCESS=false}');
    for (const doc of ['README.md', join('docs', 'security.md'), join('docs', 'operations.md')]) {
      expect(text(doc), doc).toContain('GRANT_DEPLOYER_ACCESS');
    }
  });

  it('7. keeps maximumInstanceCount within Flex limits, no time zone setting, and infra/README counts the host settings', () => {
    for (const f of [main, app]) {
      // Flex's documented range (event-driven-scaling.md, 2026: "the lowest maximum instance count
      // value is 1"; it was 40 before).
      expect(f.code, f.path).toMatch(/@minValue\(1\)\s*@maxValue\(1000\)\s*param maximumInstanceCount int = (\d+)/);
      const value = Number(/param maximumInstanceCount int = (\d+)/.exec(f.code)?.[1]);
      expect(value).toBeGreaterThanOrEqual(1);
      expect(value).toBeLessThanOrEqual(1000);
    }
    expect(SETTINGS.SYNC_SCHEDULE.doc).not.toMatch(/unless WEBSITE_TIME_ZONE/);
    for (const f of files) expect(f.code, f.path).not.toMatch(/\b(WEBSITE_TIME_ZONE|TZ)\s*:/);
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
    const said = /`function-app\.bicep` adds the (\w+)/.exec(text(join('infra', 'README.md')))?.[1];
    expect(said && words.indexOf(said)).toBe(hostSettings.size);
    for (const name of hostSettings.keys())
      expect(text(join('infra', 'README.md')), name).toContain(name.replace(/^AzureWebJobsStorage(__\w+)$/, '$1'));
  });
});

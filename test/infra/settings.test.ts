/**
 * What can be checked of the Bicep without the Bicep compiler: the Function App's settings are the
 * ones the code reads (src/config.ts SETTINGS), less an explicit list kept out of Azure on purpose,
 * plus an explicit list the Functions host reads; no key, connection string with a key, or secret
 * parameter leaks into a setting or an output; azure.yaml names the service the Bicep tags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INSTANCE_MEMORY_MB, FUNCTION_APP_TUNING, functionAppTuning } from '../../src/common/process-tuning.js';
import { SETTING_NAMES, SETTINGS, type SettingName } from '../../src/config.js';
import { appSettingVars, type BicepFile, INFRA, outputs, params, REPO, readBicepFiles } from './bicep.js';

/** Read by the Functions host (or its extensions), not by src/config.ts. */
const HOST_SETTINGS: Readonly<Record<string, string>> = {
  // Host storage by managed identity: the user-assigned one, named by its client id.
  AzureWebJobsStorage__accountName:
    'host storage account, reached by identity (no AzureWebJobsStorage connection string)',
  AzureWebJobsStorage__credential: "'managedidentity'",
  AzureWebJobsStorage__clientId: "the user-assigned identity's client id",
  // Telemetry; the connection string carries no credential once local auth is off.
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'where telemetry goes',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "'Authorization=AAD;ClientId=…': send telemetry with the identity",
  // Read by @azure/identity's DefaultAzureCredential (the lake): which managed identity to use.
  AZURE_CLIENT_ID: "the user-assigned identity's client id",
  // The host starts the Node worker with these flags; glibc reads its variable in that fresh worker
  // (src/common/process-tuning.ts).
  languageWorkers__node__arguments: 'V8 heap limit and young generation size for the worker',
  MALLOC_MMAP_THRESHOLD_: "glibc's fixed mmap threshold for the worker",
};

/** Settings the code reads that the Function App must NOT have, and why. */
const NOT_IN_AZURE: Readonly<Partial<Record<SettingName, string>>> = {
  LAKE_CONNECTION_STRING:
    'would carry an account key (shared key is disabled on the lake) and would override LAKE_ACCOUNT_URL + managed identity',
  LAKE_LOCAL_DIR: 'would override the lake with a folder on the instance, which Flex Consumption throws away',
  EVENTS_QUEUE:
    'a connection string would carry an account key (shared key is disabled) and would win over the identity-based EVENTS_QUEUE__* settings, for the trigger and the code alike',
  PARTNER_CENTER_REFRESH_TOKEN:
    'a bootstrap secret; the first `referrals-lake login` writes the token cache into the lake (_state/) instead',
  PARTNER_CENTER_CLIENT_CERTIFICATE_FILE:
    'a local PEM file path; the deployment authenticates with the client secret from Key Vault (config refuses both)',
  PARTNER_CENTER_CA_FILE: 'only for the sandbox or a TLS-inspecting proxy; Azure trusts the public roots',
  TRIGGER_STATE_KEY:
    'a secret Bicep cannot make once and keep (a generated value would change at every provision, ending every trigger state); the operator stores it in Key Vault once (docs/operations.md)',
};

interface SettingsInBicep {
  /** Setting name → value expression, over every `*AppSettings` object var. */
  readonly settings: Map<string, string>;
  readonly files: readonly BicepFile[];
}

function settingsIn(files: readonly BicepFile[]): SettingsInBicep {
  const settings = new Map<string, string>();
  for (const file of files) {
    for (const entries of appSettingVars(file).values()) {
      for (const [name, value] of entries) {
        if (settings.has(name)) throw new Error(`${name} is set twice (${file.path})`);
        settings.set(name, value);
      }
    }
  }
  return { settings, files };
}

/** Settings the code reads but Bicep lacks, and settings Bicep sets that nobody reads. */
function drift(settings: ReadonlyMap<string, string>): { missing: string[]; unexpected: string[] } {
  const expected = SETTING_NAMES.filter((n) => !(n in NOT_IN_AZURE));
  return {
    missing: expected.filter((n) => !settings.has(n)),
    unexpected: [...settings.keys()].filter((n) => !(n in HOST_SETTINGS) && !expected.includes(n as SettingName)),
  };
}

/** `=<code default>` (empty for none) for an optional setting; nothing for a required one (azd prompts). */
function requiredDefault(name: SettingName): string {
  const spec: { default?: string; required?: boolean } = SETTINGS[name];
  return spec.required ? '' : `=${spec.default ?? ''}`;
}

const files = readBicepFiles();
const { settings } = settingsIn(files);
const main = files.find((f) => f.path === join('infra', 'main.bicep'));
const mainParams = new Map(main ? params(main).map((p) => [p.name, p]) : []);

describe('infra: Function App settings', () => {
  it('finds the Bicep files and the settings objects', () => {
    expect(main, 'infra/main.bicep').toBeDefined();
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        join('infra', 'modules', 'function-app.bicep'),
        join('infra', 'modules', 'storage.bicep'),
      ]),
    );
    expect(settings.size).toBeGreaterThan(10);
  });

  it('sets every setting the code reads, except the reasoned exceptions, and nothing else', () => {
    expect(drift(settings)).toEqual({ missing: [], unexpected: [] });
  });

  it('keeps both exception lists honest: real settings, never set, host names not the code’s', () => {
    for (const name of Object.keys(NOT_IN_AZURE)) {
      expect(SETTING_NAMES, name).toContain(name);
      expect(settings.has(name), `${name} must not be set in Azure`).toBe(false);
    }
    for (const name of Object.keys(HOST_SETTINGS)) {
      expect(SETTING_NAMES as string[]).not.toContain(name);
      expect(settings.has(name), `${name} (host)`).toBe(true);
    }
  });

  it('tunes the Node worker as the benchmark measured it, for every instance size allowed', () => {
    const app = files.find((f) => f.path.endsWith('function-app.bicep'));
    const allowed = /@allowed\(\[([^\]]*)\]\)\s*param\s+instanceMemoryMB\b/.exec(app?.code ?? '')?.[1];
    const sizes = (allowed ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    expect(sizes).toContain(DEFAULT_INSTANCE_MEMORY_MB);
    for (const file of files) {
      const fallback = /param\s+instanceMemoryMB\s+int\s*=\s*(\d+)/.exec(file.code)?.[1];
      if (fallback)
        expect(Number(fallback), `${file.path}: the default instance size`).toBe(DEFAULT_INSTANCE_MEMORY_MB);
    }
    for (const size of sizes) {
      // Bicep's integer `instanceMemoryMB / 4`, evaluated for this size.
      const evaluate = (value: string | undefined) =>
        value?.replace(/\$\{instanceMemoryMB \/ 4\}/g, String(Math.floor(size / 4)));
      for (const [name, value] of Object.entries(functionAppTuning(size))) {
        expect(evaluate(settings.get(name)), `${name} at ${size} MB`).toBe(`'${value}'`);
      }
    }
    expect(functionAppTuning(DEFAULT_INSTANCE_MEMORY_MB)).toEqual(FUNCTION_APP_TUNING);
  });

  it('fails when a setting is added that nothing reads, or one the code reads is dropped', () => {
    const tampered = files.map((f) =>
      f.path === main?.path
        ? {
            ...f,
            code: f.code
              .replace(/^\s*SYNC_MODE:[^\n]*\n/m, '')
              .replace('var codeAppSettings = {', "var codeAppSettings = {\n  SYNC_TURBO: 'true'"),
          }
        : f,
    );
    expect(drift(settingsIn(tampered).settings)).toEqual({ missing: ['SYNC_MODE'], unexpected: ['SYNC_TURBO'] });
  });

  it('gives every setting wired to a parameter the default src/config.ts has', () => {
    let compared = 0;
    for (const [name, value] of settings) {
      const param = mainParams.get(value);
      if (!param || !(name in SETTINGS)) continue;
      const codeDefault = SETTINGS[name as SettingName].default;
      if (codeDefault === undefined) {
        expect(param.defaultValue ?? "''", `${name} has no default in the code`).toBe("''");
        continue;
      }
      expect(param.defaultValue, `${name} ← param ${param.name}`).toBe(`'${codeDefault}'`);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(12);
  });

  it('wires the Azure-specific values: token cache in the lake, lake by identity, secret from Key Vault', () => {
    expect(settings.get('PARTNER_CENTER_TOKEN_CACHE')).toBe("'lake'");
    expect(settings.get('LAKE_ACCOUNT_URL')).toMatch(/^lakeStorage\.outputs\.blobEndpoint$/);
    expect(main?.code).toMatch(/module lakeStorage 'modules\/storage\.bicep'[\s\S]*?isHnsEnabled: true/);
    expect(main?.code).toMatch(/module lakeStorage 'modules\/storage\.bicep'[\s\S]*?containers: \[lakeContainerName\]/);
    // Every secret setting that is set at all is a Key Vault reference.
    for (const name of SETTING_NAMES.filter((n) => SETTINGS[n].secret && settings.has(n))) {
      expect(settings.get(name), name).toMatch(/^'@Microsoft\.KeyVault\(SecretUri=\$\{[\w.]+\}\)'$/);
    }
    expect(settings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
  });
});

describe('infra: no keys or secrets', () => {
  it('never lists keys or builds a key-bearing connection string', () => {
    for (const file of files) {
      expect(file.code, file.path).not.toMatch(
        /listKeys\(|listAccountSas\(|listServiceSas\(|AccountKey|SharedAccessSignature/i,
      );
      expect(file.code, file.path).not.toMatch(/AzureWebJobsStorage\s*:/);
      expect(file.code, file.path).not.toMatch(/InstrumentationKey/);
    }
  });

  it('outputs no secret: no @secure() param, connection string or secret value reaches an output', () => {
    const secureParams = files.flatMap((f) =>
      params(f)
        .filter((p) => p.secure)
        .map((p) => p.name),
    );
    expect(secureParams).toEqual(expect.arrayContaining(['partnerCenterClientSecret', 'clientSecretValue']));
    for (const file of files) {
      for (const output of outputs(file)) {
        const where = `${file.path} output ${output.name}`;
        expect(output.decorators, where).not.toMatch(/@secure/);
        expect(output.name, where).not.toMatch(/secret(?!uri)|password|connection_?string|account_?key|token$/i);
        expect(output.expression, where).not.toMatch(/ConnectionString|listKeys|\.value\b/);
        for (const name of secureParams) expect(output.expression, where).not.toMatch(new RegExp(`\\b${name}\\b`));
      }
    }
  });

  it('sends a secure parameter only to Key Vault: no default, no app setting', () => {
    for (const file of files) {
      for (const param of params(file).filter((p) => p.secure)) {
        expect(param.defaultValue ?? "''", `${file.path} ${param.name}`).toBe("''");
        for (const value of settings.values()) expect(value).not.toMatch(new RegExp(`\\b${param.name}\\b`));
      }
    }
    expect(main?.code.match(/\bpartnerCenterClientSecret\b/g)).toHaveLength(2); // declared, passed to the vault
    const vault = files.find((f) => f.path.endsWith('key-vault.bicep'));
    expect(vault?.code).toMatch(
      /resource \w+ 'Microsoft\.KeyVault\/vaults\/secrets@[^']+' = if \(!empty\(clientSecretValue\)\)/,
    );
  });

  it('main.parameters.json takes every value from the azd environment, never a literal', () => {
    const file = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    for (const [name, { value }] of Object.entries(file.parameters)) {
      expect(mainParams.has(name), `${name} is a parameter of main.bicep`).toBe(true);
      expect(value, name).toMatch(/^\$\{[A-Z_]+(=[^}]*)?\}$/);
    }
    for (const param of mainParams.values()) {
      if (param.defaultValue === undefined) expect(Object.keys(file.parameters), param.name).toContain(param.name);
    }
    // Each setting's parameter comes from the azd variable of the same name, with the code's default.
    for (const [name, value] of settings) {
      const entry = file.parameters[value];
      if (!mainParams.has(value) || !(name in SETTINGS)) continue;
      expect(entry?.value, `${name} ← ${value}`).toBe(`\${${name}${requiredDefault(name as SettingName)}}`);
    }
  });

  it('locks the storage accounts and the vault to Entra ID', () => {
    const code = (name: string) => files.find((f) => f.path.endsWith(name))?.code ?? '';
    for (const setting of [
      'allowSharedKeyAccess: false',
      'allowBlobPublicAccess: false',
      "minimumTlsVersion: 'TLS1_2'",
      'supportsHttpsTrafficOnly: true',
    ]) {
      expect(code('storage.bicep')).toContain(setting);
    }
    expect(code('key-vault.bicep')).toContain('enableRbacAuthorization: true');
    expect(code('monitoring.bicep')).toContain('DisableLocalAuth: true');
    const app = code('function-app.bicep');
    expect(app).toMatch(/sku: \{ tier: 'FlexConsumption', name: 'FC1' \}/);
    expect(app).toMatch(/runtime: \{ name: 'node', version: '22' \}/);
    expect(app).toMatch(/identity: \{\s*type: 'UserAssigned'/);
    expect(app).toMatch(
      /authentication: \{ type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId \}/,
    );
  });

  it('grants the function identity data-plane roles only, the lake role on the container alone', () => {
    const roles = files.find((f) => f.path.endsWith('role-assignments.bicep'))?.code ?? '';
    expect(roles).not.toMatch(/8e3af657-a8ff-443c-a75c-2fe8c4bcb635|b24988ac-6180-42a0-ab88-20f7382dd24c/); // Owner, Contributor
    expect(roles).toMatch(/resource functionLake [^\n]*\n[^\n]*\n\s*scope: lake::blobService::container/);
    // Any role on the container reads _state/msal-token-cache.json: only the app and its operator get one.
    const principals = [...roles.matchAll(/principalId: (\w+)/g)].map((m) => m[1]);
    expect(new Set(principals)).toEqual(new Set(['functionPrincipalId', 'deployerPrincipalId']));
  });
});

describe('azure.yaml', () => {
  // Comment lines dropped: what is left is the YAML azd reads.
  const yaml = readFileSync(join(REPO, 'azure.yaml'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  const serviceName = /var serviceName = '([^']+)'/.exec(main?.code ?? '')?.[1];

  it('names the Function App service the Bicep tags, on the function host, with its dist package', () => {
    expect(serviceName).toBeDefined();
    expect(yaml).toMatch(new RegExp(`\\nservices:\\n  ${serviceName}:\\n`));
    expect(yaml).toMatch(/\n {4}host: function\n/);
    expect(yaml).toMatch(/\n {4}language: ts\n/);
    expect(yaml).toMatch(/\n {4}dist: \.deploy\n/);
    expect(readFileSync(join(INFRA, 'modules', 'function-app.bicep'), 'utf8')).toContain(
      "'azd-service-name': serviceName",
    );
  });

  it('builds that package with the script the hook runs', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(yaml).toContain('run: npm run package:azure');
    expect(pkg.scripts['package:azure']).toContain('scripts/package-function.mjs');
    expect(readFileSync(join(REPO, 'scripts', 'package-function.mjs'), 'utf8')).toContain("join(root, '.deploy')");
  });

  it('sets the function keys after each deploy, with the CLI the package build compiled', () => {
    const hook = /\n {6}postdeploy:\n((?: {8}.*\n)+)/.exec(`${yaml}\n`)?.[1] ?? '';
    expect(hook.match(/run: node bin\/referrals-lake\.js keys\n/g)).toHaveLength(2);
    expect(readFileSync(join(REPO, 'bin', 'referrals-lake.js'), 'utf8')).toContain('../dist/dev/cli/main.js');
    expect(readFileSync(join(REPO, 'src', 'cli', 'main.ts'), 'utf8')).toContain('registerKeysCommand(program)');
  });
});

describe('local.settings.sample.json', () => {
  it('lists every setting the code reads (the README table too: test/config.test.ts)', () => {
    const sample = JSON.parse(readFileSync(join(REPO, 'local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    for (const name of SETTING_NAMES) expect(Object.keys(sample.Values), name).toContain(name);
  });
});

/**
 * Every app setting the code reads, declared once as data (name, doc, default, secret or not) and
 * parsed once at start. A bad value is a ConfigError naming the setting; secrets are never echoed.
 * local.settings.sample.json and the README's settings table list exactly these (a test checks).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './common/errors.js';

interface SettingSpec<T> {
  readonly doc: string;
  /** Value used when the setting is absent or empty; undefined means optional with no default. */
  readonly default?: string;
  readonly required?: boolean;
  /** Never printed, logged or echoed in an error. */
  readonly secret?: boolean;
  readonly schema: z.ZodType<T>;
}

const httpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://'), 'must be an https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));
const text = z.string().min(1);

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

export const SETTINGS = {
  PARTNER_CENTER_API_BASE_URL: setting({
    doc: 'Origin of the Partner Center REST API (the sandbox prints its own).',
    default: 'https://api.partner.microsoft.com',
    schema: httpsUrl,
  }),
  PARTNER_CENTER_AUTHORITY_HOST: setting({
    doc: 'Entra ID authority host; the tenant id is appended.',
    default: 'https://login.microsoftonline.com',
    schema: httpsUrl,
  }),
  PARTNER_CENTER_TENANT_ID: setting({
    doc: "The partner's Entra ID tenant (GUID or domain).",
    required: true,
    schema: text,
  }),
  PARTNER_CENTER_CLIENT_ID: setting({
    doc: 'Application (client) id of the app registration.',
    required: true,
    schema: text,
  }),
  PARTNER_CENTER_CLIENT_SECRET: setting({
    doc: 'Client secret of the app registration (a Key Vault reference in Azure).',
    secret: true,
    schema: text,
  }),
  PARTNER_CENTER_SCOPE: setting({
    doc: 'Delegated scope requested for the Partner Center API.',
    default: 'https://api.partner.microsoft.com/user_impersonation',
    schema: text,
  }),
  PARTNER_CENTER_REFRESH_TOKEN: setting({
    doc: 'Bootstrap only: a refresh token that seeds an empty token cache (prefer `referrals-lake login`).',
    secret: true,
    schema: text,
  }),
  PARTNER_CENTER_CA_FILE: setting({
    doc: 'PEM file of an extra CA to trust (the sandbox, or a TLS-inspecting proxy); added to the system CAs.',
    schema: text,
  }),
  PARTNER_CENTER_TOKEN_CACHE: setting({
    doc: 'Where the MSAL token cache (with the rotating refresh token) is kept: a file path for the CLI.',
    default: '.data/msal-token-cache.json',
    schema: text,
  }),
  PARTNER_CENTER_REQUEST_TIMEOUT_SECONDS: setting({
    doc: 'Deadline for one request to Partner Center.',
    default: '60',
    schema: z.coerce.number().int().min(1).max(600),
  }),
  PARTNER_CENTER_MAX_ATTEMPTS: setting({
    doc: 'Attempts per page request (429, 5xx, resets, timeouts and malformed pages are retried).',
    default: '8',
    schema: z.coerce.number().int().min(1).max(50),
  }),
  PARTNER_CENTER_MAX_RETRY_SECONDS: setting({
    doc: 'Total time one page request may take, waits included, before the run fails.',
    default: '600',
    schema: z.coerce.number().int().min(1).max(3600),
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Parsed<K extends SettingName> = (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;

export interface PartnerCenterConfig {
  readonly apiBaseUrl: string;
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scope: string;
  readonly bootstrapRefreshToken?: string;
  /** PEM text of the extra CA, read once here so a missing file fails at start. */
  readonly caPem?: string;
  readonly tokenCache: string;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxRetryMs: number;
}

export interface AppConfig {
  readonly partnerCenter: PartnerCenterConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses one setting: default when absent, ConfigError naming it when bad. */
export function readSetting<K extends SettingName>(env: Env, name: K): Parsed<K> | undefined {
  const spec = SETTINGS[name] as SettingSpec<Parsed<K>>;
  const raw = env[name]?.trim() || spec.default;
  if (raw === undefined || raw === '') {
    if (spec.required) throw new ConfigError(name, 'is required but not set');
    return undefined;
  }
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const reason = result.error.issues[0]?.message ?? 'is not valid';
    throw new ConfigError(name, spec.secret ? `is not valid (${reason})` : `'${raw}' is not valid: ${reason}`);
  }
  return result.data;
}

function readCaFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in the file');
    return pem;
  } catch (error) {
    throw new ConfigError('PARTNER_CENTER_CA_FILE', `cannot read a PEM certificate from '${path}'`, { cause: error });
  }
}

export function loadPartnerCenterConfig(env: Env = process.env): PartnerCenterConfig {
  return {
    apiBaseUrl: readSetting(env, 'PARTNER_CENTER_API_BASE_URL') ?? '',
    authorityHost: readSetting(env, 'PARTNER_CENTER_AUTHORITY_HOST') ?? '',
    tenantId: readSetting(env, 'PARTNER_CENTER_TENANT_ID') ?? '',
    clientId: readSetting(env, 'PARTNER_CENTER_CLIENT_ID') ?? '',
    clientSecret: readSetting(env, 'PARTNER_CENTER_CLIENT_SECRET'),
    scope: readSetting(env, 'PARTNER_CENTER_SCOPE') ?? '',
    bootstrapRefreshToken: readSetting(env, 'PARTNER_CENTER_REFRESH_TOKEN'),
    caPem: readCaFile(readSetting(env, 'PARTNER_CENTER_CA_FILE')),
    tokenCache: readSetting(env, 'PARTNER_CENTER_TOKEN_CACHE') ?? '',
    requestTimeoutMs: (readSetting(env, 'PARTNER_CENTER_REQUEST_TIMEOUT_SECONDS') ?? 60) * 1000,
    maxAttempts: readSetting(env, 'PARTNER_CENTER_MAX_ATTEMPTS') ?? 8,
    maxRetryMs: (readSetting(env, 'PARTNER_CENTER_MAX_RETRY_SECONDS') ?? 600) * 1000,
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  return { partnerCenter: loadPartnerCenterConfig(env) };
}

/**
 * Every app setting the code reads, declared once as data (name, doc, default, secret or not) and
 * parsed once at start. A bad value is a ConfigError naming the setting; secrets are never echoed.
 * local.settings.sample.json and the README's settings table list exactly these (a test checks).
 */
import { X509Certificate } from 'node:crypto';
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
/** `host` or `host:port`, as a URL's `host` spells it (lower case, no default port). */
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[1-9][0-9]{0,4})?$/;
const hostList = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ''),
  )
  .refine((hosts) => hosts.length > 0, 'must name at least one host')
  .refine((hosts) => hosts.every((h) => HOST.test(h)), 'must be host or host:port names, comma-separated');

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Azure Storage queue names: 3-63 characters, lowercase letters, digits and single hyphens inside. */
const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const MAX_QUEUE_NAME = 63;
/** The queue trigger moves a message that failed maxDequeueCount times to `<queue>-poison`. */
export const POISON_SUFFIX = '-poison';

/** Enough of a storage connection string to find a queue endpoint; the SDK parses the rest. */
function isQueueConnectionString(value: string): boolean {
  if (/^UseDevelopmentStorage=true;?$/i.test(value)) return true;
  const keys = new Set(value.split(';').map((part) => part.split('=')[0]?.trim().toLowerCase()));
  return keys.has('queueendpoint') || keys.has('accountname');
}

export const SETTINGS = {
  PARTNER_CENTER_API_BASE_URL: setting({
    doc: 'Origin of the Partner Center REST API (the sandbox prints its own).',
    default: 'https://api.partner.microsoft.com',
    schema: httpsUrl,
  }),
  PARTNER_CENTER_WEBHOOKS_BASE_URL: setting({
    doc: 'Origin of the Partner Center webhook registration API, `/webhooks/v1/registration` (the sandbox prints its own).',
    default: 'https://api.partnercenter.microsoft.com',
    schema: httpsUrl,
  }),
  PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: setting({
    doc: "Hosts (`host` or `host:port`, comma-separated) a webhook event's signing certificate URL (`x-ms-certificate-url`) may name; no other URL is fetched. Partner Center publishes its certificate on this blob host (the sandbox prints its own).",
    default: '3psostorageacct.blob.core.windows.net',
    schema: hostList,
  }),
  PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG: setting({
    doc: "The organisation (`O=`) the issuer of a webhook event's signing certificate must name, as Partner Center's docs check it (the sandbox prints its own).",
    default: 'Microsoft Corporation',
    schema: text,
  }),
  PARTNER_CENTER_WEBHOOKS_CERT_CHAIN: setting({
    doc: "`partial`: the signing certificate's chain is checked as far as the certificates served with it, Node's roots and PARTNER_CENTER_CA_FILE reach, and an issuer none of them holds is vouched for by the TLS download from an allowlisted host; `anchored`: the chain must reach one of those roots (the sandbox prints `anchored`). docs/security.md explains both.",
    default: 'partial',
    schema: z.enum(['partial', 'anchored']),
  }),
  PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES: setting({
    doc: 'A signed referral event whose ResourceChangeUtcDate is older than this is acknowledged but not queued: the bound on replaying a captured event (docs/security.md).',
    default: '1440',
    schema: z.coerce.number().int().min(1).max(43_200),
  }),
  PARTNER_CENTER_AUTHORITY_HOST: setting({
    doc: 'Entra ID authority host; the tenant id is appended.',
    default: 'https://login.microsoftonline.com',
    schema: httpsUrl,
  }),
  PARTNER_CENTER_TENANT_ID: setting({
    doc: "The partner's Entra ID tenant (GUID or domain); only cached accounts of this tenant and authority host are used.",
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
  PARTNER_CENTER_CLIENT_CERTIFICATE_FILE: setting({
    doc: 'PEM file with the app certificate and its RSA private key, instead of a client secret.',
    schema: text,
  }),
  PARTNER_CENTER_SCOPE: setting({
    doc: 'Delegated scope requested for the Partner Center API.',
    default: 'https://api.partner.microsoft.com/user_impersonation',
    schema: text,
  }),
  PARTNER_CENTER_REFRESH_TOKEN: setting({
    doc: 'Bootstrap only: a refresh token that signs in when the token cache has no account for these settings, or once when Entra refuses the cached one (prefer `referrals-lake login`).',
    secret: true,
    schema: text,
  }),
  PARTNER_CENTER_CA_FILE: setting({
    doc: 'PEM file of an extra CA to trust (the sandbox, or a TLS-inspecting proxy); added to the system CAs.',
    schema: text,
  }),
  PARTNER_CENTER_TOKEN_CACHE: setting({
    doc: 'Where the MSAL token cache (with the rotating refresh token) is kept: `lake` (`_state/` in the lake, for the function app) or a file path.',
    default: '.data/msal-token-cache.json',
    schema: text,
  }),
  PARTNER_CENTER_USERNAME: setting({
    doc: 'The user (UPN) whose cached account runs use; needed only when the token cache holds several for the tenant.',
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
  LAKE_CONNECTION_STRING: setting({
    doc: 'Storage connection string for the lake (or `UseDevelopmentStorage=true` for Azurite); prefer LAKE_ACCOUNT_URL in Azure.',
    secret: true,
    schema: text,
  }),
  LAKE_ACCOUNT_URL: setting({
    doc: 'Blob endpoint of the lake account (`https://<account>.blob.core.windows.net`); signs in with managed identity.',
    schema: z.string().url(),
  }),
  LAKE_CONTAINER: setting({
    doc: 'Container (ADLS Gen2 file system) that holds the lake.',
    default: 'referrals-lake',
    schema: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid container name'),
  }),
  LAKE_PREFIX: setting({
    doc: 'Folder inside the container under which every table, `raw/`, `_runs/` and `_state/` live.',
    schema: z.string().regex(/^[A-Za-z0-9._/-]*$/, 'letters, digits, . _ - and /'),
  }),
  LAKE_LOCAL_DIR: setting({
    doc: 'Write the lake to this local folder instead of Blob Storage (development, or files on disk).',
    schema: text,
  }),
  SYNC_SCHEDULE: setting({
    doc: 'NCRONTAB schedule of the timer function (seconds first; UTC: Flex Consumption supports no WEBSITE_TIME_ZONE).',
    default: '0 0 6 * * *',
    schema: text,
  }),
  SYNC_MODE: setting({
    doc: '`full` pulls every referral; `incremental` pulls those updated since the watermark minus the overlap.',
    default: 'full',
    schema: z.enum(['full', 'incremental']),
  }),
  SYNC_CONCURRENCY: setting({
    doc: 'Date ranges of a full run fetched side by side (lowered automatically while Partner Center throttles).',
    default: '4',
    schema: z.coerce.number().int().min(1).max(32),
  }),
  SYNC_PAGE_SIZE: setting({
    doc: 'Referrals asked for per page (`$top`); the server may send fewer.',
    default: '100',
    schema: z.coerce.number().int().min(1).max(1000),
  }),
  SYNC_RANGE_FIELD: setting({
    doc: 'Field that splits a full run into ranges: createdDateTime, or updatedDateTime (the documented filter field).',
    default: 'createdDateTime',
    schema: z.enum(['createdDateTime', 'updatedDateTime']),
  }),
  SYNC_OVERLAP_MINUTES: setting({
    doc: 'Incremental runs re-read this much before the watermark (clock skew, in-flight updates).',
    default: '60',
    schema: z.coerce.number().int().min(0).max(10_080),
  }),
  SYNC_MAX_VANISH_FRACTION: setting({
    doc: 'A full run that would remove more than this share of referrals_latest publishes nothing and fails (exit code 7), unless run with --allow-shrink.',
    default: '0.2',
    schema: z.coerce.number().min(0).max(1),
  }),
  LAKE_RETENTION_DAYS: setting({
    doc: 'Days earlier versions of the Delta tables stay readable (time travel); files only older versions need are deleted after that.',
    default: '7',
    schema: z.coerce.number().int().min(1).max(3650),
  }),
  SYNC_LEASE_SECONDS: setting({
    doc: 'Lease length without renewal: a crashed run blocks the next this long at most; a folder lake sweeps temp files a killed run left once this old.',
    default: '60',
    schema: z.coerce.number().int().min(2).max(3600),
  }),

  // ---- Events queue (issue 20: receiver → queue → worker) ----------------------------------------
  // EVENTS_QUEUE is also the `connection` of the worker's queue trigger: the Functions host reads the
  // same settings under the same names (loadEventsConfig below says how, and refuses what it cannot
  // read alike).
  EVENTS_QUEUE: setting({
    doc: 'Connection string of the storage account that holds the events queue (Azurite: `UseDevelopmentStorage=true` or its full string); in Azure leave it unset and use EVENTS_QUEUE__queueServiceUri.',
    secret: true,
    schema: text.refine(
      isQueueConnectionString,
      'needs QueueEndpoint= or AccountName= (or UseDevelopmentStorage=true)',
    ),
  }),
  EVENTS_QUEUE__queueServiceUri: setting({
    doc: 'Queue endpoint (`https://<account>.queue.core.windows.net`) of the identity-based connection EVENTS_QUEUE, as the Functions host documents it.',
    schema: httpsUrl,
  }),
  EVENTS_QUEUE__credential: setting({
    doc: '`managedidentity` in Azure: the connection signs in as the managed identity only; unset locally, where DefaultAzureCredential signs in as the developer.',
    schema: z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.literal('managedidentity', { message: "must be 'managedidentity'" })),
  }),
  EVENTS_QUEUE__clientId: setting({
    doc: 'Client id of the user-assigned managed identity that EVENTS_QUEUE signs in as (without it: the system-assigned one, or AZURE_CLIENT_ID).',
    schema: z.string().regex(GUID, 'must be a client id (GUID)'),
  }),
  EVENTS_QUEUE_NAME: setting({
    doc: 'Queue the receiver puts events on and the worker triggers on; the host moves messages that fail 5 times to `<name>-poison`.',
    default: 'referral-events',
    schema: z
      .string()
      .regex(
        QUEUE_NAME,
        'must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
      )
      .max(
        MAX_QUEUE_NAME - POISON_SUFFIX.length,
        `must leave room for the '${POISON_SUFFIX}' suffix (at most ${MAX_QUEUE_NAME - POISON_SUFFIX.length} characters)`,
      ),
  }),
  EVENTS_FLUSH_SECONDS: setting({
    doc: 'The worker applies queued events to the lake at most once per this many seconds, so a burst makes a few runs, not one per event.',
    default: '30',
    schema: z.coerce.number().int().min(1).max(600),
  }),

  // ---- Writes (issue 21) ------------------------------------------------------------------------
  LIVE_WRITES_ENABLED: setting({
    doc: '`true` lets the write routes (accept, decline, update a referral) change Partner Center; anything else, and they answer 403 naming this setting.',
    default: 'false',
    schema: z.enum(['true', 'false']).transform((value) => value === 'true'),
  }),

  // ---- The flows' trigger -----------------------------------------------------------------------
  TRIGGER_STATE_KEY: setting({
    doc: "Secret (32 characters or more) the flows' trigger seals its states with; unset, the key derives from the Entra ID credential, and rotating that makes every flow's trigger start again. A Key Vault reference in Azure (docs/operations.md).",
    secret: true,
    schema: z.string().min(32, 'needs 32 characters or more'),
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Parsed<K extends SettingName> = (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;

export interface PartnerCenterConfig {
  readonly apiBaseUrl: string;
  /** Origin of the webhook registration API (PARTNER_CENTER_WEBHOOKS_BASE_URL). */
  readonly webhooksBaseUrl: string;
  /** Hosts an event's certificate URL may name (PARTNER_CENTER_WEBHOOKS_CERT_HOSTS), lower case. */
  readonly webhookCertificateHosts: readonly string[];
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Certificate credential, read once here: thumbprint, key and chain for MSAL. */
  readonly clientCertificate?: { readonly thumbprintSha256: string; readonly privateKey: string; readonly x5c: string };
  readonly scope: string;
  readonly bootstrapRefreshToken?: string;
  /** PEM text of the extra CA, read once here so a missing file fails at start. */
  readonly caPem?: string;
  readonly tokenCache: string;
  /** The cached account to use, by username; without it the cache must hold one for the tenant. */
  readonly username?: string;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxRetryMs: number;
}

/** What the webhook receiver needs: no credential, so it loads without the sign-in settings. */
export interface WebhookReceiverConfig {
  /** Origin of the webhook registration API; its host is a Partner Center host an event's ResourceUri may name. */
  readonly webhooksBaseUrl: string;
  /** Hosts (`host` or `host:port`, lower case) an event's certificate URL may name. */
  readonly certificateHosts: readonly string[];
  /** The `O=` the signing certificate's issuer must name. */
  readonly certificateIssuerOrganization: string;
  /** Whether the signing certificate's chain must reach a trusted root (docs/security.md). */
  readonly certificateChain: 'partial' | 'anchored';
  /** Older referral events are acknowledged but not queued. */
  readonly maxEventAgeMs: number;
  /** PEM text of PARTNER_CENTER_CA_FILE: trusted for the certificate download and as a chain anchor. */
  readonly caPem?: string;
}

export type LakeConfig =
  | { readonly kind: 'local'; readonly dir: string }
  | {
      readonly kind: 'connection-string';
      readonly connectionString: string;
      readonly container: string;
      readonly prefix?: string;
    }
  | { readonly kind: 'account-url'; readonly accountUrl: string; readonly container: string; readonly prefix?: string };

export interface SyncConfig {
  readonly schedule: string;
  readonly mode: 'full' | 'incremental';
  readonly concurrency: number;
  readonly pageSize: number;
  readonly rangeField: 'createdDateTime' | 'updatedDateTime';
  readonly overlapMs: number;
  readonly leaseMs: number;
  /** How long a Delta table's earlier versions stay readable (LAKE_RETENTION_DAYS). */
  readonly retentionMs: number;
  /** Share of referrals_latest a full run may remove before it is refused (SYNC_MAX_VANISH_FRACTION). */
  readonly maxVanishFraction: number;
}

export interface AppConfig {
  readonly partnerCenter: PartnerCenterConfig;
  readonly lake: LakeConfig;
  readonly sync: SyncConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * App Service hands an app setting whose Key Vault (or App Configuration) reference it could not
 * resolve to the app as the reference text itself, and keeps that for up to a day. Taken as a value,
 * it would be sent to Entra ID as the client secret and fail every run with `invalid_client`.
 */
function isUnresolvedReference(raw: string): boolean {
  return /^@Microsoft\.(KeyVault|AppConfiguration)\(/i.test(raw);
}

const UNRESOLVED_REFERENCE =
  'is a Key Vault reference that App Service did not resolve (the app received the reference text, not the value). ' +
  "Check that the secret exists and that the app's identity may read it (Function App → Settings → Environment variables shows the reference's status), " +
  'then refresh the references: az rest --method post --url "$(az functionapp show -g <group> -n <app> --query id -o tsv)/config/configreferences/appsettings/refresh?api-version=2022-03-01" ' +
  '(docs/operations.md, "First deployment")';

/** Parses one setting: default when absent, ConfigError naming it when bad. */
export function readSetting<K extends SettingName>(env: Env, name: K): Parsed<K> | undefined {
  const spec = SETTINGS[name] as SettingSpec<Parsed<K>>;
  const raw = env[name]?.trim() || spec.default;
  if (raw === undefined || raw === '') {
    if (spec.required) throw new ConfigError(name, 'is required but not set');
    return undefined;
  }
  if (isUnresolvedReference(raw)) throw new ConfigError(name, UNRESOLVED_REFERENCE);
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

/** The certificate credential; a secret and a certificate together is a mistake MSAL refuses. */
function readClientCertificate(env: Env): PartnerCenterConfig['clientCertificate'] {
  const path = readSetting(env, 'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE');
  if (path === undefined) return undefined;
  if (readSetting(env, 'PARTNER_CENTER_CLIENT_SECRET')) {
    throw new ConfigError(
      'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE',
      'set either it or PARTNER_CENTER_CLIENT_SECRET, not both',
    );
  }
  try {
    const pem = readFileSync(path, 'utf8');
    const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
    const keyPem = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA )?PRIVATE KEY-----/.exec(pem)?.[0];
    if (!certPem || !keyPem) throw new Error('the file needs a CERTIFICATE and a PRIVATE KEY block');
    const cert = new X509Certificate(certPem);
    return {
      thumbprintSha256: cert.fingerprint256.replaceAll(':', ''),
      privateKey: keyPem,
      x5c: certPem,
    };
  } catch (error) {
    throw new ConfigError(
      'PARTNER_CENTER_CLIENT_CERTIFICATE_FILE',
      `cannot read a certificate and key from '${path}'`,
      {
        cause: error,
      },
    );
  }
}

export function loadPartnerCenterConfig(env: Env = process.env): PartnerCenterConfig {
  return {
    apiBaseUrl: readSetting(env, 'PARTNER_CENTER_API_BASE_URL') ?? '',
    webhooksBaseUrl: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_BASE_URL') ?? '',
    webhookCertificateHosts: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_CERT_HOSTS') ?? [],
    authorityHost: readSetting(env, 'PARTNER_CENTER_AUTHORITY_HOST') ?? '',
    tenantId: readSetting(env, 'PARTNER_CENTER_TENANT_ID') ?? '',
    clientId: readSetting(env, 'PARTNER_CENTER_CLIENT_ID') ?? '',
    clientSecret: readSetting(env, 'PARTNER_CENTER_CLIENT_SECRET'),
    clientCertificate: readClientCertificate(env),
    scope: readSetting(env, 'PARTNER_CENTER_SCOPE') ?? '',
    bootstrapRefreshToken: readSetting(env, 'PARTNER_CENTER_REFRESH_TOKEN'),
    caPem: readCaFile(readSetting(env, 'PARTNER_CENTER_CA_FILE')),
    tokenCache: readSetting(env, 'PARTNER_CENTER_TOKEN_CACHE') ?? '',
    username: readSetting(env, 'PARTNER_CENTER_USERNAME'),
    requestTimeoutMs: (readSetting(env, 'PARTNER_CENTER_REQUEST_TIMEOUT_SECONDS') ?? 60) * 1000,
    maxAttempts: readSetting(env, 'PARTNER_CENTER_MAX_ATTEMPTS') ?? 8,
    maxRetryMs: (readSetting(env, 'PARTNER_CENTER_MAX_RETRY_SECONDS') ?? 600) * 1000,
  };
}

export function loadWebhookReceiverConfig(env: Env = process.env): WebhookReceiverConfig {
  return {
    webhooksBaseUrl: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_BASE_URL') ?? '',
    certificateHosts: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_CERT_HOSTS') ?? [],
    certificateIssuerOrganization: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG') ?? '',
    certificateChain: readSetting(env, 'PARTNER_CENTER_WEBHOOKS_CERT_CHAIN') ?? 'partial',
    maxEventAgeMs: (readSetting(env, 'PARTNER_CENTER_WEBHOOKS_MAX_EVENT_AGE_MINUTES') ?? 1440) * 60_000,
    caPem: readCaFile(readSetting(env, 'PARTNER_CENTER_CA_FILE')),
  };
}

/** Where the lake is: a local folder, or a container reached by connection string or managed identity. */
export function loadLakeConfig(env: Env = process.env): LakeConfig {
  const dir = readSetting(env, 'LAKE_LOCAL_DIR');
  if (dir) return { kind: 'local', dir };
  const container = readSetting(env, 'LAKE_CONTAINER') ?? 'referrals-lake';
  const prefix = readSetting(env, 'LAKE_PREFIX');
  const connectionString = readSetting(env, 'LAKE_CONNECTION_STRING');
  if (connectionString) return { kind: 'connection-string', connectionString, container, prefix };
  const accountUrl = readSetting(env, 'LAKE_ACCOUNT_URL');
  if (accountUrl) return { kind: 'account-url', accountUrl, container, prefix };
  throw new ConfigError(
    'LAKE_ACCOUNT_URL',
    'no lake is configured: set LAKE_ACCOUNT_URL, LAKE_CONNECTION_STRING or LAKE_LOCAL_DIR',
  );
}

export function loadSyncConfig(env: Env = process.env): SyncConfig {
  return {
    schedule: readSetting(env, 'SYNC_SCHEDULE') ?? '0 0 6 * * *',
    mode: readSetting(env, 'SYNC_MODE') ?? 'full',
    concurrency: readSetting(env, 'SYNC_CONCURRENCY') ?? 4,
    pageSize: readSetting(env, 'SYNC_PAGE_SIZE') ?? 100,
    rangeField: readSetting(env, 'SYNC_RANGE_FIELD') ?? 'createdDateTime',
    overlapMs: (readSetting(env, 'SYNC_OVERLAP_MINUTES') ?? 60) * 60_000,
    leaseMs: (readSetting(env, 'SYNC_LEASE_SECONDS') ?? 60) * 1000,
    retentionMs: (readSetting(env, 'LAKE_RETENTION_DAYS') ?? 7) * 86_400_000,
    maxVanishFraction: readSetting(env, 'SYNC_MAX_VANISH_FRACTION') ?? 0.2,
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  return { partnerCenter: loadPartnerCenterConfig(env), lake: loadLakeConfig(env), sync: loadSyncConfig(env) };
}

// ---- Events queue (issue 20) --------------------------------------------------------------------

/** The worker trigger's `connection`: the name under which the host finds the settings below. */
export const EVENTS_QUEUE_CONNECTION = 'EVENTS_QUEUE';
/** The worker trigger's `queueName`: an app-setting expression the host resolves to EVENTS_QUEUE_NAME. */
export const EVENTS_QUEUE_NAME_EXPRESSION = '%EVENTS_QUEUE_NAME%';

export type EventsQueueConnection =
  | { readonly kind: 'connection-string'; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly queueServiceUri: string;
      /** `managedidentity`: the managed identity only (Azure); absent: DefaultAzureCredential. */
      readonly credential?: 'managedidentity';
      /** Which user-assigned managed identity; absent: AZURE_CLIENT_ID, else the system-assigned one. */
      readonly clientId?: string;
    };

export interface EventsConfig {
  readonly connection: EventsQueueConnection;
  readonly queueName: string;
  /** `<queueName>-poison`: where the queue trigger moves a message after maxDequeueCount failures. */
  readonly poisonQueueName: string;
  /** EVENTS_FLUSH_SECONDS in milliseconds. */
  readonly flushMs: number;
}

const IDENTITY_SETTINGS = [
  'EVENTS_QUEUE__queueServiceUri',
  'EVENTS_QUEUE__credential',
  'EVENTS_QUEUE__clientId',
] as const satisfies readonly SettingName[];
const READ_HERE: ReadonlySet<string> = new Set([EVENTS_QUEUE_CONNECTION, ...IDENTITY_SETTINGS]);

export function loadEventsConfig(env: Env = process.env): EventsConfig {
  const queueName = readSetting(env, 'EVENTS_QUEUE_NAME') ?? 'referral-events';
  return {
    connection: readEventsQueueConnection(env),
    queueName,
    poisonQueueName: `${queueName}${POISON_SUFFIX}`,
    flushMs: (readSetting(env, 'EVENTS_FLUSH_SECONDS') ?? 30) * 1000,
  };
}

/**
 * The connection the Functions host builds for a queue trigger whose `connection` is EVENTS_QUEUE
 * (Storage extension 5.x), read alike so that the receiver's enqueue and the worker's trigger can
 * never reach different queues. The host looks for `AzureWebJobsEVENTS_QUEUE` first, then
 * `EVENTS_QUEUE` (also under `ConnectionStrings`); a value there is a connection string and wins
 * over every `EVENTS_QUEUE__*` setting; without one, the `__` settings make an identity-based
 * connection (`__accountName`, else `__queueServiceUri`, else `__serviceUri`), signed in as the
 * managed identity when `__credential` is `managedidentity` (the user-assigned one named by
 * `__clientId`), else with DefaultAzureCredential. This app reads only the four settings in
 * READ_HERE; any other the host would read for this connection is refused, naming it, and so is a
 * mix the host would resolve differently from what its author meant.
 */
function readEventsQueueConnection(env: Env): EventsQueueConnection {
  refuseSettingsOnlyTheHostReads(env);
  const identity = IDENTITY_SETTINGS.filter((name) => env[name]?.trim());
  const connectionString = readSetting(env, 'EVENTS_QUEUE');
  if (connectionString !== undefined) {
    const [first] = identity;
    if (first) {
      throw new ConfigError(
        first,
        'set either it or EVENTS_QUEUE (a connection string), not both: the Functions host would take the connection string and ignore it',
      );
    }
    return { kind: 'connection-string', connectionString };
  }
  if (env.EVENTS_QUEUE !== undefined && identity.length > 0) {
    throw new ConfigError(
      'EVENTS_QUEUE',
      'is set but empty: remove it, since the Functions host takes any EVENTS_QUEUE value, even an empty one, as the connection string and ignores EVENTS_QUEUE__queueServiceUri',
    );
  }
  const queueServiceUri = readSetting(env, 'EVENTS_QUEUE__queueServiceUri');
  if (queueServiceUri === undefined) {
    if (identity.length > 0)
      throw new ConfigError('EVENTS_QUEUE__queueServiceUri', 'is required with the other EVENTS_QUEUE__ settings');
    throw new ConfigError(
      'EVENTS_QUEUE',
      'no events queue is configured: set EVENTS_QUEUE__queueServiceUri (identity; in Azure with __credential and __clientId) or EVENTS_QUEUE (a connection string; Azurite)',
    );
  }
  return {
    kind: 'identity',
    queueServiceUri,
    credential: readSetting(env, 'EVENTS_QUEUE__credential'),
    clientId: readSetting(env, 'EVENTS_QUEUE__clientId'),
  };
}

/** A setting the host would read for EVENTS_QUEUE and this app would not: refused, by its name. */
function refuseSettingsOnlyTheHostReads(env: Env): void {
  for (const name of Object.keys(env)) {
    if (env[name] === undefined || READ_HERE.has(name)) continue;
    const upper = name.toUpperCase();
    if (/^(AZUREWEBJOBS|CONNECTIONSTRINGS__)EVENTS_QUEUE(__|$)/.test(upper)) {
      throw new ConfigError(
        name,
        `the Functions host reads it before ${EVENTS_QUEUE_CONNECTION} for the events queue trigger, but this app does not: move it to the ${EVENTS_QUEUE_CONNECTION} setting of the same suffix`,
      );
    }
    if (/^EVENTS_QUEUE(__|$)/.test(upper)) {
      throw new ConfigError(
        name,
        `the Functions host would read it for the events queue trigger, but this app would not: use ${[...READ_HERE].join(', ')} (spelled so)`,
      );
    }
  }
}

/**
 * Starts the sandbox: one HTTPS server on 127.0.0.1 that is Partner Center's Referrals API, its
 * webhook registration API (which sends signed events on every change) and the Entra ID token
 * endpoint, plus a few `/_sandbox/…` control routes for tests and benchmarks.
 * Used in-process by tests and by `referrals-lake sandbox` / the demo.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingName } from '../src/config.js';
import type { Referral } from '../src/schema/referral-resource.js';
import { BookWriter } from './book-writer.js';
import { SandboxClock } from './clock.js';
import { handleControl } from './control.js';
import { type ClockAdvance, ExpiryJob } from './expiry.js';
import { FaultInjector, type FaultPlan, parseFaultSpec } from './faults.js';
import { createGeneratorContext, generateReferrals } from './generator.js';
import { IdentityProvider, type SandboxUser } from './identity.js';
import { type MutationResult, Mutator } from './mutator.js';
import { createRandom } from './random.js';
import { type ApiOptions, type AuthResult, ReferralsApi, sendError } from './referrals-api.js';
import { loadReferralsFile } from './referrals-file.js';
import { SkipTokenCodec } from './skiptoken.js';
import { ReferralStore } from './store.js';
import { loadOrCreateTls, SANDBOX_ORGANIZATION, type SandboxTls } from './tls.js';
import { type DeliveryStats, WebhookDelivery } from './webhook-delivery.js';
import { PARTNER_CENTER_RESOURCE_BASE } from './webhook-events.js';
import { Webhooks } from './webhooks.js';
import { CERTIFICATE_PATH, WebhooksApi, type WebhooksApiDependencies } from './webhooks-api.js';
import { WriteService } from './write-service.js';

/** What a mutation changed; re-exported for the tests that drive the sandbox in process. */
export type { MutationResult } from './mutator.js';

export interface SandboxOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Seeded referrals to generate (ignored when `referrals` or `dataFile` is given). */
  readonly count?: number;
  readonly seed?: number;
  readonly referrals?: readonly Referral[];
  /** A JSON (array or `{ value: [...] }`) or NDJSON file of referrals to serve instead. */
  readonly dataFile?: string;
  readonly defaultPageSize?: number;
  readonly maxPageSize?: number;
  readonly topMode?: ApiOptions['topMode'];
  readonly nextLinkStyle?: ApiOptions['nextLinkStyle'];
  /** A FaultPlan or its CLI form (see faults.ts). */
  readonly faults?: FaultPlan | string;
  readonly accessTokenLifetimeSeconds?: number;
  /** The sandbox approves device codes itself after this delay; null waits for /_sandbox/device/approve. */
  readonly deviceCodeAutoApproveMs?: number | null;
  /** Where the CA and server certificate are kept between runs. */
  readonly tlsDir?: string;
  /** The Entra tenant the sandbox stands for; another id plays another partner's tenant. */
  readonly tenantId?: string;
  /** The tenant's verified domain, accepted in place of the id (PARTNER_CENTER_TENANT_ID may name either). */
  readonly tenantDomain?: string;
  readonly webhooks?: WebhookOptions;
}

export interface WebhookOptions {
  /** Origin of the events' ResourceUri; Partner Center's own by default, as the real events carry. */
  readonly resourceBase?: string;
  /** Waits before delivery attempts 2…10 (the docs give the count, not the waits); the last repeats. */
  readonly retryDelaysMs?: readonly number[];
  /** An attempt not answered by then fails. */
  readonly attemptTimeoutMs?: number;
  /** What POST /webhooks/v1/registration does while one exists: 409 (default), or replace it. */
  readonly postWhenRegistered?: WebhooksApiDependencies['postWhenRegistered'];
}

/** 1 s doubling to about 4 min: some ten minutes in all before an event is parked. */
const DEFAULT_RETRY_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((s) => s * 1000);
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;

export const SANDBOX_USERS: readonly SandboxUser[] = [
  {
    oid: '7f3c1a52-0b7e-4c55-9a43-2f1d8f5a9e01',
    email: 'admin@contoso-partner.example',
    name: 'Ada Admin',
    role: 'admin',
  },
  {
    oid: '2b9e4f10-6c1d-4e8a-b7f2-91c0d3e4a5b6',
    email: 'seller@contoso-partner.example',
    name: 'Sam Seller',
    role: 'user',
  },
  {
    oid: 'c0ffee00-1111-4222-8333-444455556666',
    email: 'norole@contoso-partner.example',
    name: 'Nora Norole',
    role: 'none',
  },
];

export interface SandboxStats {
  readonly api: ReferralsApi['stats'];
  readonly identity: IdentityProvider['stats'];
  readonly faults: FaultInjector['counts'];
  /** Delivery counts, and how often the signing certificate was fetched (a receiver's cache keeps that low). */
  readonly webhooks: DeliveryStats & { readonly certificateRequests: number };
  readonly referrals: number;
  /** The sandbox process's own CPU time and memory, so benchmarks can tell its cost from the client's. */
  readonly process: { readonly cpuUserMs: number; readonly cpuSystemMs: number; readonly rssBytes: number };
}

/** The settings that point a sync at the sandbox; the rest keep their defaults. */
export type SandboxEnv = Readonly<
  Record<
    Extract<
      SettingName,
      | 'PARTNER_CENTER_API_BASE_URL'
      | 'PARTNER_CENTER_WEBHOOKS_BASE_URL'
      | 'PARTNER_CENTER_WEBHOOKS_CERT_HOSTS'
      | 'PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG'
      | 'PARTNER_CENTER_WEBHOOKS_CERT_CHAIN'
      | 'PARTNER_CENTER_AUTHORITY_HOST'
      | 'PARTNER_CENTER_TENANT_ID'
      | 'PARTNER_CENTER_CLIENT_ID'
      | 'PARTNER_CENTER_CLIENT_SECRET'
      | 'PARTNER_CENTER_SCOPE'
      | 'PARTNER_CENTER_REFRESH_TOKEN'
      | 'PARTNER_CENTER_CA_FILE'
    >,
    string
  >
>;

export interface Sandbox {
  /** https://127.0.0.1:port: both the API base URL and the authority host. */
  readonly baseUrl: string;
  /** The verified domain of the sandbox tenant (its id is env.PARTNER_CENTER_TENANT_ID). */
  readonly tenantDomain: string;
  /** Every app setting a sync needs to use this sandbox, by its real name. */
  readonly env: SandboxEnv;
  readonly caPem: string;
  /** The app's registered certificate (key + certificate PEM): set it as PARTNER_CENTER_CLIENT_CERTIFICATE_FILE, instead of the secret. */
  readonly clientCertificateFile: string;
  readonly store: ReferralStore;
  readonly identity: IdentityProvider;
  readonly faults: FaultInjector;
  /** The tenant's webhook registration, and the emitter every writer of referrals calls. */
  readonly webhooks: Webhooks;
  /** Every webhook event sent or dropped, with its attempts; tests wait on it. */
  readonly webhookDeliveries: WebhookDelivery;
  /** Where the certificate that signs the events is served (x-ms-certificate-url). */
  readonly webhookCertificateUrl: string;
  /**
   * The sandbox's own server certificate (127.0.0.1 and localhost, issued by its CA): a local
   * https:// webhook receiver can serve it, and the sandbox trusts it when it delivers.
   */
  readonly receiverTls: { readonly certPem: string; readonly keyPem: string };
  /** Updates, creates and removes referrals now, as Partner Center users (and lost visibility) would. */
  mutate(updates: number, creates?: number, removes?: number): MutationResult;
  /** The clock every change is stamped with: the wall clock plus what advanceClock added. */
  readonly clock: SandboxClock;
  /** Moves the clock on by `days` and runs the expiry job, as `POST /_sandbox/clock` does. */
  advanceClock(days: number): ClockAdvance;
  stats(): SandboxStats;
  close(): Promise<void>;
}

const TENANT_ID = '4d2c7b1e-9a8f-4e3d-b6c5-a1b2c3d4e5f6';
const TENANT_DOMAIN = 'contoso-partner.example';
const CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seed = options.seed ?? 1;
  const referrals = await initialReferrals(options, seed);
  const store = new ReferralStore(referrals);
  const tls = await loadOrCreateTls(options.tlsDir ?? join(tmpdir(), 'referrals-lake-sandbox-tls'));
  const faultPlan = typeof options.faults === 'string' ? parseFaultSpec(options.faults) : (options.faults ?? {});
  const faults = new FaultInjector(faultPlan, seed);
  const clientSecret = `sbx~${randomBytes(24).toString('base64url')}`;
  const tenantId = options.tenantId ?? TENANT_ID;
  const tenantDomain = options.tenantDomain ?? TENANT_DOMAIN;
  const identity = await IdentityProvider.create({
    tenantId,
    domains: [tenantDomain],
    clientId: CLIENT_ID,
    clientSecret,
    clientCertificatePem: tls.clientCertPem,
    users: [...SANDBOX_USERS],
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
    deviceCodeAutoApproveMs: options.deviceCodeAutoApproveMs === undefined ? 1000 : options.deviceCodeAutoApproveMs,
  });
  let origin = '';
  const certificateUrl = () => `${origin}${CERTIFICATE_PATH}`;
  const { deliveries, webhooks, webhooksApi } = createWebhooks(options.webhooks ?? {}, {
    tls,
    faults,
    tenantId,
    certificateUrl,
    authenticate: (header) => authenticate(identity, header),
  });
  const { clock, mutator, writes, expiry } = createWriters(store, webhooks, seed);
  const api = new ReferralsApi(
    {
      defaultPageSize: options.defaultPageSize ?? 100,
      maxPageSize: options.maxPageSize ?? Math.max(100, options.defaultPageSize ?? 100),
      topMode: options.topMode ?? 'page-size',
      nextLinkStyle: options.nextLinkStyle ?? 'seed',
    },
    {
      store,
      writes,
      faults,
      skipTokens: new SkipTokenCodec(randomBytes(32)),
      authenticate: (header) => authenticate(identity, header),
      expireTokens: () => identity.expireAccessTokens(),
      afterPage: () => {
        const plan = faults.mutationsPerPage();
        if (plan) faults.counts.mutations += mutator.mutate(plan.updates, plan.creates).updated.length;
      },
      origin: () => origin,
    },
  );
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const context = { api, webhooksApi, identity, faults, store, mutator, deliveries, clock, expiry, stats };
    route(req, res, context).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalServerError', describe(error), randomUUID());
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  origin = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  identity.setIssuerOrigin(origin);
  const stats = (): SandboxStats => ({
    api: { ...api.stats },
    identity: { ...identity.stats, byGrant: { ...identity.stats.byGrant } },
    faults: { ...faults.counts },
    webhooks: { ...deliveries.stats, certificateRequests: webhooksApi.certificateRequests },
    referrals: store.size,
    process: processUsage(),
  });
  return {
    baseUrl: origin,
    tenantDomain,
    env: {
      PARTNER_CENTER_API_BASE_URL: origin,
      PARTNER_CENTER_WEBHOOKS_BASE_URL: origin,
      PARTNER_CENTER_WEBHOOKS_CERT_HOSTS: new URL(certificateUrl()).host,
      // The sandbox CA issues the signing certificate and is PARTNER_CENTER_CA_FILE: the chain always reaches it.
      PARTNER_CENTER_WEBHOOKS_CERT_ISSUER_ORG: SANDBOX_ORGANIZATION,
      PARTNER_CENTER_WEBHOOKS_CERT_CHAIN: 'anchored',
      PARTNER_CENTER_AUTHORITY_HOST: origin,
      PARTNER_CENTER_TENANT_ID: tenantId,
      PARTNER_CENTER_CLIENT_ID: CLIENT_ID,
      PARTNER_CENTER_CLIENT_SECRET: clientSecret,
      PARTNER_CENTER_SCOPE: 'https://api.partner.microsoft.com/user_impersonation',
      PARTNER_CENTER_REFRESH_TOKEN: identity.issueBootstrapRefreshToken(0),
      PARTNER_CENTER_CA_FILE: tls.caFile,
    },
    caPem: tls.caCertPem,
    clientCertificateFile: tls.clientCertFile,
    store,
    identity,
    faults,
    webhooks,
    webhookDeliveries: deliveries,
    webhookCertificateUrl: certificateUrl(),
    receiverTls: { certPem: tls.certPem, keyPem: tls.keyPem },
    mutate: (updates, creates = 0, removes = 0) => mutator.mutate(updates, creates, removes),
    clock,
    advanceClock: (days) => expiry.advance(days),
    stats,
    close: () => {
      deliveries.close();
      return closeServer(server);
    },
  };
}

/**
 * Everything that changes the book, on one clock and through one BookWriter (so every change
 * reaches the webhooks): the mutator, the write routes' service and the expiry job. Each draws from
 * its own seeded stream, so using one never shifts what another draws.
 */
function createWriters(store: ReferralStore, webhooks: Webhooks, seed: number) {
  const clock = new SandboxClock();
  const writer = new BookWriter(store, webhooks);
  const context = createGeneratorContext({ seed });
  return {
    clock,
    mutator: new Mutator(store, writer, createRandom(seed ^ 0x5eed), context, clock),
    writes: new WriteService({
      store,
      writer,
      clock,
      random: createRandom(seed ^ 0x3717e5),
      organization: context.organization,
    }),
    expiry: new ExpiryJob(store, writer, createRandom(seed ^ 0xe4b1e), clock),
  };
}

/** The webhook registration API, the emitter the writers call, and the delivery behind them. */
function createWebhooks(
  options: WebhookOptions,
  deps: {
    readonly tls: SandboxTls;
    readonly faults: FaultInjector;
    readonly tenantId: string;
    readonly certificateUrl: () => string;
    readonly authenticate: WebhooksApiDependencies['authenticate'];
  },
): { deliveries: WebhookDelivery; webhooks: Webhooks; webhooksApi: WebhooksApi } {
  const deliveries = new WebhookDelivery(
    {
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
      signingKeyPem: deps.tls.webhookSigning.keyPem,
      certificateUrl: deps.certificateUrl,
      caPem: deps.tls.caCertPem,
    },
    deps.faults,
  );
  const webhooks = new Webhooks(deliveries, {
    tenantId: deps.tenantId,
    resourceBase: (options.resourceBase ?? PARTNER_CENTER_RESOURCE_BASE).replace(/\/+$/, ''),
  });
  const webhooksApi = new WebhooksApi({
    webhooks,
    authenticate: deps.authenticate,
    certificatePem: deps.tls.webhookSigning.certPem,
    postWhenRegistered: options.postWhenRegistered ?? 'conflict',
  });
  return { deliveries, webhooks, webhooksApi };
}

async function initialReferrals(options: SandboxOptions, seed: number): Promise<readonly Referral[]> {
  if (options.referrals) return options.referrals;
  if (options.dataFile) return loadReferralsFile(options.dataFile);
  return generateReferrals({ count: options.count ?? 5000, seed });
}

async function authenticate(identity: IdentityProvider, header: string | undefined): Promise<AuthResult> {
  const result = await identity.verifyAccessToken(header);
  if (!result.ok) return result;
  const role = result.user.role;
  if (role === 'none') {
    return { ok: false, status: 403, error: 'insufficient_role', description: 'The user has no Referrals role.' };
  }
  return { ok: true, caller: { email: result.user.email, role } };
}

interface RouteContext {
  readonly api: ReferralsApi;
  readonly webhooksApi: WebhooksApi;
  readonly deliveries: WebhookDelivery;
  readonly identity: IdentityProvider;
  readonly faults: FaultInjector;
  readonly store: ReferralStore;
  readonly mutator: Mutator;
  readonly clock: SandboxClock;
  readonly expiry: ExpiryJob;
  readonly stats: () => SandboxStats;
}

async function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sandbox.invalid');
  if (await ctx.identity.handle(req, res, url)) return;
  if (await ctx.api.handle(req, res, url)) return;
  if (await ctx.webhooksApi.handle(req, res, url)) return;
  if (await handleControl(req, res, url, ctx)) return;
  sendError(res, 404, 'NotFound', `No resource at ${url.pathname}`, randomUUID());
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      resolve(`https://${host}:${address.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function processUsage(): SandboxStats['process'] {
  const cpu = process.cpuUsage();
  return { cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, rssBytes: process.memoryUsage.rss() };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

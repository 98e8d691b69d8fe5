/**
 * `referrals-lake webhooks status|register|test|unregister`: the operator's client of Partner
 * Center's webhook registration, signed in as the sync is. A tenant has one registration, one URL
 * for all its events, and that URL may already belong to someone else (Microsoft's co-sell CRM
 * connectors use the same events): so `register` shows what is registered before it writes and
 * will not replace another URL without --replace (exit code 8), and `unregister --url` removes only
 * the URL it names.
 *
 * Lines for the operator go to stderr; the last line of stdout is the result as JSON, for scripts.
 * Nothing here prints a token: the only values shown are URLs, event names and Partner Center's
 * delivery report.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { UpstreamError, WebhookInUseError, WebhookNotReadyError } from '../common/errors.js';
import { REFERRAL_EVENTS, TEST_EVENT } from '../events/event.js';
import type { ValidationStatus, WebhookRegistration, WebhookRegistrationClient } from '../source/webhooks-client.js';
import { CliExit, EXIT } from './exit.js';
import { wholeNumber } from './options.js';
import { withPartnerCenterSource } from './partner-center-source.js';

/** The events this app's receiver handles: the referral events, and the test event it acknowledges. */
const KNOWN_EVENTS: readonly string[] = [...REFERRAL_EVENTS, TEST_EVENT];
/** What `register` asks for unless told: all of them, so that `webhooks test` works at once. */
export const DEFAULT_EVENTS: readonly string[] = KNOWN_EVENTS;
/** Where the receiver function listens (src/functions/partner-center-events.ts, under the host's /api). */
export const RECEIVER_PATH = '/api/partner-center/events';
/** Plain http:// is for a receiver on this machine (`referrals-lake serve` against the sandbox). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const POLL_INTERVAL_MS = 2000;

/** Where a webhooks command reports. */
export interface WebhooksOutput {
  /** A line for the operator. */
  say(line: string): void;
  /** The command's result, for scripts. */
  result(value: Record<string, unknown>): void;
}

const STDIO: WebhooksOutput = {
  say: (line) => process.stderr.write(`${line}\n`),
  result: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
};

export function registerWebhooksCommand(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description("Partner Center's webhook registration: the one URL that receives this tenant's referral events.");
  webhooks
    .command('status')
    .description('Show the URL and events registered now, or none.')
    .action(() => withWebhooks((client) => showStatus(client, STDIO)));
  webhooks
    .command('register')
    .description('Register the receiver URL; another URL registered now is replaced only with --replace.')
    .requiredOption('--url <url>', `the receiver, https://<app>.azurewebsites.net${RECEIVER_PATH}`, webhookUrl)
    .option('--events <names>', `comma-separated (default: ${DEFAULT_EVENTS.join(',')})`, eventNames)
    .option('--replace', 'replace a registration of another URL (it may belong to a co-sell CRM connector)')
    .action((flags: { url: string; events?: string[]; replace?: boolean }) =>
      withWebhooks((client) =>
        registerWebhook(
          client,
          { webhookUrl: flags.url, webhookEvents: flags.events ?? DEFAULT_EVENTS, replace: flags.replace === true },
          STDIO,
        ),
      ),
    );
  webhooks
    .command('test')
    .description('Have Partner Center send a test event to the registered URL, and wait for its outcome.')
    .option('--timeout <seconds>', 'how long to wait for the delivery', wholeNumber, 60)
    .action((flags: { timeout: number }) =>
      withWebhooks((client) => testWebhook(client, { timeoutMs: flags.timeout * 1000 }, STDIO)),
    );
  webhooks
    .command('unregister')
    .description('Remove the registration: Partner Center then sends this tenant no events.')
    .option('--url <url>', 'remove it only if this is the URL registered', webhookUrl)
    .action((flags: { url?: string }) => withWebhooks((client) => unregisterWebhook(client, flags, STDIO)));
}

function withWebhooks(run: (client: WebhookRegistrationClient) => Promise<void>): Promise<void> {
  return withPartnerCenterSource((source) => run(source.webhooks));
}

// ---- status -------------------------------------------------------------------------------------

export async function showStatus(client: WebhookRegistrationClient, out: WebhooksOutput): Promise<void> {
  const current = await client.registration();
  out.say(`Registered now: ${describe(current)}`);
  out.result(current ? { registered: true, ...current } : { registered: false });
}

// ---- register -----------------------------------------------------------------------------------

export interface RegisterRequest extends WebhookRegistration {
  /** Replace a registration of another URL. */
  readonly replace: boolean;
}

type Written = { action: 'created' | 'updated' | 'replaced' | 'unchanged'; registration: WebhookRegistration };

export async function registerWebhook(
  client: WebhookRegistrationClient,
  request: RegisterRequest,
  out: WebhooksOutput,
): Promise<void> {
  noteReceiverPath(request.webhookUrl, out);
  const current = await client.registration();
  out.say(`Registered now: ${describe(current)}`);
  const { action, registration } = await write(client, current, request, out);
  out.say(`${ACTION_WORDS[action]}. Registered now: ${describe(registration)}`);
  out.result({ registered: true, action, ...registration, previous: current ?? null });
}

const ACTION_WORDS: Record<Written['action'], string> = {
  created: 'Created the registration',
  updated: 'Updated the events of the same URL',
  replaced: 'Replaced the URL registered before (--replace)',
  unchanged: 'Already registered as asked; nothing was changed',
};

/** Creates, updates or replaces the registration, or refuses to replace another URL. */
async function write(
  client: WebhookRegistrationClient,
  current: WebhookRegistration | undefined,
  request: RegisterRequest,
  out: WebhooksOutput,
): Promise<Written> {
  const wanted = { webhookUrl: request.webhookUrl, webhookEvents: request.webhookEvents };
  if (!current) return create(client, wanted, request, out);
  const sameUrl = sameWebhookUrl(current.webhookUrl, wanted.webhookUrl);
  if (!sameUrl && !request.replace) throw inUse(current, wanted.webhookUrl);
  if (sameUrl && sameEvents(current.webhookEvents, wanted.webhookEvents)) {
    return { action: 'unchanged', registration: current };
  }
  const updated = await client.update(wanted);
  if (!updated) throw vanished('PUT');
  return { action: sameUrl ? 'updated' : 'replaced', registration: updated };
}

/**
 * POST; a 409 means a registration appeared since it was read (another operator, or a connector
 * being set up): the decision is made again on the one there is now, so --replace still decides.
 */
async function create(
  client: WebhookRegistrationClient,
  wanted: WebhookRegistration,
  request: RegisterRequest,
  out: WebhooksOutput,
): Promise<Written> {
  const created = await client.create(wanted);
  if (created) return { action: 'created', registration: created };
  const now = await client.registration();
  if (!now) throw vanished('POST');
  out.say(`Partner Center answered 409: a registration appeared meanwhile: ${describe(now)}`);
  return write(client, now, request, out);
}

function inUse(current: WebhookRegistration, wanted: string): WebhookInUseError {
  return new WebhookInUseError(
    current,
    `Partner Center sends this tenant's webhook events to ${current.webhookUrl} now (${eventList(current)}), ` +
      `and a tenant has one URL: registering ${wanted} would replace it. That URL may belong to a co-sell ` +
      'CRM connector, whose events would stop. Nothing was changed. If it is yours to replace, run ' +
      `\`referrals-lake webhooks register --url ${wanted} --replace\``,
  );
}

function vanished(method: string): UpstreamError {
  return new UpstreamError(
    `Partner Center's webhook registration changed while this command ran (${method} found none); ` +
      'run `referrals-lake webhooks status`, then register again',
    {},
  );
}

/** A hint, not a refusal: a URL behind a proxy may well have another path. */
function noteReceiverPath(url: string, out: WebhooksOutput): void {
  if (new URL(url).pathname !== RECEIVER_PATH) {
    out.say(`Note: this app's receiver listens at ${RECEIVER_PATH}; ${url} names another path.`);
  }
}

// ---- test ---------------------------------------------------------------------------------------

export interface TestOptions {
  readonly timeoutMs: number;
  /** Between two reads of the delivery status. */
  readonly pollIntervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function testWebhook(
  client: WebhookRegistrationClient,
  options: TestOptions,
  out: WebhooksOutput,
): Promise<void> {
  const current = requireTestEvent(await client.registration());
  out.say(`Asking Partner Center to send ${TEST_EVENT} to ${current.webhookUrl} …`);
  const correlationId = await client.sendValidationEvent();
  const status = await awaitDelivery(client, correlationId, options);
  const delivered = status !== undefined && isDelivered(status);
  reportDelivery(correlationId, status, options.timeoutMs, out);
  out.result({
    delivered,
    correlationId,
    status: status?.status ?? null,
    callbackUrl: status?.callbackUrl ?? current.webhookUrl,
    attempts: status?.results ?? [],
  });
  if (!delivered) throw new CliExit(EXIT.failure);
}

function requireTestEvent(current: WebhookRegistration | undefined): WebhookRegistration {
  if (!current) {
    throw new WebhookNotReadyError(
      'this tenant has no webhook registration to test: run `referrals-lake webhooks register --url <receiver URL>` first',
    );
  }
  if (!current.webhookEvents.includes(TEST_EVENT)) {
    throw new WebhookNotReadyError(
      `the registration of ${current.webhookUrl} does not include ${TEST_EVENT}, which a validation event needs: ` +
        `run \`referrals-lake webhooks register --url ${current.webhookUrl}\` (the default events include it)`,
    );
  }
  return current;
}

/**
 * Reads the validation event's status until Partner Center has settled it or time is up; the last
 * status read, or undefined when Partner Center never knew the id (it may take a moment to).
 */
async function awaitDelivery(
  client: WebhookRegistrationClient,
  correlationId: string,
  options: TestOptions,
): Promise<ValidationStatus | undefined> {
  const interval = options.pollIntervalMs ?? POLL_INTERVAL_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + options.timeoutMs;
  let last: ValidationStatus | undefined;
  for (;;) {
    last = (await client.validationStatus(correlationId)) ?? last;
    if (last && isSettled(last)) return last;
    if (Date.now() + interval > deadline) return last;
    await sleep(interval);
  }
}

/** `completed` is the docs' word for a delivery the receiver acknowledged; `failed` is the sandbox's for one given up. */
function isDelivered(status: ValidationStatus): boolean {
  return /^(completed|succeeded)$/i.test(status.status);
}

function isSettled(status: ValidationStatus): boolean {
  return isDelivered(status) || /^failed$/i.test(status.status);
}

function reportDelivery(
  correlationId: string,
  status: ValidationStatus | undefined,
  timeoutMs: number,
  out: WebhooksOutput,
): void {
  for (const attempt of status?.results ?? []) {
    const answer = attempt.systemError ? 'no HTTP answer' : attempt.responseCode || 'no answer';
    const message = attempt.responseMessage ? `: ${attempt.responseMessage}` : '';
    out.say(`  attempt at ${attempt.dateTimeUtc ?? 'an unknown time'}: ${answer}${message}`);
  }
  if (status && isDelivered(status)) {
    out.say(`Delivered: the receiver acknowledged the test event (correlation id ${correlationId}).`);
  } else if (status && isSettled(status)) {
    out.say(
      `Not delivered: Partner Center gave up (status ${status.status}). Check that the receiver answers at ` +
        `${status.callbackUrl ?? 'the registered URL'}; its log line for each event says why it refused one.`,
    );
  } else {
    out.say(
      `Not delivered within ${Math.round(timeoutMs / 1000)} s (status ${status?.status || 'unknown'}; correlation id ` +
        `${correlationId}): Partner Center keeps trying, 10 times in all. Check the receiver's log, or try again later.`,
    );
  }
}

// ---- unregister ---------------------------------------------------------------------------------

export async function unregisterWebhook(
  client: WebhookRegistrationClient,
  options: { url?: string },
  out: WebhooksOutput,
): Promise<void> {
  const current = await client.registration();
  if (!current) {
    out.say('Registered now: none; nothing to remove.');
    out.result({ removed: false, previous: null });
    return;
  }
  if (options.url !== undefined && !sameWebhookUrl(current.webhookUrl, options.url)) {
    throw new WebhookInUseError(
      current,
      `the webhook URL registered now is ${current.webhookUrl} (${eventList(current)}), not ${options.url}; nothing was removed`,
    );
  }
  const removed = await client.remove();
  out.say(
    removed
      ? `Removed the registration of ${describe(current)}. Partner Center sends this tenant no webhook events now; the scheduled sync still runs.`
      : 'Registered now: none (it was removed meanwhile); nothing to remove.',
  );
  out.result({ removed, previous: current });
}

// ---- shared -------------------------------------------------------------------------------------

/** `--url`: an absolute https:// URL without credentials, or http:// to this machine. */
export function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidArgumentError(`expected an absolute URL, such as https://<app>.azurewebsites.net${RECEIVER_PATH}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidArgumentError('must not carry a user name or password');
  }
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new InvalidArgumentError(
      'must be https:// (Partner Center delivers nowhere else), or http:// to 127.0.0.1 or localhost for a local `referrals-lake serve`',
    );
  }
  return url.href;
}

/** `--events`: comma-separated names of events the receiver handles. */
export function eventNames(value: string): string[] {
  const names = [...new Set(value.split(',').map((name) => name.trim()))].filter((name) => name !== '');
  const unknown = names.filter((name) => !KNOWN_EVENTS.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    const what = names.length === 0 ? 'no event named' : `${unknown.join(', ')}: not an event the receiver handles`;
    throw new InvalidArgumentError(`${what}; choose from ${KNOWN_EVENTS.join(', ')}`);
  }
  return names;
}

/** Compared as URLs (host case, default port); a registered value that is no URL is compared as text. */
function sameWebhookUrl(a: string, b: string): boolean {
  return canonicalUrl(a) === canonicalUrl(b);
}

function canonicalUrl(value: string): string {
  try {
    return new URL(value).href;
  } catch {
    return value;
  }
}

function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((name) => right.has(name));
}

function describe(registration: WebhookRegistration | undefined): string {
  return registration ? `${registration.webhookUrl} (${eventList(registration)})` : 'none';
}

function eventList(registration: WebhookRegistration): string {
  return registration.webhookEvents.length > 0 ? registration.webhookEvents.join(', ') : 'no events';
}

/**
 * `referrals-lake webhooks`: each subcommand's steps against the sandbox's registration API (in
 * process, with the production client), the refusal to replace another URL, the validation event's
 * outcome and 429, the option parsers; and once through the built CLI, for the exit code.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { CliExit, EXIT } from '../../src/cli/exit.js';
import {
  DEFAULT_EVENTS,
  eventNames,
  registerWebhook,
  showStatus,
  testWebhook,
  unregisterWebhook,
  type WebhooksOutput,
  webhookUrl,
} from '../../src/cli/webhooks-command.js';
import { ThrottledError, WebhookInUseError, WebhookNotReadyError } from '../../src/common/errors.js';
import type { WebhookRegistrationClient } from '../../src/source/webhooks-client.js';
import { runCli } from '../helpers/cli.js';
import { thrownBy } from '../helpers/errors.js';
import type { Receiver } from '../helpers/webhook-receiver.js';
import { startWebhooksHarness, type WebhooksHarness } from '../helpers/webhooks-harness.js';

const CRM_URL = 'https://crm-connector.example.com/partner-center/webhook';
const APP_URL = 'https://referrals-lake-app.azurewebsites.net/api/partner-center/events';

/** What a command said and returned. */
function recorder(): WebhooksOutput & { lines: string[]; results: Record<string, unknown>[] } {
  const lines: string[] = [];
  const results: Record<string, unknown>[] = [];
  return { lines, results, say: (line) => lines.push(line), result: (value) => results.push(value) };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the command to fail');
    },
    (error: unknown) => error,
  );
}

describe('referrals-lake webhooks', () => {
  let harness: WebhooksHarness;
  let sandbox: Sandbox;
  let client: WebhookRegistrationClient;
  let receiver: Receiver;

  beforeAll(async () => {
    harness = await startWebhooksHarness(21);
    ({ sandbox, receiver } = harness);
    client = harness.source.webhooks;
  });
  afterAll(() => harness.close());
  beforeEach(async () => {
    await client.remove();
    receiver.respond = () => 200;
  });

  describe('status', () => {
    it('says none, then the URL and events registered', async () => {
      const none = recorder();
      await showStatus(client, none);
      expect(none.lines).toEqual(['Registered now: none']);
      expect(none.results).toEqual([{ registered: false }]);
      await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created'] });
      const some = recorder();
      await showStatus(client, some);
      expect(some.lines).toEqual([`Registered now: ${CRM_URL} (referral-created)`]);
      expect(some.results).toEqual([{ registered: true, webhookUrl: CRM_URL, webhookEvents: ['referral-created'] }]);
    });
  });

  describe('register', () => {
    const register = (url: string, options: { events?: readonly string[]; replace?: boolean } = {}) => {
      const out = recorder();
      const done = registerWebhook(
        client,
        { webhookUrl: url, webhookEvents: options.events ?? DEFAULT_EVENTS, replace: options.replace ?? false },
        out,
      );
      return { out, done };
    };

    it('registers the referral events and the test event by default, and shows what was there before', async () => {
      const { out, done } = register(APP_URL);
      await done;
      expect(DEFAULT_EVENTS).toEqual([
        'referral-created',
        'referral-updated',
        'related-referral-created',
        'related-referral-updated',
        'test-created',
      ]);
      expect(out.lines[0]).toBe('Registered now: none');
      expect(out.lines.at(-1)).toBe(
        `Created the registration. Registered now: ${APP_URL} (${DEFAULT_EVENTS.join(', ')})`,
      );
      expect(out.results).toEqual([
        { registered: true, action: 'created', webhookUrl: APP_URL, webhookEvents: DEFAULT_EVENTS, previous: null },
      ]);
      expect(await client.registration()).toEqual({ webhookUrl: APP_URL, webhookEvents: DEFAULT_EVENTS });
    });

    it('updates the events of the same URL, and changes nothing when they are the same', async () => {
      await register(APP_URL).done;
      const fewer = register(APP_URL, { events: ['referral-updated', 'test-created'] });
      await fewer.done;
      expect(fewer.out.results[0]).toMatchObject({
        action: 'updated',
        webhookEvents: ['referral-updated', 'test-created'],
      });
      const again = register(APP_URL, { events: ['test-created', 'referral-updated'] });
      await again.done;
      expect(again.out.results[0]).toMatchObject({ action: 'unchanged' });
      expect(again.out.lines.at(-1)).toMatch(/^Already registered as asked; nothing was changed/);
    });

    it('refuses to replace another URL without --replace, naming it, and changes nothing', async () => {
      await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created', 'referral-updated'] });
      const { out, done } = register(APP_URL);
      const error = await failure(done);
      expect(error).toBeInstanceOf(WebhookInUseError);
      const message = (error as Error).message;
      expect(message).toContain(`to ${CRM_URL} now (referral-created, referral-updated)`);
      expect(message).toMatch(/co-sell CRM connector/);
      expect(message).toContain(`referrals-lake webhooks register --url ${APP_URL} --replace`);
      expect((error as WebhookInUseError).registered.webhookUrl).toBe(CRM_URL);
      expect(out.lines).toEqual([`Registered now: ${CRM_URL} (referral-created, referral-updated)`]);
      expect(out.results).toEqual([]);
      expect((await client.registration())?.webhookUrl).toBe(CRM_URL);
    });

    it('replaces another URL with --replace, and reports the one it replaced', async () => {
      await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created'] });
      const { out, done } = register(APP_URL, { replace: true });
      await done;
      expect(out.results[0]).toMatchObject({
        action: 'replaced',
        webhookUrl: APP_URL,
        previous: { webhookUrl: CRM_URL, webhookEvents: ['referral-created'] },
      });
      expect((await client.registration())?.webhookUrl).toBe(APP_URL);
    });

    it('decides again when a registration appears between its read and its POST (409)', async () => {
      // The registration is read as none, then someone else registers before the POST.
      const read = client.registration.bind(client);
      let reads = 0;
      client.registration = async (signal) => (reads++ === 0 ? undefined : read(signal));
      try {
        await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created'] });
        const { out, done } = register(APP_URL);
        expect(await failure(done)).toBeInstanceOf(WebhookInUseError);
        expect(out.lines).toContain(
          `Partner Center answered 409: a registration appeared meanwhile: ${CRM_URL} (referral-created)`,
        );
      } finally {
        client.registration = read;
      }
    });

    it('notes a URL that is not the receiver path, and registers it all the same', async () => {
      const { out, done } = register(webhookUrl('https://referrals-lake-app.azurewebsites.net'));
      await done;
      expect(out.lines[0]).toBe(
        "Note: this app's receiver listens at /api/partner-center/events; https://referrals-lake-app.azurewebsites.net/ names another path.",
      );
    });
  });

  describe('test', () => {
    // Partner Center (and the sandbox) allow 2 validation events a minute: these tests send exactly 2, then meet the 429.
    it('sends a validation event and reports its delivery', async () => {
      await client.create({ webhookUrl: receiver.url, webhookEvents: DEFAULT_EVENTS });
      const out = recorder();
      await testWebhook(client, { timeoutMs: 10_000, pollIntervalMs: 20 }, out);
      expect(out.lines[0]).toBe(`Asking Partner Center to send test-created to ${receiver.url} …`);
      expect(out.lines).toContainEqual(expect.stringMatching(/^ {2}attempt at \S+: OK$/));
      expect(out.lines.at(-1)).toMatch(/^Delivered: the receiver acknowledged the test event/);
      expect(out.results[0]).toMatchObject({ delivered: true, status: 'completed', callbackUrl: receiver.url });
      expect(receiver.events().at(-1)).toMatchObject({ EventName: 'test-created' });
    });

    it('reports a receiver that refuses it, with each attempt, and exits 1', async () => {
      await client.create({ webhookUrl: receiver.url, webhookEvents: DEFAULT_EVENTS });
      receiver.respond = () => 500;
      const out = recorder();
      const error = await failure(testWebhook(client, { timeoutMs: 10_000, pollIntervalMs: 20 }, out));
      expect(error).toBeInstanceOf(CliExit);
      expect((error as CliExit).exitCode).toBe(EXIT.failure);
      expect(out.lines.filter((line) => line.includes(': InternalServerError'))).toHaveLength(10);
      expect(out.lines.at(-1)).toMatch(/^Not delivered: Partner Center gave up \(status failed\)/);
      expect(out.results[0]).toMatchObject({ delivered: false, status: 'failed' });
    });

    it('says when to try again past 2 validation events a minute (429, Retry-After)', async () => {
      await client.create({ webhookUrl: receiver.url, webhookEvents: DEFAULT_EVENTS });
      // Uses up the minute's allowance, whatever the tests before sent.
      for (let i = 0; i < 2; i++) await client.sendValidationEvent().catch(() => undefined);
      const out = recorder();
      const error = await failure(testWebhook(client, { timeoutMs: 10_000, pollIntervalMs: 20 }, out));
      expect(error).toBeInstanceOf(ThrottledError);
      expect((error as ThrottledError).retryAfterSeconds).toBeGreaterThan(0);
      expect((error as Error).message).toMatch(
        /^Partner Center sends at most 2 validation events a minute and refused this one \(429\); try again in \d+ s \(Retry-After\)$/,
      );
      expect(out.results).toEqual([]);
    });

    it('needs a registration, and one that includes test-created, and says which command gives it', async () => {
      const none = await failure(testWebhook(client, { timeoutMs: 1000 }, recorder()));
      expect(none).toBeInstanceOf(WebhookNotReadyError);
      expect((none as Error).message).toMatch(/no webhook registration to test: run `referrals-lake webhooks register/);
      await client.create({ webhookUrl: receiver.url, webhookEvents: ['referral-updated'] });
      const noTest = await failure(testWebhook(client, { timeoutMs: 1000 }, recorder()));
      expect(noTest).toBeInstanceOf(WebhookNotReadyError);
      expect((noTest as Error).message).toContain(`run \`referrals-lake webhooks register --url ${receiver.url}\``);
    });
  });

  describe('unregister', () => {
    it('removes the registration and says what it removed; then there is nothing to remove', async () => {
      await client.create({ webhookUrl: APP_URL, webhookEvents: ['referral-created'] });
      const out = recorder();
      await unregisterWebhook(client, {}, out);
      expect(out.lines).toEqual([
        `Removed the registration of ${APP_URL} (referral-created). Partner Center sends this tenant no webhook events now; the scheduled sync still runs.`,
      ]);
      expect(out.results).toEqual([
        { removed: true, previous: { webhookUrl: APP_URL, webhookEvents: ['referral-created'] } },
      ]);
      expect(await client.registration()).toBeUndefined();
      const again = recorder();
      await unregisterWebhook(client, {}, again);
      expect(again.lines).toEqual(['Registered now: none; nothing to remove.']);
      expect(again.results).toEqual([{ removed: false, previous: null }]);
    });

    it('with --url, removes only that URL', async () => {
      await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created'] });
      const error = await failure(unregisterWebhook(client, { url: APP_URL }, recorder()));
      expect(error).toBeInstanceOf(WebhookInUseError);
      expect((error as Error).message).toBe(
        `the webhook URL registered now is ${CRM_URL} (referral-created), not ${APP_URL}; nothing was removed`,
      );
      expect((await client.registration())?.webhookUrl).toBe(CRM_URL);
      await unregisterWebhook(client, { url: CRM_URL }, recorder());
      expect(await client.registration()).toBeUndefined();
    });
  });

  it('through the CLI: exit code 8 and the URL registered now, without a secret; status exits 0', async () => {
    await client.create({ webhookUrl: CRM_URL, webhookEvents: ['referral-created'] });
    // Its own bootstrap token and cache: the sandbox spends a refresh token once.
    const env = {
      ...sandbox.env,
      PARTNER_CENTER_REFRESH_TOKEN: sandbox.identity.issueBootstrapRefreshToken(),
      PARTNER_CENTER_TOKEN_CACHE: join(harness.work, 'cli-cache.json'),
    };
    const refused = await runCli(['webhooks', 'register', '--url', APP_URL], { env });
    expect(refused.code, refused.stderr).toBe(EXIT.webhookInUse);
    expect(refused.stderr).toContain(`Registered now: ${CRM_URL} (referral-created)`);
    expect(refused.stderr).toMatch(
      new RegExp(`referrals-lake: Partner Center sends this tenant's webhook events to ${CRM_URL}`),
    );
    expect(refused.stdout).toBe('');
    for (const secret of [env.PARTNER_CENTER_CLIENT_SECRET, env.PARTNER_CENTER_REFRESH_TOKEN]) {
      expect(refused.stderr).not.toContain(secret);
    }
    const status = await runCli(['webhooks', 'status'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout.trim())).toEqual({
      registered: true,
      webhookUrl: CRM_URL,
      webhookEvents: ['referral-created'],
    });
    const usage = await runCli(['webhooks', 'register', '--url', 'http://crm.example.com/hook'], { env });
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toMatch(/must be https:\/\//);
  });
});

describe('webhooks option parsers', () => {
  it('--url: https anywhere, http to this machine only, no credentials', () => {
    expect(webhookUrl(' https://App.example.com/api/partner-center/events ')).toBe(
      'https://app.example.com/api/partner-center/events',
    );
    expect(webhookUrl('http://127.0.0.1:7071/api/partner-center/events')).toBe(
      'http://127.0.0.1:7071/api/partner-center/events',
    );
    expect(webhookUrl('http://localhost:7071/x')).toBe('http://localhost:7071/x');
    expect(thrownBy(InvalidArgumentError, () => webhookUrl('http://example.com/hook')).message).toMatch(/https:\/\//);
    expect(thrownBy(InvalidArgumentError, () => webhookUrl('https://u:p@example.com/hook')).message).toMatch(
      /user name or password/,
    );
    expect(thrownBy(InvalidArgumentError, () => webhookUrl('example.com/hook')).message).toMatch(/absolute URL/);
  });

  it('--events: known names, comma-separated, each once', () => {
    expect(eventNames('referral-created, test-created,referral-created')).toEqual(['referral-created', 'test-created']);
    expect(thrownBy(InvalidArgumentError, () => eventNames('referral-deleted,test-created')).message).toMatch(
      /^referral-deleted: not an event the receiver handles; choose from referral-created/,
    );
    expect(thrownBy(InvalidArgumentError, () => eventNames(' , ')).message).toMatch(/^no event named/);
  });
});

/**
 * `referrals-lake serve`: the function app on 127.0.0.1 (dev/local-app.ts), where Core Tools are
 * absent: the HTTP functions (the live list, one referral, the OpenAPI description, the events
 * receiver, the flows' trigger) and the queue-triggered worker, with the app
 * settings of this process's environment. With no lake or events queue setting it starts Azurite
 * (blob and queue) itself, its data kept in `<data-dir>/serve-azurite/`.
 *
 * Once serving it prints exactly one JSON line on stdout (`baseUrl`, `functionKey`, `writeKey` (the
 * write routes' own key), `receiverUrl`,
 * `queues`, and `azurite`'s endpoints when it started it), and for a person, on stderr, what runs
 * where and how to register the receiver; then it serves until SIGINT/SIGTERM. Nothing printed holds
 * a connection string or an account key, Azurite's well-known one included. For development and
 * the demo; `func start` (or Azure) is the production host.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { wholeNumber } from '../../src/cli/options.js';
import type { LocalApp } from '../local-app.js';
import { type Out, printTable, shown } from './print.js';
import { untilStopped } from './until-stopped.js';

interface ServeFlags {
  port: number;
  key?: string;
  dataDir: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Host the function app on 127.0.0.1 (the HTTP functions and the queue worker), where Core Tools are absent; Azurite is started when no lake or queue is set.',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', wholeNumber, 7071)
    .option('--key <key>', 'function key to require (default: a random one, printed)')
    .option('--data-dir <dir>', "folder for Azurite's data, when serve starts it", '.data')
    .action(async (flags: ServeFlags) => {
      // Loaded here, not with the CLI: importing the registrations switches @azure/functions into
      // test mode, which warns on stderr, and no other command should print that.
      const { startLocalApp } = await import('../local-app.js');
      const { resetLiveInstance } = await import('../../src/live/instance.js');
      const app = await startLocalApp({
        port: flags.port,
        functionKey: flags.key,
        azuriteDir: join(resolve(flags.dataDir), 'serve-azurite'),
      });
      process.stdout.write(`${JSON.stringify(startedLine(app))}\n`);
      printGuide((line = '') => process.stderr.write(`${line}\n`), app, process.env);
      await untilStopped();
      await app.close();
      resetLiveInstance();
      // The worker may still hold events waiting for their flush; close() gave their messages back to
      // the queue (the next serve takes them). Its flush timer would keep this process up to
      // EVENTS_FLUSH_SECONDS more, and then run against the Azurite just stopped: end here instead.
      process.exit(0);
    });
}

/** The one JSON line a script reads: where to call, and nothing secret but the function key it asked for. */
function startedLine(app: LocalApp): Record<string, unknown> {
  const azurite = app.storage.azurite;
  return {
    baseUrl: app.http.baseUrl,
    functionKey: app.http.functionKey,
    writeKey: app.http.writeKey,
    receiverUrl: app.receiverUrl,
    queues: app.queueHost.queues.map((q) => ({
      function: q.functionName,
      queue: q.queueName,
      poison: q.poisonQueueName,
    })),
    ...(azurite
      ? {
          azurite: {
            blobEndpoint: azurite.instance.blobEndpoint,
            queueEndpoint: azurite.instance.queueEndpoint,
            location: azurite.location,
          },
        }
      : {}),
  };
}

/** What runs where, for a person: the functions, the storage, and the receiver's registration. */
function printGuide(out: Out, app: LocalApp, env: NodeJS.ProcessEnv): void {
  out(`referrals-lake serve: the function app on ${app.http.baseUrl} (Ctrl+C stops it)`);
  printTable(out, [
    ...app.httpFunctions.map((fn) => [
      (fn.methods ?? ['GET']).join(','),
      `/api/${fn.route}`,
      `${fn.name}${fn.authLevel === 'anonymous' ? '' : fn.keys === 'write' ? ' (write key)' : ' (function key)'}`,
    ]),
    ...app.queueHost.queues.map((q) => [
      'queue',
      q.queueName,
      `${q.functionName}, as host.json says (poison: ${q.poisonQueueName})`,
    ]),
  ]);
  printTable(out, [['lake', app.lake], ['events queue', app.queue], ...azuriteRows(app)]);
  out();
  out(`Receiver for Partner Center's events: ${app.receiverUrl}`);
  for (const line of registrationHint(app.receiverUrl, env)) out(`  ${line}`);
}

/** Azurite's endpoints when serve started it (never its connection string: it names the account key). */
function azuriteRows(app: LocalApp): string[][] {
  const azurite = app.storage.azurite;
  if (!azurite) return [];
  const forWhat = [
    app.storage.added.LAKE_CONNECTION_STRING ? 'the lake' : '',
    app.storage.added.EVENTS_QUEUE ? 'the events queue' : '',
  ].filter(Boolean);
  return [
    ['Azurite', `blob ${azurite.instance.blobEndpoint}, queue ${azurite.instance.queueEndpoint}`],
    ['', `started by serve for ${forWhat.join(' and ')} (none was set), data kept in ${shown(azurite.location)}/`],
  ];
}

/**
 * How to register the receiver: with the sandbox (its settings in the environment, as `referrals-lake
 * sandbox` prints them) the loopback URL as it is; Partner Center itself delivers only to a public
 * https:// URL, so there a tunnel comes first.
 */
function registrationHint(receiverUrl: string, env: NodeJS.ProcessEnv): string[] {
  const webhooks = env.PARTNER_CENTER_WEBHOOKS_BASE_URL?.trim();
  if (webhooks && isLoopback(webhooks)) {
    return [
      `Register it with the sandbox at ${webhooks}, with these same settings (token cache included):`,
      `  referrals-lake webhooks register --url ${receiverUrl}`,
      '(one URL per tenant: add --replace when another one is registered, as after a restart on another port)',
    ];
  }
  return [
    'Partner Center delivers only to a public https:// URL: expose this port through a tunnel, then',
    `  referrals-lake webhooks register --url https://<tunnel host>/api/${new URL(receiverUrl).pathname.slice('/api/'.length)}`,
  ];
}

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

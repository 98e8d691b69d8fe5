/**
 * A thin local host for the app's Storage-queue-triggered functions, beside dev/http-host.ts where
 * Azure Functions Core Tools are absent (`referrals-lake serve`, the demo). Like the HTTP one it is
 * an adapter, not a second implementation: it finds the declarations the function files export and
 * calls the same handlers, behaving as the Functions host's queue trigger does with host.json's
 * `extensions.queues` (Storage extension 5.x):
 * - each function's queue is polled at once again while messages come, backing off (doubling from
 *   100 ms) to `maxPollingInterval` while it is empty;
 * - a poll takes up to `batchSize` messages, and the next poll waits until no more than
 *   `newBatchThreshold` invocations run: up to batchSize + newBatchThreshold run at once;
 * - a message stays hidden while its invocation runs (received for 10 minutes, renewed halfway),
 *   as the host keeps it;
 * - the text is decoded as `messageEncoding` says (base64) and JSON is handed over parsed, with
 *   `context.triggerMetadata` (dequeueCount, id, insertionTime…) as the host fills it;
 * - success deletes the message; a failure (or text that does not decode) makes it visible again
 *   after `visibilityTimeout`, and once it has been dequeued `maxDequeueCount` times its original
 *   text moves to `<queue>-poison`. One dequeued more often than that (a host that died while
 *   running it) goes there without running.
 * `func start` and Azure stay the production hosts.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import azureFunctions, { type LogHandler } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { loadQueueFunctions } from '../src/cli/function-modules.js';
import type { QueueFunction } from '../src/common/azure-functions.js';
import { createLogger, type Logger, stderrSink } from '../src/common/log.js';
import { safeUrl } from '../src/common/redact.js';
import {
  EVENTS_QUEUE_CONNECTION,
  type EventsQueueConnection,
  loadEventsConfig,
  POISON_SUFFIX,
  SETTINGS,
  type SettingName,
} from '../src/config.js';
import { isBase64, serviceClientFor } from '../src/events/queue.js';
import { repoFile } from './repo-file.js';

const { InvocationContext } = azureFunctions;

type Env = Readonly<Record<string, string | undefined>>;

/** host.json `extensions.queues`, in the units this host works in. */
export interface QueueTriggerSettings {
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxDequeueCount: number;
  readonly visibilityTimeoutMs: number;
  readonly maxPollingIntervalMs: number;
  readonly messageEncoding: 'base64' | 'none';
}

/** The Storage extension's defaults, for what host.json leaves out. */
const EXTENSION_DEFAULTS = {
  batchSize: 16,
  maxDequeueCount: 5,
  visibilityTimeoutMs: 0,
  maxPollingIntervalMs: 60_000,
  messageEncoding: 'base64',
} as const;

/** The host receives a message hidden for 10 minutes and renews that halfway while it runs. */
const HOLD_SECONDS = 600;
/** The shortest wait between polls of an empty queue; it doubles up to maxPollingInterval. */
const MIN_POLL_MS = 100;
/** How long close() waits for running invocations before it gives their messages back. */
const DRAIN_MS = 5_000;

/** The queue settings of the app's host.json, with the extension's defaults for what it leaves out. */
export function readQueueTriggerSettings(hostJsonPath = repoFile('host.json')): QueueTriggerSettings {
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { queues?: Record<string, unknown> };
  };
  const queues = hostJson.extensions?.queues ?? {};
  const batchSize = numberOr(queues.batchSize, EXTENSION_DEFAULTS.batchSize);
  const encoding = queues.messageEncoding ?? EXTENSION_DEFAULTS.messageEncoding;
  if (encoding !== 'base64' && encoding !== 'none') throw new Error(`host.json messageEncoding ${String(encoding)}?`);
  return {
    batchSize,
    newBatchThreshold: numberOr(queues.newBatchThreshold, Math.floor(batchSize / 2)),
    maxDequeueCount: numberOr(queues.maxDequeueCount, EXTENSION_DEFAULTS.maxDequeueCount),
    visibilityTimeoutMs: timeSpanMs(queues.visibilityTimeout) ?? EXTENSION_DEFAULTS.visibilityTimeoutMs,
    maxPollingIntervalMs: timeSpanMs(queues.maxPollingInterval) ?? EXTENSION_DEFAULTS.maxPollingIntervalMs,
    messageEncoding: encoding,
  };
}

function numberOr(value: unknown, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

/** A .NET TimeSpan as host.json writes it (`[d.]hh:mm:ss[.fff]`), in ms; undefined when absent. */
export function timeSpanMs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(value));
  if (!match) throw new Error(`not a TimeSpan: ${String(value)}`);
  const [, days = '0', hours, minutes, seconds] = match;
  return Math.round(((Number(days) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

/** `%NAME%` as the host resolves it, from the app settings (or this app's default for the setting). */
export function resolveSettingExpression(value: string, env: Env): string {
  return value.replace(/%([^%]+)%/g, (_all, name: string) => {
    const given = env[name]?.trim();
    const fallback = (SETTINGS as Record<string, { default?: string }>)[name as SettingName]?.default;
    const resolved = given || fallback;
    if (!resolved) throw new Error(`${value}: the app setting ${name} is not set`);
    return resolved;
  });
}

/**
 * The connection the host builds from a trigger's `connection` name. EVENTS_QUEUE is read by the
 * app's own rules (loadEventsConfig), so that the trigger here and the receiver's sends reach the
 * same queue; another name, the host's plain way: a connection string, else `<name>__queueServiceUri`.
 */
function connectionFor(name: string, env: Env): EventsQueueConnection {
  if (name === EVENTS_QUEUE_CONNECTION) return loadEventsConfig(env).connection;
  const connectionString = env[name]?.trim();
  if (connectionString) return { kind: 'connection-string', connectionString };
  const queueServiceUri = env[`${name}__queueServiceUri`]?.trim();
  if (!queueServiceUri) throw new Error(`the queue trigger's connection ${name} has no settings`);
  return { kind: 'identity', queueServiceUri, clientId: env[`${name}__clientId`]?.trim() || undefined };
}

export interface QueueHostOptions {
  /** The app settings (`process.env` by default), for connections and `%NAME%` queue names. */
  readonly env?: Env;
  /** The functions to host; every queue-triggered one the app declares when absent. */
  readonly functions?: readonly QueueFunction[];
  /** Over host.json's `extensions.queues` (tests shorten the waits). */
  readonly settings?: Partial<QueueTriggerSettings>;
  /** This host's own lines (executing, executed, poisoned); JSON lines on stderr by default. */
  readonly logger?: Logger;
  /** Where the functions' log lines go (stderr by default). */
  readonly logHandler?: LogHandler;
}

export interface HostedQueue {
  readonly functionName: string;
  readonly queueName: string;
  readonly poisonQueueName: string;
  /** The queue service's endpoint, safe to print (no key, no SAS). */
  readonly endpoint: string;
}

export interface QueueHost {
  readonly queues: readonly HostedQueue[];
  readonly settings: QueueTriggerSettings;
  /** Stops polling, waits a little for running invocations, and gives back the messages of the rest. */
  close(): Promise<void>;
}

const stderrLog: LogHandler = (_level, ...args) => {
  process.stderr.write(`${args.map(String).join(' ')}\n`);
};

export async function startQueueHost(options: QueueHostOptions = {}): Promise<QueueHost> {
  const env = options.env ?? process.env;
  const settings = { ...readQueueTriggerSettings(), ...options.settings };
  const logger = options.logger ?? createLogger(stderrSink);
  const functions = options.functions ?? (await loadQueueFunctions());
  const listeners = await Promise.all(
    functions.map(async (fn) => {
      const queueName = resolveSettingExpression(fn.queueName, env);
      // The SDK's default retries, unlike the receiver's fast ones: a poll has no one waiting on it.
      const { client } = await serviceClientFor(connectionFor(fn.connection, env), undefined, undefined);
      const queue = client.getQueueClient(queueName);
      const poison = client.getQueueClient(`${queueName}${POISON_SUFFIX}`);
      return new QueueListener(fn, queue, poison, settings, logger, options.logHandler ?? stderrLog);
    }),
  );
  for (const listener of listeners) listener.start();
  return {
    queues: listeners.map((l) => l.hosted),
    settings,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

/** One function's queue: the poll loop, and each message from receipt to its end. */
class QueueListener {
  readonly hosted: HostedQueue;
  private readonly stopping = new AbortController();
  /** Resolves when close() is called: what a full listener waits for besides a slot. */
  private readonly stopped = new Promise<void>((resolve) =>
    this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  private readonly running = new Map<Promise<void>, MessageLease>();
  private loop: Promise<void> | undefined;
  private queuesReady: Promise<void> | undefined;

  constructor(
    private readonly fn: QueueFunction,
    private readonly queue: QueueClient,
    private readonly poison: QueueClient,
    private readonly settings: QueueTriggerSettings,
    private readonly logger: Logger,
    private readonly logHandler: LogHandler,
  ) {
    this.hosted = {
      functionName: fn.name,
      queueName: queue.name,
      poisonQueueName: poison.name,
      endpoint: safeUrl(queue.url.slice(0, queue.url.lastIndexOf('/'))),
    };
  }

  start(): void {
    this.loop = this.poll();
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    const drained = Promise.allSettled(this.running.keys()).then(() => true);
    // The drain timer is cancelled once done: a pending one would keep the process alive for DRAIN_MS.
    const timer = new AbortController();
    const waited = sleep(DRAIN_MS, false, { signal: timer.signal }).catch(() => true);
    const done = await Promise.race([drained, waited]);
    timer.abort();
    if (done) return;
    // Still running: their messages are made visible now, so that the next host takes them at once.
    await Promise.all([...this.running.values()].map((lease) => lease.release(0)));
  }

  private async poll(): Promise<void> {
    const signal = this.stopping.signal;
    let idleMs = MIN_POLL_MS;
    while (!signal.aborted) {
      if (this.running.size > this.settings.newBatchThreshold) {
        await Promise.race([...this.running.keys(), this.stopped]);
        continue;
      }
      let messages: DequeuedMessageItem[];
      try {
        messages = await this.receive(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.logger.warn('could not poll the queue; trying again', { queue: this.queue.name, error });
        await pause(this.settings.maxPollingIntervalMs, signal);
        continue;
      }
      for (const message of messages) this.track(message);
      if (messages.length > 0) {
        idleMs = MIN_POLL_MS;
      } else {
        await pause(idleMs, signal);
        idleMs = Math.min(idleMs * 2, this.settings.maxPollingIntervalMs);
      }
    }
  }

  private async receive(signal: AbortSignal): Promise<DequeuedMessageItem[]> {
    // Both queues exist before the first poll, as the receiver's EventQueue creates them too.
    this.queuesReady ??= Promise.all([this.queue.createIfNotExists(), this.poison.createIfNotExists()]).then(
      () => undefined,
      (error: unknown) => {
        this.queuesReady = undefined;
        throw error;
      },
    );
    await this.queuesReady;
    const response = await this.queue.receiveMessages({
      numberOfMessages: this.settings.batchSize,
      visibilityTimeout: HOLD_SECONDS,
      abortSignal: signal,
    });
    return response.receivedMessageItems;
  }

  private track(message: DequeuedMessageItem): void {
    const lease = new MessageLease(this.queue, message, (error) =>
      this.logger.error('could not update a queue message', { queue: this.queue.name, id: message.messageId, error }),
    );
    const done = this.settle(message, lease).finally(() => this.running.delete(done));
    this.running.set(done, lease);
  }

  /** Runs the function for one message, then deletes it, gives it back, or moves it to the poison queue. */
  private async settle(message: DequeuedMessageItem, lease: MessageLease): Promise<void> {
    const max = this.settings.maxDequeueCount;
    if (message.dequeueCount > max) {
      await this.toPoison(message, lease);
      return;
    }
    const succeeded = await this.invoke(message);
    if (succeeded) await lease.delete();
    else if (message.dequeueCount >= max) await this.toPoison(message, lease);
    else await lease.release(Math.ceil(this.settings.visibilityTimeoutMs / 1000));
  }

  /** Runs the function on the message; false when it threw (or the text did not decode), as logged. */
  private async invoke(message: DequeuedMessageItem): Promise<boolean> {
    const invocationId = randomUUID();
    const fields = { function: this.fn.name, queue: this.queue.name, invocationId, messageId: message.messageId };
    this.logger.info('executing', { ...fields, dequeueCount: message.dequeueCount });
    const started = performance.now();
    const durationMs = () => Math.round(performance.now() - started);
    try {
      const text = decodeText(message.messageText, this.settings.messageEncoding);
      const context = new InvocationContext({
        invocationId,
        functionName: this.fn.name,
        logHandler: this.logHandler,
        triggerMetadata: triggerMetadata(message, text),
        options: {
          trigger: {
            type: 'queueTrigger',
            name: 'queueItem',
            queueName: this.queue.name,
            connection: this.fn.connection,
          },
        },
      });
      await this.fn.handler(triggerValue(text), context);
      this.logger.info('executed', { ...fields, outcome: 'succeeded', durationMs: durationMs() });
      return true;
    } catch (error) {
      this.logger.warn('executed', {
        ...fields,
        outcome: 'failed',
        dequeueCount: message.dequeueCount,
        durationMs: durationMs(),
        error,
      });
      return false;
    }
  }

  /** The original text (still base64) to `<queue>-poison`, as the host moves it, then off this queue. */
  private async toPoison(message: DequeuedMessageItem, lease: MessageLease): Promise<void> {
    const moved = await lease.finish(async (receipt) => {
      await this.poison.sendMessage(message.messageText);
      await this.queue.deleteMessage(message.messageId, receipt);
    });
    if (!moved) return; // onError said why; the message reappears and the next try moves it
    this.logger.error('moved a message to the poison queue', {
      function: this.fn.name,
      queue: this.poison.name,
      messageId: message.messageId,
      dequeueCount: message.dequeueCount,
      maxDequeueCount: this.settings.maxDequeueCount,
    });
  }
}

/**
 * A received message's pop receipt, kept valid while its invocation runs (the hold renewed halfway,
 * as the host does); every change to the message goes through it, one at a time, so that a renewal
 * and the final delete never race for the receipt. Failures go to `onError`, never thrown.
 */
class MessageLease {
  private receipt: string;
  private chain: Promise<boolean> = Promise.resolve(true);
  private finished = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly queue: QueueClient,
    private readonly message: DequeuedMessageItem,
    private readonly onError: (error: unknown) => void,
  ) {
    this.receipt = message.popReceipt;
    this.timer = setInterval(() => void this.step(() => this.hide(HOLD_SECONDS)), (HOLD_SECONDS * 1000) / 2);
    this.timer.unref();
  }

  delete(): Promise<boolean> {
    return this.finish((receipt) => this.queue.deleteMessage(this.message.messageId, receipt).then(() => undefined));
  }

  /** Visible again after `seconds`: the next poll after that takes it, its dequeueCount one higher. */
  release(seconds: number): Promise<boolean> {
    return this.finish(() => this.hide(seconds));
  }

  /**
   * The last change to the message; true once made. Later ones are ignored (false): close() may
   * have given the message back already.
   */
  finish(last: (receipt: string) => Promise<void>): Promise<boolean> {
    if (this.finished) return Promise.resolve(false);
    this.finished = true;
    clearInterval(this.timer);
    return this.step(() => last(this.receipt));
  }

  private async hide(seconds: number): Promise<void> {
    const updated = await this.queue.updateMessage(this.message.messageId, this.receipt, undefined, seconds);
    this.receipt = updated.popReceipt ?? this.receipt;
  }

  private step(change: () => Promise<void>): Promise<boolean> {
    this.chain = this.chain.then(change).then(
      () => true,
      (error: unknown) => {
        this.onError(error);
        return false;
      },
    );
    return this.chain;
  }
}

/** The message text as the function sees it; base64 that does not decode fails the invocation. */
function decodeText(text: string, encoding: QueueTriggerSettings['messageEncoding']): string {
  if (encoding === 'none') return text;
  if (!isBase64(text)) throw new Error('the message text is not base64 (host.json messageEncoding is base64)');
  return Buffer.from(text, 'base64').toString('utf8');
}

/** JSON objects and arrays arrive parsed, as the Node worker hands them over; other text as a string. */
function triggerValue(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** What the host puts in `context.triggerMetadata` for a queue message. */
function triggerMetadata(message: DequeuedMessageItem, text: string): Record<string, unknown> {
  return {
    queueTrigger: text,
    id: message.messageId,
    popReceipt: message.popReceipt,
    dequeueCount: message.dequeueCount,
    insertionTime: message.insertedOn.toISOString(),
    expirationTime: message.expiresOn.toISOString(),
    nextVisibleTime: message.nextVisibleOn.toISOString(),
  };
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}

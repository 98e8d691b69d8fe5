/**
 * The events queue (issue 20): the receiver sends one message per Partner Center event; the worker's
 * queue trigger takes them (or `receive()` does, where no Functions host runs). A small typed layer
 * over @azure/storage-queue, built from loadEventsConfig() so that it reaches exactly the queue the
 * trigger with `connection: EVENTS_QUEUE_CONNECTION` listens on (src/config.ts says how the
 * connection is resolved).
 *
 * Encoding: a body is JSON, as UTF-8, then base64. The queue trigger decodes base64 before it hands
 * a message over (host.json `extensions.queues.messageEncoding`: `base64` is the default, and
 * host.json states it), and the Node worker then parses JSON text into an object. The SDK sends the
 * text as given, so the base64 step is done here; a plain-JSON message would fail the trigger's
 * decoding and end up in the poison queue.
 *
 * The queue and its poison queue (`<name>-poison`, where the trigger moves a message that failed
 * maxDequeueCount times) are created if absent, once per EventQueue, before its first operation.
 * Failures are StorageErrors naming the operation and the queue, with a scrubbed cause: never a key.
 */
import type { TokenCredential } from '@azure/identity';
import { type QueueClient, QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';
import { StorageError } from '../common/errors.js';
import { registerConnectionStringSecrets, safeUrl } from '../common/redact.js';
import type { EventsConfig, EventsQueueConnection } from '../config.js';
import { codeOf, createIfAbsent, statusOf, storageError } from '../lake/storage/storage-errors.js';

/** Put Message takes at most 64 KiB of message text. */
const MAX_MESSAGE_TEXT = 64 * 1024;
/** The largest JSON body (UTF-8 bytes) that fits once base64 has grown it by 4/3. */
export const MAX_EVENT_BODY_BYTES = (MAX_MESSAGE_TEXT / 4) * 3;
/** Get Messages returns 32 messages at most per call. */
const MAX_BATCH = 32;
/** A message can be hidden for 7 days at most. */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600;

/** What deleting a received message needs; valid until its visibility timeout ends. */
export interface Receipt {
  readonly messageId: string;
  readonly popReceipt: string;
}

interface ReceivedMeta extends Receipt {
  /** 1 on the first delivery; the trigger moves a message to the poison queue past maxDequeueCount. */
  readonly dequeueCount: number;
  readonly insertedOn: Date;
  /** When the message becomes visible again unless deleted first. */
  readonly nextVisibleOn: Date;
}

/** A received message: its body when it decodes (and passes `parse`), else the problem in words. */
export type ReceivedMessage<T> = ReceivedMeta &
  ({ readonly ok: true; readonly body: T } | { readonly ok: false; readonly problem: string });

export type Decoded = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly problem: string };

export interface ReceiveOptions {
  /** 1 to 32; default 32. */
  readonly maxMessages?: number;
  /** How long the received messages stay hidden from other consumers (1 s to 7 days). */
  readonly visibilityTimeoutSeconds: number;
  readonly abortSignal?: AbortSignal;
}

export interface QueueCounts {
  /** Approximate, and counting messages hidden by a receive as well (Get Queue Metadata). */
  readonly queued: number;
  readonly poisoned: number;
}

export interface EventQueue<T> {
  readonly queueName: string;
  readonly poisonQueueName: string;
  /** Where and how it connects, safe to log: endpoint and kind of sign-in, never a key. */
  describe(): string;
  /** Sends one message with `body` as base64 JSON; resolves with the message id. */
  send(body: T, options?: { readonly abortSignal?: AbortSignal }): Promise<string>;
  /** Takes up to `maxMessages` messages and hides them for the visibility timeout. */
  receive(options: ReceiveOptions): Promise<ReceivedMessage<T>[]>;
  /**
   * Deletes a received message. False when the receipt no longer holds: its visibility timeout ran
   * out and another receive took the message (which will then be processed again).
   */
  delete(receipt: Receipt): Promise<boolean>;
  /** Messages in the queue and in its poison queue, for diagnostics. */
  counts(): Promise<QueueCounts>;
  /**
   * Puts a message that can never be processed in the poison queue at once, with why (the host's
   * own move after maxDequeueCount tries carries no reason).
   */
  park(body: unknown, reason: string): Promise<void>;
}

export interface EventQueueOptions<T> {
  /** Checks a decoded body and gives it its type (a zod schema's parse); throws when it is not one. */
  readonly parse?: (body: unknown) => T;
  /** Overrides the credential an identity-based connection would build (tests, a shared one). */
  readonly credential?: TokenCredential;
  /** The SDK's retry policy; its default unless given (the receiver gives FAST_RETRY). */
  readonly retryOptions?: StoragePipelineOptions['retryOptions'];
}

/** The EventQueue the settings describe; @azure/identity loads only for an identity-based connection. */
export async function createEventQueue<T = unknown>(
  config: EventsConfig,
  options: EventQueueOptions<T> = {},
): Promise<EventQueue<T>> {
  const { client, signIn } = await serviceClientFor(config.connection, options.credential, options.retryOptions);
  return new StorageEventQueue<T>(client, config, signIn, options.parse ?? ((body) => body as T));
}

/** The message text for a body: JSON, UTF-8, base64 (what the queue trigger decodes by default). */
export function encodeEventMessage(body: unknown): string {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError('an event message body must be JSON (not undefined or a function)');
  return Buffer.from(json, 'utf8').toString('base64');
}

/** The body of a message text, or why it is not base64 JSON. */
export function decodeEventMessage(text: string): Decoded {
  if (!isBase64(text)) return { ok: false, problem: 'the message text is not base64' };
  const json = Buffer.from(text, 'base64').toString('utf8');
  try {
    return { ok: true, body: JSON.parse(json) as unknown };
  } catch (error) {
    return { ok: false, problem: `the decoded message is not JSON (${(error as Error).message})` };
  }
}

/** Canonical base64: Buffer.from() would skip stray characters instead of refusing them. */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

class StorageEventQueue<T> implements EventQueue<T> {
  readonly queueName: string;
  readonly poisonQueueName: string;
  private readonly queue: QueueClient;
  private readonly poison: QueueClient;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: QueueServiceClient,
    config: EventsConfig,
    private readonly signIn: string,
    private readonly parse: (body: unknown) => T,
  ) {
    this.queueName = config.queueName;
    this.poisonQueueName = config.poisonQueueName;
    this.queue = client.getQueueClient(config.queueName);
    this.poison = client.getQueueClient(config.poisonQueueName);
  }

  describe(): string {
    return `queue ${this.queueName} at ${safeUrl(this.client.url)} (${this.signIn})`;
  }

  async send(body: T, options: { readonly abortSignal?: AbortSignal } = {}): Promise<string> {
    const text = encodeEventMessage(body);
    if (text.length > MAX_MESSAGE_TEXT) {
      throw new StorageError(
        `send to '${this.queueName}' refused: the body is ${Buffer.byteLength(JSON.stringify(body))} bytes of JSON, ` +
          `more than the ${MAX_EVENT_BODY_BYTES} a 64 KiB queue message holds once base64-encoded`,
        { operation: 'send', path: this.queueName },
      );
    }
    return this.guard('send', async () => {
      await this.ensureQueues();
      const sent = await this.queue.sendMessage(text, { abortSignal: options.abortSignal });
      return sent.messageId;
    });
  }

  async park(body: unknown, reason: string): Promise<void> {
    const text = encodeEventMessage({ reason, parkedAt: new Date().toISOString(), message: body });
    await this.guard('park', async () => {
      await this.ensureQueues();
      await this.poison.sendMessage(text.length > MAX_MESSAGE_TEXT ? encodeEventMessage({ reason }) : text);
    });
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage<T>[]> {
    const maxMessages = options.maxMessages ?? MAX_BATCH;
    assertWithin('maxMessages', maxMessages, 1, MAX_BATCH);
    assertWithin('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 1, MAX_VISIBILITY_SECONDS);
    return this.guard('receive', async () => {
      await this.ensureQueues();
      const response = await this.queue.receiveMessages({
        numberOfMessages: maxMessages,
        visibilityTimeout: options.visibilityTimeoutSeconds,
        abortSignal: options.abortSignal,
      });
      return response.receivedMessageItems.map((item) => ({
        messageId: item.messageId,
        popReceipt: item.popReceipt,
        dequeueCount: item.dequeueCount,
        insertedOn: item.insertedOn,
        nextVisibleOn: item.nextVisibleOn,
        ...this.bodyOf(item.messageText),
      }));
    });
  }

  async delete(receipt: Receipt): Promise<boolean> {
    return this.guard('delete', async () => {
      try {
        await this.queue.deleteMessage(receipt.messageId, receipt.popReceipt);
        return true;
      } catch (error) {
        // 400 PopReceiptMismatch: a later receive took the message; 404 MessageNotFound: it is gone.
        if (codeOf(error) === 'PopReceiptMismatch' || statusOf(error) === 404) return false;
        throw error;
      }
    });
  }

  async counts(): Promise<QueueCounts> {
    return this.guard('count', async () => {
      await this.ensureQueues();
      const [queued, poisoned] = await Promise.all([this.queue.getProperties(), this.poison.getProperties()]);
      return { queued: queued.approximateMessagesCount ?? 0, poisoned: poisoned.approximateMessagesCount ?? 0 };
    });
  }

  /** Decodes and parses one message text; a failure is described, not thrown, so a batch goes on. */
  private bodyOf(text: string): { ok: true; body: T } | { ok: false; problem: string } {
    const decoded = decodeEventMessage(text);
    if (!decoded.ok) return decoded;
    try {
      return { ok: true, body: this.parse(decoded.body) };
    } catch (error) {
      return { ok: false, problem: `the body is not an event: ${(error as Error).message}` };
    }
  }

  /** Both queues, created once per EventQueue; a failed attempt is retried by the next operation. */
  private ensureQueues(): Promise<void> {
    this.ready ??= Promise.all([createIfAbsent(this.queue), createIfAbsent(this.poison)]).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  private async guard<R>(operation: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw storageError(operation, this.queueName, this.describe(), error);
    }
  }
}

function assertWithin(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
}

/**
 * The service client for a connection and a word on how it signs in (for describe()); the local
 * queue trigger host (dev/queue-host.ts) polls through the same one.
 */
export async function serviceClientFor(
  connection: EventsQueueConnection,
  override: TokenCredential | undefined,
  retryOptions: StoragePipelineOptions['retryOptions'],
): Promise<{ client: QueueServiceClient; signIn: string }> {
  if (connection.kind === 'connection-string') {
    registerConnectionStringSecrets(connection.connectionString);
    return {
      client: QueueServiceClient.fromConnectionString(connection.connectionString, { retryOptions }),
      signIn: 'connection string',
    };
  }
  const { credential, signIn } = override
    ? { credential: override, signIn: 'credential given' }
    : await credentialFor(connection);
  return { client: new QueueServiceClient(connection.queueServiceUri, credential, { retryOptions }), signIn };
}

/**
 * The receiver answers Partner Center within a second or two: a queue call that fails is tried once
 * more, briefly, and then the event is answered 503 (Partner Center delivers it again later), rather
 * than the SDK's default four tries over ~30 s while deliveries pile up.
 */
export const FAST_RETRY: StoragePipelineOptions['retryOptions'] = {
  maxTries: 2,
  tryTimeoutInMs: 1500,
  retryDelayInMs: 200,
};

/**
 * As the Functions host signs in for the trigger: `credential: managedidentity` means the managed
 * identity only, the user-assigned one named by clientId, whose default is AZURE_CLIENT_ID (as the
 * host documents); otherwise DefaultAzureCredential (the developer's sign-in locally), with clientId
 * as the managed identity it tries (it falls back to AZURE_CLIENT_ID by itself).
 */
async function credentialFor(
  connection: Extract<EventsQueueConnection, { kind: 'identity' }>,
): Promise<{ credential: TokenCredential; signIn: string }> {
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import('@azure/identity');
  if (connection.credential === 'managedidentity') {
    const clientId = connection.clientId ?? process.env.AZURE_CLIENT_ID;
    return {
      credential: new ManagedIdentityCredential({ clientId }),
      signIn: clientId ? `managed identity ${clientId}` : 'system-assigned managed identity',
    };
  }
  return {
    credential: new DefaultAzureCredential({ managedIdentityClientId: connection.clientId }),
    signIn: 'DefaultAzureCredential',
  };
}

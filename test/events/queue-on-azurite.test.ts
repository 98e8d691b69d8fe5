/**
 * The events queue (src/events/queue.ts) against a real Azurite queue service: the queue and its
 * poison queue created on first use, a send/receive/delete round trip, the message text base64 JSON
 * as the Functions queue trigger decodes it by default, visibility timeouts, undecodable messages
 * reported rather than thrown, and failures as StorageErrors without the account key.
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/common/errors.js';
import { type EventsConfig, loadEventsConfig } from '../../src/config.js';
import {
  createEventQueue,
  decodeEventMessage,
  type EventQueue,
  encodeEventMessage,
  MAX_EVENT_BODY_BYTES,
  type ReceivedMessage,
} from '../../src/events/queue.js';
import { AZURITE_KEY, type Azurite, startAzurite } from '../helpers/azurite.js';
import { thrownBy } from '../helpers/errors.js';

interface TestEvent {
  readonly EventName: string;
  readonly ResourceUri: string;
}

const EVENT: TestEvent = {
  EventName: 'referral-updated',
  ResourceUri: 'https://api.partnercenter.microsoft.com/engagements/v1/referrals/7c1e… Zürich 東京',
};

let azurite: Azurite;
let service: QueueServiceClient;
let names = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

afterAll(async () => {
  await azurite?.stop();
});

/** Settings for a queue of its own per test, so that tests never see each other's messages. */
function settings(): EventsConfig {
  names += 1;
  return loadEventsConfig({ EVENTS_QUEUE: azurite.connectionString, EVENTS_QUEUE_NAME: `events-${names}` });
}

async function queueNames(): Promise<string[]> {
  const found: string[] = [];
  for await (const item of service.listQueues()) found.push(item.name);
  return found;
}

function isTestEvent(body: unknown): TestEvent {
  const event = body as Partial<TestEvent> | null;
  if (typeof event?.EventName !== 'string' || typeof event.ResourceUri !== 'string') throw new Error('no EventName');
  return event as TestEvent;
}

/** Each message as one line: its body as JSON, or its problem. */
function outcomes<T>(messages: readonly ReceivedMessage<T>[]): string[] {
  return messages.map((m) => (m.ok ? `body ${JSON.stringify(m.body)}` : `problem ${m.problem}`)).sort();
}

describe('EventQueue on Azurite', () => {
  it('creates the queue and its poison queue on first use, once', async () => {
    const config = settings();
    const queue = await createEventQueue(config);
    expect(await queueNames()).not.toContain(config.queueName);
    expect(await queue.counts()).toEqual({ queued: 0, poisoned: 0 });
    expect(await queueNames()).toEqual(expect.arrayContaining([config.queueName, `${config.queueName}-poison`]));
    // A second client on existing queues is fine (createIfNotExists).
    const again = await createEventQueue(config);
    expect(await again.counts()).toEqual({ queued: 0, poisoned: 0 });
  });

  it('sends, receives and deletes: a round trip that leaves the queue empty', async () => {
    const queue: EventQueue<TestEvent> = await createEventQueue(settings(), { parse: isTestEvent });
    const id = await queue.send(EVENT);
    expect(await queue.counts()).toEqual({ queued: 1, poisoned: 0 });

    const [message, ...rest] = await queue.receive({ visibilityTimeoutSeconds: 30 });
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ ok: true, body: EVENT, messageId: id, dequeueCount: 1 });
    expect(message?.nextVisibleOn.getTime()).toBeGreaterThan(Date.now() + 20_000);

    expect(await queue.delete(message as ReceivedMessage<TestEvent>)).toBe(true);
    expect(await queue.counts()).toEqual({ queued: 0, poisoned: 0 });
    expect(await queue.receive({ visibilityTimeoutSeconds: 30 })).toEqual([]);
  });

  it('puts the body on the queue as base64 of UTF-8 JSON, as the queue trigger decodes by default', async () => {
    const config = settings();
    const queue = await createEventQueue(config);
    await queue.send(EVENT);
    const [peeked] = (await service.getQueueClient(config.queueName).peekMessages()).peekedMessageItems;
    const text = peeked?.messageText ?? '';
    expect(text).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(JSON.parse(Buffer.from(text, 'base64').toString('utf8'))).toEqual(EVENT);
    expect(text).toBe(encodeEventMessage(EVENT));
    expect(decodeEventMessage(text)).toEqual({ ok: true, body: EVENT });
  });

  it('receives in batches of up to 32, hidden for the visibility timeout, then visible again', async () => {
    const queue = await createEventQueue(settings(), { parse: isTestEvent });
    await Promise.all(Array.from({ length: 40 }, (_, i) => queue.send({ ...EVENT, EventName: `e${i}` })));

    const first = await queue.receive({ visibilityTimeoutSeconds: 1 });
    const second = await queue.receive({ maxMessages: 32, visibilityTimeoutSeconds: 60 });
    expect(first).toHaveLength(32);
    expect(second).toHaveLength(8);
    expect(await queue.receive({ visibilityTimeoutSeconds: 60 })).toEqual([]); // all 40 hidden

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const back = await queue.receive({ visibilityTimeoutSeconds: 60 });
    expect(back).toHaveLength(32);
    expect(back.every((m) => m.dequeueCount === 2)).toBe(true);
    // The first receipts no longer hold: another receive owns those messages now.
    const [stale] = first;
    expect(await queue.delete(stale as ReceivedMessage<TestEvent>)).toBe(false);
    expect(await queue.counts()).toEqual({ queued: 40, poisoned: 0 });
  });

  it('reports a message that is not base64 JSON, or not an event, without failing the batch', async () => {
    const config = settings();
    const queue = await createEventQueue(config, { parse: isTestEvent });
    await queue.send(EVENT);
    const raw = service.getQueueClient(config.queueName);
    await raw.sendMessage(JSON.stringify(EVENT)); // plain JSON: the trigger would fail to decode it
    await raw.sendMessage(Buffer.from('{"EventName":').toString('base64'));
    await raw.sendMessage(encodeEventMessage({ hello: 'world' }));

    const received = await queue.receive({ visibilityTimeoutSeconds: 30 });
    expect(outcomes(received)).toEqual([
      `body ${JSON.stringify(EVENT)}`,
      'problem the body is not an event: no EventName',
      expect.stringMatching(/^problem the decoded message is not JSON \(/),
      'problem the message text is not base64',
    ]);
  });

  it('counts the poison queue for diagnostics', async () => {
    const config = settings();
    const queue = await createEventQueue(config);
    await queue.counts();
    await service.getQueueClient(config.poisonQueueName).sendMessage(encodeEventMessage(EVENT));
    expect(await queue.counts()).toEqual({ queued: 0, poisoned: 1 });
  });

  it('refuses a body too large for one queue message before sending anything', async () => {
    const queue = await createEventQueue(settings());
    await queue.send({ pad: 'x'.repeat(MAX_EVENT_BODY_BYTES - 20) }); // fits: 48 KiB of JSON
    const error = await queue.send({ pad: 'x'.repeat(MAX_EVENT_BODY_BYTES) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).details.operation).toBe('send');
    expect((error as StorageError).message).toMatch(/64 KiB/);
    expect(await queue.counts()).toEqual({ queued: 1, poisoned: 0 });
  });

  it('fails with a StorageError naming the operation and queue, never the account key', async () => {
    const wrongKey = Buffer.from('not the azurite key, but shaped like one').toString('base64');
    const config = loadEventsConfig({
      EVENTS_QUEUE: azurite.connectionString.replace(AZURITE_KEY, wrongKey),
      EVENTS_QUEUE_NAME: 'events-refused',
    });
    const queue = await createEventQueue(config);
    const error = (await queue.send(EVENT).catch((e: unknown) => e)) as StorageError;
    expect(error).toBeInstanceOf(StorageError);
    expect(error.details).toMatchObject({ operation: 'send', path: 'events-refused', status: 403 });
    expect(error.message).toContain(`queue events-refused at ${azurite.queueEndpoint} (connection string)`);
    const shown = JSON.stringify({ message: error.message, cause: String(error.cause) });
    expect(shown).not.toContain(wrongKey);
    expect(shown).not.toContain(AZURITE_KEY);
  });

  it('refuses receive options outside what the service accepts', async () => {
    const queue = await createEventQueue(settings());
    await expect(queue.receive({ maxMessages: 33, visibilityTimeoutSeconds: 30 })).rejects.toThrow(RangeError);
    await expect(queue.receive({ visibilityTimeoutSeconds: 0 })).rejects.toThrow(/visibilityTimeoutSeconds/);
  });
});

describe('EventQueue sign-in', () => {
  const identity = {
    EVENTS_QUEUE__queueServiceUri: 'https://stevents.queue.core.windows.net/',
    EVENTS_QUEUE__credential: 'managedidentity',
    EVENTS_QUEUE__clientId: '3f2b8c1e-7d4a-4e6f-9b0c-5a1d2e3f4a5b',
  };

  it('signs in as the managed identity the settings name, or with DefaultAzureCredential locally', async () => {
    const managed = await createEventQueue(loadEventsConfig(identity));
    expect(managed.describe()).toBe(
      'queue referral-events at https://stevents.queue.core.windows.net/ (managed identity 3f2b8c1e-7d4a-4e6f-9b0c-5a1d2e3f4a5b)',
    );
    const local = await createEventQueue(
      loadEventsConfig({ EVENTS_QUEUE__queueServiceUri: identity.EVENTS_QUEUE__queueServiceUri }),
    );
    expect(local.describe()).toMatch(/\(DefaultAzureCredential\)$/);
  });

  it('never puts a connection string in its description', async () => {
    const queue = await createEventQueue(loadEventsConfig({ EVENTS_QUEUE: azurite.connectionString }));
    expect(queue.describe()).not.toMatch(/AccountKey|devstoreaccount1;/);
    expect(thrownBy(Error, () => encodeEventMessage(undefined)).message).toMatch(/JSON/);
  });
});

/**
 * The local queue trigger host (dev/queue-host.ts) against Azurite's queue service, behaving as the
 * Functions host does with host.json: it finds the worker's declaration, decodes base64 JSON, fills
 * triggerMetadata.dequeueCount, deletes on success, runs up to batchSize + newBatchThreshold at once,
 * and moves a message whose event run always fails to `<queue>-poison` after maxDequeueCount tries.
 * Waits are shortened through `settings` (visibilityTimeout 0, polls at most 100 ms apart).
 */
import type { InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueueHost, readQueueTriggerSettings, startQueueHost, timeSpanMs } from '../../dev/queue-host.js';
import { loadQueueFunctions } from '../../src/cli/function-modules.js';
import type { QueueFunction } from '../../src/common/azure-functions.js';
import { createLogger } from '../../src/common/log.js';
import { encodeEventMessage } from '../../src/events/queue.js';
import { type Azurite, startAzurite } from '../helpers/azurite.js';

let azurite: Azurite;
let service: QueueServiceClient;
let names = 0;
const hosts: QueueHost[] = [];
const FAST = { visibilityTimeoutMs: 0, maxPollingIntervalMs: 100 };

beforeAll(async () => {
  azurite = await startAzurite();
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await azurite?.stop();
});

/** A queue of its own per test, and the settings that name it. */
function queueSettings(): { name: string; env: Record<string, string> } {
  names += 1;
  const name = `host-${names}`;
  return { name, env: { EVENTS_QUEUE: azurite.connectionString, EVENTS_QUEUE_NAME: name } };
}

/** A declaration like the app's, with a handler of the test's own. */
function declaration(handler: QueueFunction['handler']): QueueFunction {
  return { name: 'testFunction', connection: 'EVENTS_QUEUE', queueName: '%EVENTS_QUEUE_NAME%', handler };
}

async function host(env: Record<string, string>, fn?: QueueFunction, settings = {}): Promise<QueueHost> {
  const lines: string[] = [];
  const started = await startQueueHost({
    env,
    functions: fn ? [fn] : undefined,
    settings: { ...FAST, ...settings },
    logger: createLogger((_level, line) => lines.push(line)),
    logHandler: () => {},
  });
  hosts.push(started);
  return started;
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function peekAll(queue: string): Promise<string[]> {
  const peeked = await service.getQueueClient(queue).peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((m) => m.messageText);
}

describe('host.json as the local host reads it', () => {
  it('gives the queue settings in ms, as the Storage extension applies them', () => {
    expect(readQueueTriggerSettings()).toEqual({
      batchSize: 32,
      newBatchThreshold: 224,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 30_000,
      maxPollingIntervalMs: 2_000,
      messageEncoding: 'base64',
    });
    expect(timeSpanMs('1.02:03:04.5')).toBe(((24 + 2) * 3600 + 3 * 60 + 4.5) * 1000);
  });
});

describe('the local queue trigger host', () => {
  it('finds the worker the app declares, on the queue its settings name', async () => {
    const [worker, ...others] = await loadQueueFunctions();
    expect(others).toEqual([]);
    expect(worker).toMatchObject({ name: 'processReferralEvents', connection: 'EVENTS_QUEUE' });
    const { name, env } = queueSettings();
    const started = await host(env, worker);
    expect(started.queues).toEqual([
      {
        functionName: 'processReferralEvents',
        queueName: name,
        poisonQueueName: `${name}-poison`,
        endpoint: `${azurite.queueEndpoint}`,
      },
    ]);
  });

  it('hands over base64 JSON parsed, with the dequeue count, and deletes the message on success', async () => {
    const { name, env } = queueSettings();
    const seen: { body: unknown; dequeueCount: unknown }[] = [];
    await host(
      env,
      declaration(async (body: unknown, context: InvocationContext) => {
        seen.push({ body, dequeueCount: context.triggerMetadata?.dequeueCount });
      }),
    );
    await service.getQueueClient(name).sendMessage(encodeEventMessage({ eventName: 'referral-updated', n: 1 }));
    await until(() => (seen.length > 0 ? true : undefined));
    expect(seen).toEqual([{ body: { eventName: 'referral-updated', n: 1 }, dequeueCount: 1 }]);
    await until(async () => ((await peekAll(name)).length === 0 ? true : undefined));
  });

  it('runs at most batchSize + newBatchThreshold invocations at once', async () => {
    const { name, env } = queueSettings();
    let running = 0;
    let most = 0;
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await host(
      env,
      declaration(async () => {
        running += 1;
        most = Math.max(most, running);
        await gate;
        running -= 1;
      }),
      { batchSize: 2, newBatchThreshold: 2 },
    );
    const queue = service.getQueueClient(name);
    await Promise.all(Array.from({ length: 8 }, (_, n) => queue.sendMessage(encodeEventMessage({ n }))));
    await until(() => (running === 4 ? true : undefined));
    // A few more polls: none may start a fifth while four run.
    await new Promise((r) => setTimeout(r, 400));
    expect(most).toBe(4);
    open();
    await until(async () => ((await peekAll(name)).length === 0 && running === 0 ? true : undefined));
    expect(most).toBe(4);
  });

  it('moves a message whose event run always fails to the poison queue after maxDequeueCount tries', async () => {
    const { name, env } = queueSettings();
    const [worker] = await loadQueueFunctions();
    if (!worker) throw new Error('no worker declared');
    // The worker reads the app settings from the process, as under the host; with no Partner Center
    // settings every event run fails at its start.
    const saved = { ...process.env };
    Object.assign(process.env, env, { EVENTS_FLUSH_SECONDS: '1', LAKE_LOCAL_DIR: '/nonexistent-lake' });
    const counts: unknown[] = [];
    try {
      const lines: string[] = [];
      const started = await startQueueHost({
        env,
        functions: [worker],
        settings: FAST,
        logger: createLogger((_level, line) => lines.push(line)),
        logHandler: (_level, ...args) => {
          const line = JSON.parse(String(args[0])) as { message: string; dequeueCount?: number };
          if (line.message.startsWith('the event run failed')) counts.push(line.dequeueCount);
        },
      });
      hosts.push(started);
      const text = encodeEventMessage({ eventName: 'referral-updated', referralId: 'always-fails-1' });
      await service.getQueueClient(name).sendMessage(text);
      const poisoned = await until(async () => {
        const found = await peekAll(`${name}-poison`);
        return found.length > 0 ? found : undefined;
      });
      expect(poisoned).toEqual([text]);
      expect(await peekAll(name)).toEqual([]);
      expect(counts).toEqual([1, 2, 3, 4, 5]);
      expect(lines.some((l) => /"moved a message to the poison queue".*"dequeueCount":5/.test(l))).toBe(true);
    } finally {
      process.env = saved;
    }
  }, 30_000);

  it('fails text that is not base64 as the host does: tried maxDequeueCount times, then poisoned', async () => {
    const { name, env } = queueSettings();
    let calls = 0;
    await host(
      env,
      declaration(async () => {
        calls += 1;
      }),
      { maxDequeueCount: 2 },
    );
    await service.getQueueClient(name).sendMessage('{"not":"base64"}');
    const poisoned = await until(async () => {
      const found = await peekAll(`${name}-poison`);
      return found.length > 0 ? found : undefined;
    });
    expect(poisoned).toEqual(['{"not":"base64"}']);
    expect(calls).toBe(0);
  });
});

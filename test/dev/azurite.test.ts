/**
 * The launcher itself: one call gives Azurite's blob and queue services, one connection string that
 * reaches both, data kept in a folder across restarts when asked, and stop() ends both processes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, startAzurite } from '../helpers/azurite.js';
import { alive } from '../helpers/process.js';

const folders: string[] = [];

afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('startAzurite', () => {
  it('serves blobs and queues through one connection string, and stop() ends both processes', async () => {
    const azurite = await startAzurite();
    try {
      expect(azurite.blobEndpoint).toBe(`http://127.0.0.1:${azurite.port}/${AZURITE_ACCOUNT}`);
      expect(azurite.queueEndpoint).toBe(`http://127.0.0.1:${azurite.queuePort}/${AZURITE_ACCOUNT}`);
      expect(azurite.queuePort).not.toBe(azurite.port);
      expect(azurite.connectionString).toContain(`BlobEndpoint=${azurite.blobEndpoint};`);
      expect(azurite.connectionString).toContain(`QueueEndpoint=${azurite.queueEndpoint};`);

      const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
      await blobs.getContainerClient('probe').create();
      const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
      await queues.getQueueClient('probe').create();
      expect((await queues.getQueueClient('probe').getProperties()).approximateMessagesCount).toBe(0);
    } finally {
      await azurite.stop();
    }
    expect(alive(azurite.pid)).toBe(false);
    expect(alive(azurite.queuePid)).toBe(false);
    await azurite.stop(); // idempotent
  });

  it('keeps queues and their messages in the folder across a restart', async () => {
    const location = await mkdtemp(join(tmpdir(), 'azurite-kept-'));
    folders.push(location);
    const first = await startAzurite({ location });
    try {
      const queue = QueueServiceClient.fromConnectionString(first.connectionString).getQueueClient('kept');
      await queue.create();
      await queue.sendMessage('still here');
    } finally {
      await first.stop();
    }
    const second = await startAzurite({ location });
    try {
      const queue = QueueServiceClient.fromConnectionString(second.connectionString).getQueueClient('kept');
      const peeked = await queue.peekMessages();
      expect(peeked.peekedMessageItems.map((m) => m.messageText)).toEqual(['still here']);
    } finally {
      await second.stop();
    }
  });
});

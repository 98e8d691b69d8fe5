/**
 * host.json's queue settings are the contract between the events queue and the worker's trigger:
 * base64 messages (what src/events/queue.ts writes), five attempts before the poison queue, values
 * inside what the Storage extension accepts, and every one explained in docs/operations.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEventMessage, encodeEventMessage } from '../../src/events/queue.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const queues = (JSON.parse(read('host.json')) as { extensions: { queues: Record<string, string | number> } }).extensions
  .queues;

/** `hh:mm:ss` (a .NET TimeSpan as host.json writes it) in seconds. */
function seconds(timeSpan: unknown): number {
  const match = /^(\d\d):(\d\d):(\d\d(?:\.\d+)?)$/.exec(String(timeSpan));
  if (!match) throw new Error(`not a TimeSpan: ${String(timeSpan)}`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

describe('host.json extensions.queues', () => {
  it('decodes messages as base64, the encoding EventQueue writes', () => {
    expect(queues.messageEncoding).toBe('base64');
    const text = encodeEventMessage({ EventName: 'referral-created' });
    expect(Buffer.from(text, 'base64').toString('base64')).toBe(text);
    expect(decodeEventMessage(text)).toEqual({ ok: true, body: { EventName: 'referral-created' } });
  });

  it('poisons after five attempts, retried one flush interval apart', () => {
    expect(queues.maxDequeueCount).toBe(5);
    expect(seconds(queues.visibilityTimeout)).toBe(30); // EVENTS_FLUSH_SECONDS' default
  });

  it('stays inside what the Storage extension accepts and polls often enough for a one-minute budget', () => {
    expect(queues.batchSize).toBe(32); // the maximum
    expect(Number(queues.newBatchThreshold)).toBeGreaterThan(Number(queues.batchSize));
    const polling = seconds(queues.maxPollingInterval);
    expect(polling).toBeGreaterThanOrEqual(0.1);
    expect(polling).toBeLessThanOrEqual(5);
  });

  it('explains every setting in docs/operations.md', () => {
    const section = /## Events queue\n([\s\S]*?)(?:\n## |$)/.exec(read('docs/operations.md'))?.[1] ?? '';
    for (const [name, value] of Object.entries(queues)) {
      expect(section, name).toMatch(new RegExp(`\\| \`${name}\`\\s+\\| \`${String(value)}\``));
    }
  });
});

/**
 * Storage connection strings never reach a log line with their key: the lake's and the events
 * queue's (EVENTS_QUEUE) pass through the same logger, whether as a field, inside a message, in an
 * error's cause, or as the bare key an SDK error may quote once the string has been registered.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../src/common/log.js';
import { registerConnectionStringSecrets } from '../../src/common/redact.js';

// Shaped like a real account key (64 random bytes in base64: + / and = padding), new on every run.
const KEY = randomBytes(64).toString('base64');
const WITH_KEY = `DefaultEndpointsProtocol=https;AccountName=stevents;AccountKey=${KEY};EndpointSuffix=core.windows.net`;
const WITH_SAS =
  'QueueEndpoint=https://stevents.queue.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=AbC%2BdEf%2FgHi%3D';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger((_level: LogLevel, line) => lines.push(line), { level: 'debug' }) };
}

describe('log redaction of storage connection strings', () => {
  it('masks the account key in a field, a message and an error cause', () => {
    const { lines, logger } = capture();
    logger.info('queue connection', { EVENTS_QUEUE: WITH_KEY });
    logger.warn(`could not connect with ${WITH_KEY}`);
    logger.error('send failed', { error: new Error('outer', { cause: new Error(`bad: ${WITH_KEY}`) }) });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(KEY);
      expect(line).not.toContain(KEY.slice(0, 20));
      expect(line).toContain('AccountKey=***');
      expect(line).toContain('AccountName=stevents'); // the account stays: it is no secret and helps
    }
  });

  it('masks a SAS connection string, signature included', () => {
    const { lines, logger } = capture();
    logger.info('queue connection', { EVENTS_QUEUE: WITH_SAS });
    expect(lines[0]).not.toMatch(/sv=2022-11-02|AbC%2BdEf/);
    expect(lines[0]).toContain('SharedAccessSignature=***');
  });

  it('masks the bare key once the connection string is registered', () => {
    const { lines, logger } = capture();
    logger.error('the SDK quoted the key alone', { detail: `key '${KEY}' is not valid base64` });
    expect(lines[0]).toContain(KEY); // nothing shaped like a credential: the patterns cannot know
    registerConnectionStringSecrets(WITH_KEY);
    logger.error('the SDK quoted the key alone', { detail: `key '${KEY}' is not valid base64` });
    expect(lines[1]).not.toContain(KEY);
    expect(lines[1]).toContain("key '***'");
  });
});

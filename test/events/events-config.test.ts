/**
 * The events queue settings (src/config.ts, loadEventsConfig): read as the Functions host reads the
 * queue trigger's `connection: 'EVENTS_QUEUE'`, validated once, and every error names its setting.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/common/errors.js';
import { loadEventsConfig } from '../../src/config.js';
import { thrownBy } from '../helpers/errors.js';

const AZURITE = { EVENTS_QUEUE: 'UseDevelopmentStorage=true' };
const CLIENT_ID = '3f2b8c1e-7d4a-4e6f-9b0c-5a1d2e3f4a5b';
const IDENTITY = {
  EVENTS_QUEUE__queueServiceUri: 'https://stevents.queue.core.windows.net/',
  EVENTS_QUEUE__credential: 'managedidentity',
  EVENTS_QUEUE__clientId: CLIENT_ID,
};

/** The setting a ConfigError names, for an environment that must fail. */
function settingNamedBy(env: Record<string, string>): string {
  return thrownBy(ConfigError, () => loadEventsConfig(env)).setting;
}

describe('events queue settings', () => {
  it('defaults the queue name, its poison queue and the flush interval', () => {
    expect(loadEventsConfig(AZURITE)).toEqual({
      connection: { kind: 'connection-string', connectionString: 'UseDevelopmentStorage=true' },
      queueName: 'referral-events',
      poisonQueueName: 'referral-events-poison',
      flushMs: 30_000,
    });
    const custom = loadEventsConfig({ ...AZURITE, EVENTS_QUEUE_NAME: 'pc-events-2', EVENTS_FLUSH_SECONDS: '1' });
    expect([custom.queueName, custom.poisonQueueName, custom.flushMs]).toEqual([
      'pc-events-2',
      'pc-events-2-poison',
      1000,
    ]);
  });

  it('reads the identity-based connection the host documents (credential in any case, as the host compares)', () => {
    expect(loadEventsConfig({ ...IDENTITY, EVENTS_QUEUE__credential: 'ManagedIdentity' }).connection).toEqual({
      kind: 'identity',
      queueServiceUri: 'https://stevents.queue.core.windows.net',
      credential: 'managedidentity',
      clientId: CLIENT_ID,
    });
    // Locally: the endpoint alone signs in with DefaultAzureCredential (the developer's az login).
    expect(
      loadEventsConfig({ EVENTS_QUEUE__queueServiceUri: IDENTITY.EVENTS_QUEUE__queueServiceUri }).connection,
    ).toEqual({
      kind: 'identity',
      queueServiceUri: 'https://stevents.queue.core.windows.net',
      credential: undefined,
      clientId: undefined,
    });
  });

  it('takes a full connection string (Azurite on a random port) as it is', () => {
    const connectionString =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:41001/devstoreaccount1;';
    expect(loadEventsConfig({ EVENTS_QUEUE: connectionString }).connection).toEqual({
      kind: 'connection-string',
      connectionString,
    });
  });

  it('names EVENTS_QUEUE when no connection is configured', () => {
    const error = thrownBy(ConfigError, () => loadEventsConfig({}));
    expect(error.setting).toBe('EVENTS_QUEUE');
    expect(error.message).toMatch(/EVENTS_QUEUE__queueServiceUri/);
  });

  it('names the malformed setting, never echoing a connection string', () => {
    const bad = thrownBy(ConfigError, () => loadEventsConfig({ EVENTS_QUEUE: 'AccountKey=c2VjcmV0;Foo=bar' }));
    expect(bad.setting).toBe('EVENTS_QUEUE');
    expect(bad.message).toMatch(/QueueEndpoint=/);
    expect(bad.message).not.toContain('c2VjcmV0');
    expect(
      settingNamedBy({ ...IDENTITY, EVENTS_QUEUE__queueServiceUri: 'http://stevents.queue.core.windows.net' }),
    ).toBe('EVENTS_QUEUE__queueServiceUri');
    expect(settingNamedBy({ ...IDENTITY, EVENTS_QUEUE__credential: 'azurecli' })).toBe('EVENTS_QUEUE__credential');
    expect(settingNamedBy({ ...IDENTITY, EVENTS_QUEUE__clientId: 'id-app' })).toBe('EVENTS_QUEUE__clientId');
    for (const seconds of ['0', '1.5', 'soon', '601']) {
      expect(settingNamedBy({ ...AZURITE, EVENTS_FLUSH_SECONDS: seconds }), seconds).toBe('EVENTS_FLUSH_SECONDS');
    }
  });

  it('applies the Azure queue naming rules, with room left for the poison suffix', () => {
    for (const name of ['Referral-Events', 'ab', 'a--b', '-abc', 'abc-', 'a_b', 'x'.repeat(57)]) {
      expect(settingNamedBy({ ...AZURITE, EVENTS_QUEUE_NAME: name }), name).toBe('EVENTS_QUEUE_NAME');
    }
    const longest = 'x'.repeat(56);
    expect(loadEventsConfig({ ...AZURITE, EVENTS_QUEUE_NAME: longest }).poisonQueueName).toHaveLength(63);
    expect(loadEventsConfig({ ...AZURITE, EVENTS_QUEUE_NAME: 'abc' }).queueName).toBe('abc');
  });

  it('refuses what the host would resolve otherwise: both kinds, an empty connection string, a partial identity', () => {
    expect(settingNamedBy({ ...AZURITE, ...IDENTITY })).toBe('EVENTS_QUEUE__queueServiceUri');
    expect(settingNamedBy({ ...AZURITE, EVENTS_QUEUE__clientId: CLIENT_ID })).toBe('EVENTS_QUEUE__clientId');
    const empty = thrownBy(ConfigError, () => loadEventsConfig({ EVENTS_QUEUE: '', ...IDENTITY }));
    expect(empty.setting).toBe('EVENTS_QUEUE');
    expect(empty.message).toMatch(/empty/);
    expect(settingNamedBy({ EVENTS_QUEUE__credential: 'managedidentity', EVENTS_QUEUE__clientId: CLIENT_ID })).toBe(
      'EVENTS_QUEUE__queueServiceUri',
    );
    // Empty identity settings beside a connection string (local.settings.sample.json) are no conflict.
    expect(
      loadEventsConfig({ ...AZURITE, EVENTS_QUEUE__queueServiceUri: '', EVENTS_QUEUE__credential: ' ' }).connection
        .kind,
    ).toBe('connection-string');
  });

  it('refuses, by name, settings the host would read for this connection and this app would not', () => {
    for (const name of [
      'AzureWebJobsEVENTS_QUEUE',
      'AzureWebJobsEVENTS_QUEUE__queueServiceUri',
      'ConnectionStrings__EVENTS_QUEUE',
      'EVENTS_QUEUE__serviceUri',
      'EVENTS_QUEUE__accountName',
      'EVENTS_QUEUE__managedIdentityResourceId',
      'EVENTS_QUEUE__clientSecret',
      'EVENTS_QUEUE__QueueServiceUri', // .NET configuration keys ignore case; this code does not
      'events_queue',
    ]) {
      expect(settingNamedBy({ ...IDENTITY, [name]: 'x' }), name).toBe(name);
    }
  });
});

/**
 * The events queue in infra/ (issue 20), read as text (the Bicep compiler cannot run here): the queue
 * and its poison queue in the host storage account, the identity-based EVENTS_QUEUE settings the
 * worker's trigger and the receiver both read, and Storage Queue Data Contributor for the app's
 * user-assigned identity on each of the two queues alone.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEventsConfig, POISON_SUFFIX, SETTINGS } from '../../src/config.js';
import { appSettingVars, type BicepFile, declaration, infraFile, params, readBicepFiles } from './bicep.js';

const files = readBicepFiles();
const file = (name: string): BicepFile => infraFile(files, name);
const main = file('main.bicep');
const storage = file(join('modules', 'storage.bicep'));
const roles = file(join('modules', 'role-assignments.bicep'));
const settings = appSettingVars(main).get('codeAppSettings') ?? new Map<string, string>();

const STORAGE_QUEUE_DATA_CONTRIBUTOR = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';

describe('infra: the events queue', () => {
  it('creates the queue and its poison queue in the host storage account, not the lake', () => {
    const name = params(main).find((p) => p.name === 'eventsQueueName');
    expect(name?.defaultValue).toBe(`'${SETTINGS.EVENTS_QUEUE_NAME.default}'`);
    // The config's limit: the name plus '-poison' fits Azure's 63 characters.
    expect(main.code).toMatch(/@maxLength\(56\)\s*@description\([^\n]*\)\s*param eventsQueueName string/);
    expect(main.code).toContain(`var eventsQueues = [eventsQueueName, '\${eventsQueueName}${POISON_SUFFIX}']`);
    expect(declaration(main, 'hostStorage')?.body).toMatch(/\n\s*queues: eventsQueues\n/);
    expect(declaration(main, 'lakeStorage')?.body).not.toMatch(/queues:/);

    expect(params(storage).find((p) => p.name === 'queues')).toMatchObject({ type: 'string[]', defaultValue: '[]' });
    expect(declaration(storage, 'queueService')).toMatchObject({
      type: 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01',
      condition: '!empty(queues)',
    });
    expect(storage.code).toMatch(
      /resource queue 'Microsoft\.Storage\/storageAccounts\/queueServices\/queues@[^']+' = \[\s*for queueName in queues: \{\s*parent: queueService\s*name: queueName/,
    );
    expect(storage.code).toContain('output queueEndpoint string = account.properties.primaryEndpoints.queue');
  });

  it('sets the identity-based connection the Functions host documents for a user-assigned identity', () => {
    expect(settings.get('EVENTS_QUEUE__queueServiceUri')).toBe('hostStorage.outputs.queueEndpoint');
    expect(settings.get('EVENTS_QUEUE__credential')).toBe("'managedidentity'");
    expect(settings.get('EVENTS_QUEUE__clientId')).toBe('appIdentity.outputs.clientId');
    expect(settings.get('EVENTS_QUEUE_NAME')).toBe('eventsQueueName');
    expect(settings.get('EVENTS_FLUSH_SECONDS')).toBe('eventsFlushSeconds');
    expect(settings.has('EVENTS_QUEUE')).toBe(false); // a connection string would win over the identity

    // Those settings, with the values Azure gives them, are a valid configuration for the code.
    const config = loadEventsConfig({
      EVENTS_QUEUE__queueServiceUri: 'https://st1a2b3c.queue.core.windows.net/',
      EVENTS_QUEUE__credential: 'managedidentity',
      EVENTS_QUEUE__clientId: '00000000-0000-4000-8000-000000000001',
      EVENTS_QUEUE_NAME: 'referral-events',
      EVENTS_FLUSH_SECONDS: '30',
    });
    expect(config.connection).toMatchObject({ kind: 'identity', credential: 'managedidentity' });
    expect(config.poisonQueueName).toBe('referral-events-poison');
  });

  it("grants Storage Queue Data Contributor to the app's identity on each events queue, nothing wider", () => {
    expect(roles.code).toContain(`storageQueueDataContributor: '${STORAGE_QUEUE_DATA_CONTRIBUTOR}'`);
    expect(declaration(main, 'access')?.body).toMatch(/\n\s*eventsQueueNames: eventsQueues\n/);
    expect(roles.code).toMatch(
      /resource eventsQueues 'Microsoft\.Storage\/storageAccounts\/queueServices\/queues@[^']+' existing = \[\s*for queueName in eventsQueueNames: \{\s*parent: hostStorage::queueService/,
    );
    const grant =
      /resource functionEventsQueues 'Microsoft\.Authorization\/roleAssignments@[^']+' = \[([\s\S]*?)\n\]/.exec(
        roles.code,
      )?.[1];
    expect(grant).toBeDefined();
    expect(grant).toMatch(/for i in range\(0, length\(eventsQueueNames\)\)/);
    expect(grant).toMatch(
      /name: guid\(eventsQueues\[i\]\.id, functionPrincipalId, roles\.storageQueueDataContributor\)/,
    );
    expect(grant).toMatch(/scope: eventsQueues\[i\]\n/);
    expect(grant).toMatch(/principalId: functionPrincipalId\n/);
    expect(grant).toMatch(/principalType: 'ServicePrincipal'/);
    // The queue role appears in this one grant only: not on the account, not for the deployer.
    expect(roles.code.match(/roles\.storageQueueDataContributor/g)).toHaveLength(2); // name and roleDefinitionId
  });
});

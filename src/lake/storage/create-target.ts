/** The storage target the settings name: a local folder, or Blob/ADLS by connection string or managed identity. */
import { DefaultAzureCredential } from '@azure/identity';
import type { LakeConfig } from '../../config.js';
import { BlobStorageTarget } from './blob-storage-target.js';
import { LocalDirectoryTarget } from './local-directory-target.js';
import type { StorageTarget } from './storage.js';

export function createStorageTarget(config: LakeConfig): StorageTarget {
  switch (config.kind) {
    case 'local':
      return new LocalDirectoryTarget({ root: config.dir });
    case 'connection-string':
      return new BlobStorageTarget({
        connectionString: config.connectionString,
        container: config.container,
        prefix: config.prefix,
      });
    case 'account-url':
      return new BlobStorageTarget({
        accountUrl: config.accountUrl,
        credential: new DefaultAzureCredential(),
        container: config.container,
        prefix: config.prefix,
      });
  }
}

/**
 * The storage target the settings name: a local folder, or Blob/ADLS by connection string or managed
 * identity. The Azure SDKs load only for a Blob target: a folder needs none of them, and loading
 * them is a third of a CLI sync's start.
 */
import type { LakeConfig } from '../../config.js';
import { LocalDirectoryTarget } from './local-directory-target.js';
import type { StorageTarget } from './storage.js';

export async function createStorageTarget(config: LakeConfig): Promise<StorageTarget> {
  if (config.kind === 'local') return new LocalDirectoryTarget({ root: config.dir });
  const { BlobStorageTarget } = await import('./blob-storage-target.js');
  if (config.kind === 'connection-string') {
    return new BlobStorageTarget({
      connectionString: config.connectionString,
      container: config.container,
      prefix: config.prefix,
    });
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new BlobStorageTarget({
    accountUrl: config.accountUrl,
    credential: new DefaultAzureCredential(),
    container: config.container,
    prefix: config.prefix,
  });
}

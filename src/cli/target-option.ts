/**
 * `--target`: where a CLI sync writes, without editing settings. A folder path, a container URL
 * (`https://<account>.blob.core.windows.net/<container>[/<prefix>]`, signed in with
 * DefaultAzureCredential), or a storage connection string (`…AccountName=…` or
 * `UseDevelopmentStorage=true`, container from LAKE_CONTAINER).
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobStorageTarget } from '../lake/storage/blob-storage-target.js';
import { LocalDirectoryTarget } from '../lake/storage/local-directory-target.js';
import type { StorageTarget } from '../lake/storage/storage.js';

export function targetFromOption(value: string, env: Readonly<Record<string, string | undefined>>): StorageTarget {
  if (/^https:\/\//i.test(value)) {
    const url = new URL(value);
    const [container, ...prefix] = url.pathname.split('/').filter(Boolean);
    if (!container) throw new Error(`--target ${url.origin}: name the container, e.g. ${url.origin}/referrals-lake`);
    return new BlobStorageTarget({
      accountUrl: url.origin,
      credential: new DefaultAzureCredential(),
      container,
      prefix: prefix.join('/'),
    });
  }
  if (/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(value)) {
    return new BlobStorageTarget({
      connectionString: value,
      container: env.LAKE_CONTAINER || 'referrals-lake',
      prefix: env.LAKE_PREFIX,
    });
  }
  return new LocalDirectoryTarget({ root: value });
}

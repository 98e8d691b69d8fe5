/**
 * The lake in Azure Blob Storage. ADLS Gen2 accounts (hierarchical namespace) work through the same
 * Blob endpoint (multi-protocol access: Put Blob, Put Block List and the If-Match/If-None-Match
 * conditions behave as on flat accounts), so there is no separate DFS client; a `.dfs.` account URL
 * is mapped to its `.blob.` twin. Azurite is reached with its connection string.
 *
 * Data files are streamed as staged blocks and committed at close (blob-write-sink.ts), so memory
 * stays at a few blocks whatever the file size and nothing is visible before the commit. Small state
 * files use single Put Blob calls with conditions: `If-None-Match: *` (409 when the blob exists)
 * and `If-Match: <etag>` (412 when it changed).
 */
import type { TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  type BlobServiceClient as BlobServiceClientType,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import { StorageError } from '../../common/errors.js';
import { registerConnectionStringSecrets, safeUrl } from '../../common/redact.js';
import { BlobWriteSink, BlockBudget } from './blob-write-sink.js';
import { contentTypeFor } from './content-type.js';
import {
  assertRange,
  type CopiedFile,
  type CreateResult,
  type FileContent,
  type ReplaceResult,
  type StorageTarget,
  type StoredObject,
  streamCopy,
  type WriteOptions,
  type WriteSink,
} from './storage.js';
import { createIfAbsent, guardStream, statusOf, storageError } from './storage-errors.js';
import { assertKey, assertListPrefix, joinKey, normalizeRootPrefix } from './storage-keys.js';

interface CommonBlobOptions {
  readonly container: string;
  /** Folder inside the container that holds the lake (LAKE_PREFIX); '' or absent for the root. */
  readonly prefix?: string;
  /**
   * Block size for streamed uploads; each open file fills one, so it is the unit of memory per file.
   * Default 512 KiB: a run writes ~20 files at once (docs/performance.md). 50,000 blocks of 512 KiB
   * still allow 24 GiB a file (the `referrals` NDJSON of a million referrals is ~3 GB).
   */
  readonly blockSize?: number;
  /** Blocks uploaded in parallel, across every file of the target. Default 8. */
  readonly concurrency?: number;
}

export type BlobStorageOptions =
  | (CommonBlobOptions & {
      /** Account key or SAS connection string, Azurite's, or `UseDevelopmentStorage=true`. */
      readonly connectionString: string;
    })
  | (CommonBlobOptions & {
      /** `https://<account>.blob.core.windows.net` (a `.dfs.` URL is accepted and mapped). */
      readonly accountUrl: string;
      /** DefaultAzureCredential, ManagedIdentityCredential, … */
      readonly credential: TokenCredential;
    });

const DEFAULT_BLOCK_SIZE = 512 * 1024;
const DEFAULT_CONCURRENCY = 8;

export class BlobStorageTarget implements StorageTarget {
  private readonly container: ContainerClient;
  private readonly root: string;
  private readonly blocks: BlockBudget;
  private containerReady: Promise<void> | undefined;

  constructor(options: BlobStorageOptions) {
    this.container = serviceClientFor(options).getContainerClient(options.container);
    this.root = normalizeRootPrefix(options.prefix);
    this.blocks = new BlockBudget(options.blockSize ?? DEFAULT_BLOCK_SIZE, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  describe(): string {
    const where = `${safeUrl(this.container.url)}${this.root ? `/${this.root}` : ''}`;
    return `blob account ${this.container.accountName} container ${this.container.containerName} (${where})`;
  }

  async openWrite(path: string, options?: WriteOptions): Promise<WriteSink> {
    const blob = this.blobFor(path);
    return this.guard('write', path, async () => {
      await this.ensureContainer();
      return new BlobWriteSink(blob, {
        budget: this.blocks,
        contentType: options?.contentType ?? contentTypeFor(path),
        fail: (operation, error) => storageError(operation, path, this.describe(), error),
      });
    });
  }

  async read(path: string): Promise<FileContent | undefined> {
    const blob = this.blobFor(path);
    return this.guard('read', path, async () => {
      try {
        const response = await blob.download(0);
        const body = await collect(response.readableStreamBody);
        return { body, etag: response.etag ?? '', contentType: response.contentType };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async openRead(path: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const blob = this.blobFor(path);
    const body = await this.guard('read', path, async () => {
      try {
        return (await blob.download(0)).readableStreamBody;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
    // The SDK retries a dropped download from where it stopped (maxRetryRequests) before failing.
    return body && guardStream(body, (error) => storageError('read', path, this.describe(), error));
  }

  async readRange(path: string, offset: number, length: number): Promise<Buffer | undefined> {
    assertRange(offset, length);
    const blob = this.blobFor(path);
    return this.guard('read', path, async () => {
      try {
        return await collect((await blob.download(offset, length)).readableStreamBody);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        // A range starting at or past the end of the blob (or any range of an empty one): nothing to read.
        if (statusOf(error) === 416) return Buffer.alloc(0);
        throw error;
      }
    });
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertListPrefix(prefix);
    const fullPrefix = this.root === '' ? prefix : `${this.root}/${prefix}`;
    const items = this.container.listBlobsFlat({ prefix: fullPrefix || undefined, includeMetadata: true });
    const iterator = items[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.guard('list', prefix, () => iterator.next());
      if (next.done) return;
      const item = next.value;
      // ADLS Gen2 shows its directories as empty blobs marked hdi_isfolder; they are not files.
      if (item.metadata?.hdi_isfolder === 'true') continue;
      yield {
        path: this.root === '' ? item.name : item.name.slice(this.root.length + 1),
        size: item.properties.contentLength ?? 0,
        lastModified: item.properties.lastModified,
      };
    }
  }

  async exists(path: string): Promise<boolean> {
    const blob = this.blobFor(path);
    return this.guard('exists', path, () => blob.exists());
  }

  async delete(path: string): Promise<boolean> {
    const blob = this.blobFor(path);
    return this.guard('delete', path, async () => (await blob.deleteIfExists()).succeeded);
  }

  async deleteIfMatch(path: string, etag: string): Promise<boolean> {
    const blob = this.blobFor(path);
    return this.guard('delete', path, async () => {
      try {
        return (await blob.deleteIfExists({ conditions: { ifMatch: etag } })).succeeded;
      } catch (error) {
        if (statusOf(error) === 412) return false;
        throw error;
      }
    });
  }

  async createIfAbsent(path: string, body: Uint8Array, options?: WriteOptions): Promise<CreateResult> {
    const blob = this.blobFor(path);
    return this.guard('create', path, async (): Promise<CreateResult> => {
      await this.ensureContainer();
      try {
        const response = await blob.upload(body, body.length, {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: options?.contentType ?? contentTypeFor(path) },
        });
        return { created: true, etag: response.etag ?? '' };
      } catch (error) {
        if (statusOf(error) === 409) return { created: false };
        throw error;
      }
    });
  }

  async replaceIfMatch(path: string, body: Uint8Array, etag: string, options?: WriteOptions): Promise<ReplaceResult> {
    const blob = this.blobFor(path);
    return this.guard('replace', path, async (): Promise<ReplaceResult> => {
      try {
        const response = await blob.upload(body, body.length, {
          conditions: { ifMatch: etag },
          blobHTTPHeaders: { blobContentType: options?.contentType ?? contentTypeFor(path) },
        });
        return { replaced: true, etag: response.etag ?? '' };
      } catch (error) {
        // 412: changed since it was read; 404: deleted (or the container is gone) since then.
        const status = statusOf(error);
        if (status === 412 || status === 404) return { replaced: false };
        throw error;
      }
    });
  }

  /**
   * Copy Blob inside the account: the service copies, nothing passes through this process (a
   * same-account copy completes at once). Where the service cannot authorize the source with the
   * caller's credential (403 on the source, e.g. a SAS scoped to the destination) the bytes are
   * streamed through instead.
   */
  async copy(from: string, to: string): Promise<CopiedFile> {
    const source = this.blobFor(from);
    const destination = this.blobFor(to);
    try {
      return await this.guard('copy', to, async () => {
        const poller = await destination.beginCopyFromURL(source.url, { intervalInMs: 200 });
        const result = await poller.pollUntilDone();
        if (result.copyStatus !== 'success') throw new Error(`the copy from '${from}' ended ${result.copyStatus}`);
        return { bytes: (await destination.getProperties()).contentLength ?? 0 };
      });
    } catch (error) {
      if (!(error instanceof StorageError) || error.details.status !== 403) throw error;
      return streamCopy(this, from, to);
    }
  }

  private blobFor(path: string): BlockBlobClient {
    return this.container.getBlockBlobClient(joinKey(this.root, assertKey(path)));
  }

  /** Creates the container once per target; a failure is retried by the next call. */
  private ensureContainer(): Promise<void> {
    this.containerReady ??= createIfAbsent(this.container).catch((error: unknown) => {
      this.containerReady = undefined;
      throw error;
    });
    return this.containerReady;
  }

  private async guard<T>(operation: string, path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw storageError(operation, path, this.describe(), error);
    }
  }
}

function serviceClientFor(options: BlobStorageOptions): BlobServiceClientType {
  if ('connectionString' in options) {
    registerConnectionStringSecrets(options.connectionString);
    return BlobServiceClient.fromConnectionString(options.connectionString);
  }
  return new BlobServiceClient(blobEndpointOf(options.accountUrl), options.credential);
}

/** The Blob endpoint of an account URL; ADLS Gen2's `dfs` host serves a different API. */
function blobEndpointOf(accountUrl: string): string {
  return accountUrl.replace(/^(https?:\/\/[^/.]+)\.dfs\./i, '$1.blob.').replace(/\/+$/, '');
}

async function collect(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * The lake in Azure Blob Storage. ADLS Gen2 accounts (hierarchical namespace) work through the same
 * Blob endpoint (multi-protocol access: Put Blob, Put Block List and the If-Match/If-None-Match
 * conditions behave as on flat accounts), so there is no separate DFS client; a `.dfs.` account URL
 * is mapped to its `.blob.` twin. Azurite is reached with its connection string.
 *
 * Data files are streamed as staged blocks and committed at close (`uploadStream`), so memory stays
 * at a few blocks whatever the file size and nothing is visible before the commit. Small state files
 * use single Put Blob calls with conditions: `If-None-Match: *` (409 when the blob exists) and
 * `If-Match: <etag>` (412 when it changed).
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  type BlobServiceClient as BlobServiceClientType,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import { StorageError } from '../common/errors.js';
import { registerSecret, safeUrl } from '../common/redact.js';
import { contentTypeFor } from './content-type.js';
import {
  type CopiedFile,
  type CreateResult,
  type FileContent,
  type ReplaceResult,
  type StorageTarget,
  type StoredObject,
  streamCopy,
  type WriteOptions,
  type WriteSink,
  type WrittenFile,
} from './storage.js';
import { codeOf, guardStream, statusOf, storageError } from './storage-errors.js';
import { assertKey, assertListPrefix, joinKey, normalizeRootPrefix } from './storage-keys.js';

interface CommonBlobOptions {
  readonly container: string;
  /** Folder inside the container that holds the lake (LAKE_PREFIX); '' or absent for the root. */
  readonly prefix?: string;
  /**
   * Block size for streamed uploads; also the unit of memory per in-flight block. Default 1 MiB: a
   * run writes ~20 files at once, and at 4 MiB × 4 blocks each the upload buffers alone took
   * ~80 MB more peak RSS (docs/benchmarks.md). 50,000 blocks of 1 MiB still allow 48 GiB a file.
   */
  readonly blockSize?: number;
  /** Blocks uploaded in parallel per file. Default 2 (files upload side by side, too). */
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

const DEFAULT_BLOCK_SIZE = 1024 * 1024;
const DEFAULT_CONCURRENCY = 2;

export class BlobStorageTarget implements StorageTarget {
  private readonly container: ContainerClient;
  private readonly root: string;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private containerReady: Promise<void> | undefined;

  constructor(options: BlobStorageOptions) {
    this.container = serviceClientFor(options).getContainerClient(options.container);
    this.root = normalizeRootPrefix(options.prefix);
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
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
        blockSize: this.blockSize,
        concurrency: this.concurrency,
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
    this.containerReady ??= createContainer(this.container).catch((error: unknown) => {
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

interface SinkSettings {
  readonly blockSize: number;
  readonly concurrency: number;
  readonly contentType: string;
  readonly fail: (operation: string, error: unknown) => Error;
}

/**
 * Chunks go through a PassThrough into `uploadStream`, which stages blocks as they fill and commits
 * the block list when the stream ends. Aborting destroys the stream and cancels in-flight blocks:
 * uncommitted blocks are never visible and the service drops them (after a week at most).
 */
class BlobWriteSink implements WriteSink {
  private readonly stream: PassThrough;
  private readonly controller = new AbortController();
  private readonly upload: Promise<{ etag?: string }>;
  /** Rejects when the upload fails; never resolves otherwise. Raced against `drain` so a write cannot hang. */
  private readonly failed: Promise<never>;
  private bytes = 0;
  private finished = false;

  constructor(
    blob: BlockBlobClient,
    private readonly settings: SinkSettings,
  ) {
    this.stream = new PassThrough({ highWaterMark: settings.blockSize });
    this.upload = blob.uploadStream(this.stream, settings.blockSize, settings.concurrency, {
      blobHTTPHeaders: { blobContentType: settings.contentType },
      abortSignal: this.controller.signal,
    });
    this.failed = this.upload.then(
      () => new Promise<never>(() => undefined),
      (error: unknown) => {
        throw settings.fail('write', error);
      },
    );
    this.failed.catch(() => undefined); // observed by write/close; avoid an unhandled rejection meanwhile
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw this.settings.fail('write', new Error('the file is already closed or aborted'));
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), this.failed]);
  }

  async close(): Promise<WrittenFile> {
    if (this.finished) throw this.settings.fail('close', new Error('the file is already closed or aborted'));
    this.finished = true;
    this.stream.end();
    try {
      const response = await this.upload;
      return { bytes: this.bytes, etag: response.etag ?? '' };
    } catch (error) {
      throw this.settings.fail('close', error);
    }
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.controller.abort();
    this.stream.destroy(new Error('write aborted'));
    await this.upload.catch(() => undefined);
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

/** The key or SAS in a connection string is masked wherever it might later appear in a log line. */
function registerConnectionStringSecrets(connectionString: string): void {
  for (const part of connectionString.split(';')) {
    const [name, ...rest] = part.split('=');
    if (/^(AccountKey|SharedAccessSignature)$/i.test(name?.trim() ?? '')) registerSecret(rest.join('='));
  }
}

async function createContainer(container: ContainerClient): Promise<void> {
  try {
    await container.createIfNotExists();
  } catch (error) {
    // An identity with data-plane rights only may not create containers; an existing one is enough.
    if (statusOf(error) === 403 && codeOf(error) !== 'AuthenticationFailed' && (await container.exists())) return;
    throw error;
  }
}

async function collect(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

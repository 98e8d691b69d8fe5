/**
 * What the pipeline needs from lake storage, and nothing more: streamed writes and reads of data
 * files, whole reads of small files, listings, and conditional writes for the small state files that
 * several runs may race on (manifests, watermarks, the MSAL token cache, the "latest" pointer).
 *
 * Implementations: BlobStorageTarget (Blob Storage, ADLS Gen2 through its Blob endpoint, Azurite)
 * and LocalDirectoryTarget (a folder). Paths are `/`-separated keys relative to the target's root
 * (see storage-keys.ts); the target adds its own prefix. A failed call is a StorageError.
 */

/** One stored file as a listing shows it. */
export interface StoredObject {
  /** Key relative to the target's root, e.g. `referrals/snapshot_date=…/part-00000.parquet`. */
  readonly path: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** A whole small file and the ETag to make a conditional replace against. */
export interface FileContent {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string | undefined;
}

export interface WrittenFile {
  readonly bytes: number;
  readonly etag: string;
  /** Hex SHA-256 of the bytes written, from a sink that `computesSha256`. */
  readonly sha256?: string;
}

/**
 * A file being written. Nothing is visible at the path until `close()` resolves (Blob: the block
 * list is committed; folder: a temp file is renamed), so a reader never sees half a file and an
 * aborted write leaves nothing behind.
 */
export interface WriteSink {
  /**
   * True when the store hashes what it writes anyway (a local folder: its ETag is the SHA-256) and
   * `close()` reports it as `sha256`, so DigestingSink need not hash every byte a second time.
   */
  readonly computesSha256?: boolean;
  /**
   * Resolves when the chunk is accepted; awaiting it is the backpressure that bounds memory. The
   * sink is then done with the chunk, so the caller may fill it again: a sink that needs the bytes
   * later (an upload still in flight) keeps its own copy.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Commits the file; replaces an existing file at the path. */
  close(): Promise<WrittenFile>;
  /** Discards what was written. Safe to call after a failed write or twice. */
  abort(): Promise<void>;
}

export interface WriteOptions {
  /** Defaults to the type for the path's extension (content-type.ts). */
  readonly contentType?: string;
  /**
   * For a credential (the token cache): a folder target writes the file, and its temp file, with
   * mode 0600. Blob has no per-file mode; who reads it is decided by RBAC and ACLs (docs/security.md).
   */
  readonly ownerOnly?: boolean;
}

export type CreateResult = { readonly created: true; readonly etag: string } | { readonly created: false };
export type ReplaceResult = { readonly replaced: true; readonly etag: string } | { readonly replaced: false };

export interface StorageTarget {
  /** Names the target for logs and errors: account, container, prefix or folder. Never a secret. */
  describe(): string;
  openWrite(path: string, options?: WriteOptions): Promise<WriteSink>;
  /** The whole file, or undefined when there is none. Meant for small files (state, manifests). */
  read(path: string): Promise<FileContent | undefined>;
  /**
   * The file as a stream of chunks, or undefined when there is none: for reading data files back
   * without holding them (e.g. NDJSON for the latest table). A failure mid-stream is a StorageError.
   */
  openRead(path: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * `length` bytes from `offset` (fewer at the end of the file), or undefined when there is no file:
   * for formats read piece by piece, such as one row group of a Parquet file.
   */
  readRange(path: string, offset: number, length: number): Promise<Buffer | undefined>;
  /** Files whose key starts with `prefix` (a plain string prefix, as Blob listings work), in key order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  exists(path: string): Promise<boolean>;
  /** True when a file was deleted, false when there was none. */
  delete(path: string): Promise<boolean>;
  /**
   * Deletes the file only if its ETag is still `etag` (what a reader judged is what goes); false
   * when it changed or was gone (Blob: 412/404).
   */
  deleteIfMatch(path: string, etag: string): Promise<boolean>;
  /** Writes only if no file exists at the path; `created: false` when one does (Blob: 409). */
  createIfAbsent(path: string, body: Uint8Array, options?: WriteOptions): Promise<CreateResult>;
  /**
   * Replaces the file only if its ETag is still `etag`; `replaced: false` when it changed or was
   * deleted since it was read (Blob: 412/404). The new ETag is the one to use next time.
   */
  replaceIfMatch(path: string, body: Uint8Array, etag: string, options?: WriteOptions): Promise<ReplaceResult>;
  /**
   * Copies a file inside the target, replacing `to` in one commit, without the bytes passing through
   * this process where the store can copy by itself (Blob: Copy Blob; folder: copyFile + rename).
   * Resolves with the size copied; a missing source is a StorageError.
   */
  copy(from: string, to: string): Promise<CopiedFile>;
  /**
   * Deletes the temporary files of writes that never finished (their process was killed) once
   * they have not changed for `olderThanMs`, and says which. Only a target that leaves such files
   * has it: a folder does (temp file + rename); Blob Storage keeps uncommitted blocks out of sight
   * and discards them itself after a week. Callers sweep only while holding the sync lease.
   */
  sweepTemporaryFiles?(olderThanMs: number, options?: { signal?: AbortSignal }): Promise<StoredObject[]>;
}

export interface CopiedFile {
  readonly bytes: number;
}

/** The portable copy: streams `from` through this process into a new `to` (committed at the end). */
export async function streamCopy(target: StorageTarget, from: string, to: string): Promise<CopiedFile> {
  const stream = await target.openRead(from);
  if (!stream) throw new Error(`${from} does not exist`);
  const sink = await target.openWrite(to);
  try {
    for await (const chunk of stream) await sink.write(chunk);
    return { bytes: (await sink.close()).bytes };
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** Collects a listing; for bounded prefixes such as one table or one run. */
export async function listAll(target: StorageTarget, prefix: string): Promise<StoredObject[]> {
  const found: StoredObject[] = [];
  for await (const item of target.list(prefix)) found.push(item);
  return found;
}

/** Writes a whole small body unconditionally through a sink (overwrites). */
export async function writeWhole(
  target: StorageTarget,
  path: string,
  body: Uint8Array,
  options?: WriteOptions,
): Promise<WrittenFile> {
  const sink = await target.openWrite(path, options);
  try {
    await sink.write(body);
    return await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** A byte range a target can read: whole numbers, at least one byte (Blob's `count` 0 means "to the end"). */
export function assertRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 1) {
    throw new RangeError(`not a byte range: offset ${offset}, length ${length}`);
  }
}

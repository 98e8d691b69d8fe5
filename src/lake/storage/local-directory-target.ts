/**
 * The lake in a local folder (LAKE_LOCAL_DIR): for the demo, tests and runs without Azure. Same
 * contract as Blob: a file appears whole or not at all (temp file + fsync + rename in the same
 * folder), create-if-absent is a hard link that fails when the name exists, and replace-if-match
 * compares the ETag under a lock file. The ETag is a hash of the content, so it needs no side
 * store; an identical rewrite keeps its ETag, which is harmless for compare-and-swap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import {
  copyFile,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { withFileLock } from '../../common/file-lock.js';
import { contentTypeFor } from './content-type.js';
import {
  assertRange,
  type CopiedFile,
  type CreateResult,
  type FileContent,
  type ReplaceResult,
  type StorageTarget,
  type StoredObject,
  type WriteOptions,
  type WriteSink,
  type WrittenFile,
} from './storage.js';
import { guardStream, storageError } from './storage-errors.js';
import { assertKey, assertListPrefix, RESERVED_SEGMENT_START } from './storage-keys.js';

export interface LocalDirectoryOptions {
  /** The lake root folder; created on first write. */
  readonly root: string;
}

export class LocalDirectoryTarget implements StorageTarget {
  readonly root: string;

  constructor(options: LocalDirectoryOptions) {
    this.root = resolve(options.root);
  }

  describe(): string {
    return `folder ${this.root}`;
  }

  async openWrite(path: string, options?: WriteOptions): Promise<WriteSink> {
    const file = this.fileFor(path);
    return this.guard('write', path, async () => {
      await mkdir(dirname(file), { recursive: true });
      const temp = tempPathFor(file);
      const handle = await open(temp, 'wx', modeFor(options));
      return new LocalWriteSink(handle, temp, file, (operation, error) =>
        storageError(operation, path, this.describe(), error),
      );
    });
  }

  async read(path: string): Promise<FileContent | undefined> {
    const file = this.fileFor(path);
    return this.guard('read', path, async () => {
      const body = await readIfExists(file);
      return body && { body, etag: etagOf(body), contentType: contentTypeFor(path) };
    });
  }

  async openRead(path: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const file = this.fileFor(path);
    const handle = await this.guard('read', path, () => openIfExists(file));
    return (
      handle && guardStream(handle.createReadStream(), (error) => storageError('read', path, this.describe(), error))
    );
  }

  async readRange(path: string, offset: number, length: number): Promise<Buffer | undefined> {
    assertRange(offset, length);
    const file = this.fileFor(path);
    return this.guard('read', path, async () => {
      const handle = await openIfExists(file);
      if (!handle) return undefined;
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    });
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertListPrefix(prefix);
    const found = await this.guard('list', prefix, () => this.collect(prefix));
    yield* found;
  }

  async exists(path: string): Promise<boolean> {
    const file = this.fileFor(path);
    return this.guard('exists', path, async () => (await statIfExists(file))?.isFile() ?? false);
  }

  async delete(path: string): Promise<boolean> {
    const file = this.fileFor(path);
    return this.guard('delete', path, () => unlinkIfExists(file));
  }

  async deleteIfMatch(path: string, etag: string): Promise<boolean> {
    const file = this.fileFor(path);
    return this.guard('delete', path, () =>
      // The lock replaceIfMatch takes: a replace and a delete judged on one ETag never both win.
      withFileLock(lockPathFor(file), async () => {
        const current = await readIfExists(file);
        if (!current || etagOf(current) !== etag) return false;
        return unlinkIfExists(file);
      }),
    );
  }

  async createIfAbsent(path: string, body: Uint8Array, options?: WriteOptions): Promise<CreateResult> {
    const file = this.fileFor(path);
    return this.guard('create', path, async () => {
      const temp = await writeTemp(file, body, modeFor(options));
      try {
        await publishExclusive(temp, file);
        return { created: true, etag: etagOf(body) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { created: false };
        throw error;
      } finally {
        await unlinkIfExists(temp);
      }
    });
  }

  async replaceIfMatch(path: string, body: Uint8Array, etag: string, options?: WriteOptions): Promise<ReplaceResult> {
    const file = this.fileFor(path);
    return this.guard('replace', path, async () => {
      await mkdir(dirname(file), { recursive: true });
      return withFileLock(lockPathFor(file), async (): Promise<ReplaceResult> => {
        const current = await readIfExists(file);
        if (!current || etagOf(current) !== etag) return { replaced: false };
        const temp = await writeTemp(file, body, modeFor(options));
        await rename(temp, file);
        return { replaced: true, etag: etagOf(body) };
      });
    });
  }

  async copy(from: string, to: string): Promise<CopiedFile> {
    const source = this.fileFor(from);
    const file = this.fileFor(to);
    return this.guard('copy', to, async () => {
      await mkdir(dirname(file), { recursive: true });
      const temp = tempPathFor(file);
      try {
        // A reflink where the file system has them, a kernel-side copy otherwise.
        await copyFile(source, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        const handle = await open(temp, 'r+');
        try {
          await handle.datasync(); // as in close(): the name must never point at missing data
          const { size } = await handle.stat();
          await rename(temp, file);
          return { bytes: size };
        } finally {
          await handle.close();
        }
      } catch (error) {
        await unlinkIfExists(temp).catch(() => undefined);
        throw error;
      }
    });
  }

  async sweepTemporaryFiles(olderThanMs: number, options: { signal?: AbortSignal } = {}): Promise<StoredObject[]> {
    return this.guard('sweep', '', async () => {
      const swept: StoredObject[] = [];
      const cutoff = Date.now() - olderThanMs;
      for (const temp of await walkFiles(this.root, isTempFile)) {
        if (options.signal?.aborted) break;
        const info = await statIfExists(temp);
        // A temp file that changed within the window may belong to a writer still at work.
        if (!info?.isFile() || info.mtimeMs > cutoff) continue;
        if (await unlinkIfExists(temp)) {
          swept.push({ path: this.keyOf(temp), size: info.size, lastModified: info.mtime });
        }
      }
      return swept;
    });
  }

  private keyOf(file: string): string {
    return file
      .slice(this.root.length + 1)
      .split(sep)
      .join('/');
  }

  private fileFor(path: string): string {
    return join(this.root, ...assertKey(path).split('/'));
  }

  private async collect(prefix: string): Promise<StoredObject[]> {
    // Walk only the deepest folder the prefix names completely, then filter by the string prefix.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: StoredObject[] = [];
    for (const file of await walkFiles(join(this.root, ...folder.split('/').filter(Boolean)), isStoredFile)) {
      const key = this.keyOf(file);
      if (!key.startsWith(prefix)) continue;
      const info = await statIfExists(file);
      if (info?.isFile()) found.push({ path: key, size: info.size, lastModified: info.mtime });
    }
    // Blob listings come in name order; a depth-first walk does not ('a-c' sorts before 'a/b').
    return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async guard<T>(operation: string, path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storageError(operation, path, this.describe(), error);
    }
  }
}

class LocalWriteSink implements WriteSink {
  readonly computesSha256 = true;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private finished = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly file: string,
    private readonly fail: (operation: string, error: unknown) => Error,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw this.fail('write', new Error('the file is already closed or aborted'));
    try {
      await writeFully(this.handle, chunk);
    } catch (error) {
      throw this.fail('write', error);
    }
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  async close(): Promise<WrittenFile> {
    if (this.finished) throw this.fail('close', new Error('the file is already closed or aborted'));
    this.finished = true;
    try {
      // fsync before rename: after a crash the name must not point at a file with missing data.
      await this.handle.datasync();
      await this.handle.close();
      await rename(this.temp, this.file);
    } catch (error) {
      await this.discard();
      throw this.fail('close', error);
    }
    const sha256 = this.hash.digest('hex');
    return { bytes: this.bytes, etag: `"${sha256.slice(0, 32)}"`, sha256 };
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.discard();
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlinkIfExists(this.temp).catch(() => undefined);
  }
}

function etagOf(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
}

/**
 * A file being written before its rename. Lock files (`.~lock-…`) are not temp files: a stale one is
 * taken over by the next writer (file-lock.ts), and deleting one still held would let two writers in.
 */
const TEMP_FILE_START = `${RESERVED_SEGMENT_START}tmp-`;

/** Temp and lock files sit beside the target (rename is atomic only within one file system). */
function tempPathFor(file: string): string {
  return join(dirname(file), `${TEMP_FILE_START}${randomBytes(6).toString('hex')}`);
}

function lockPathFor(file: string): string {
  return join(dirname(file), `${RESERVED_SEGMENT_START}lock-${file.slice(dirname(file).length + 1)}`);
}

/**
 * link() refuses an existing name atomically and the content is complete before the name exists.
 * Where hard links are not supported (some network shares), an exclusive copy still refuses an
 * existing name, though a reader could then see the file before its last byte.
 */
async function publishExclusive(temp: string, file: string): Promise<void> {
  try {
    await link(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    await copyFile(temp, file, constants.COPYFILE_EXCL);
  }
}

/** The mode a new file is created with (the umask still applies): the temp file carries it to the name. */
function modeFor(options: WriteOptions | undefined): number {
  return options?.ownerOnly ? 0o600 : 0o666;
}

async function writeTemp(file: string, body: Uint8Array, mode: number): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  const temp = tempPathFor(file);
  const handle = await open(temp, 'wx', mode);
  try {
    await writeFully(handle, body);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Files under `folder` at any depth whose names `keep` accepts. Folders named like temp or lock files
 * are not entered (no key makes one), and symbolic links are not followed.
 */
async function walkFiles(folder: string, keep: (name: string) => boolean): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = join(folder, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith(RESERVED_SEGMENT_START)) {
      files.push(...(await walkFiles(full, keep)));
    } else if (entry.isFile() && keep(entry.name)) {
      files.push(full);
    }
  }
  return files;
}

const isTempFile = (name: string) => name.startsWith(TEMP_FILE_START);
const isStoredFile = (name: string) => !name.startsWith(RESERVED_SEGMENT_START);

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function statIfExists(file: string) {
  try {
    return await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

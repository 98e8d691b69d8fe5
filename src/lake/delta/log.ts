/**
 * A Delta table's transaction log in the lake: reading it back into a snapshot (the protocol's
 * action reconciliation) and committing the next version. A commit is the creation of the next
 * `_delta_log/<version>.json` with a create-only condition (Blob `If-None-Match: *`, an exclusive
 * create in a folder): a writer that loses the race overwrites nothing and gets DeltaConflictError.
 *
 * The reader is the writer's, checking what a writer must before it adds a version: contiguous
 * versions, one action a line, a protocol no newer than this writer's. Tests replay the log with
 * code of their own.
 */
import { DeltaConflictError, DeltaLogError } from '../../common/errors.js';
import type { StorageTarget } from '../storage/storage.js';
import {
  type Action,
  type AddAction,
  type CommitInfoAction,
  type MetadataAction,
  type ProtocolAction,
  READER_VERSION,
  type RemoveAction,
  serializeCommit,
  type TxnAction,
  WRITER_VERSION,
} from './actions.js';
import { checkpointVersion, readCheckpoint } from './checkpoint.js';
import { commitPath, commitVersion, logFolder } from './log-paths.js';

export { commitPath, LOG_FOLDER, logFolder } from './log-paths.js';

export interface Snapshot {
  /** The table's folder in the lake. */
  readonly tableRoot: string;
  /** The newest version read; -1 when the table has no log yet. */
  readonly version: number;
  readonly protocol?: ProtocolAction;
  readonly metadata?: MetadataAction;
  /** Active data files by their path in the log. */
  readonly files: ReadonlyMap<string, AddAction>;
  /** Removed files, kept until retention lets them go, by path. */
  readonly tombstones: ReadonlyMap<string, RemoveAction>;
  /** The newest transaction identifier of each application. */
  readonly transactions: ReadonlyMap<string, TxnAction>;
  /** When each version was committed (its commitInfo timestamp), oldest first, from the checkpoint on. */
  readonly commits: readonly { readonly version: number; readonly timestamp?: number }[];
  /** The newest checkpoint at or before this version, if any. */
  readonly checkpoint?: number;
}

/**
 * The table's state at its newest version (or at `asOf`, for time travel): from the newest
 * checkpoint at or before that version, then the commits after it, which must all be there.
 */
export async function readSnapshot(
  target: StorageTarget,
  tableRoot: string,
  options: { asOf?: number } = {},
): Promise<Snapshot> {
  const listed = await listLog(target, tableRoot);
  const newest = options.asOf ?? (listed.commits.length > 0 ? (listed.commits.at(-1) as number) : -1);
  const checkpoint = listed.checkpoints.filter((v) => v <= newest).at(-1);
  const state = new SnapshotBuilder(tableRoot);
  let first = 0;
  if (checkpoint !== undefined) {
    state.apply(checkpoint, await readCheckpoint(target, tableRoot, checkpoint), commitPath(tableRoot, checkpoint));
    first = checkpoint + 1;
  }
  const present = new Set(listed.commits);
  for (let start = first; start <= newest; start += READ_AHEAD) {
    // Commit files are small and many: fetched a batch at a time, applied in order.
    const batch = Array.from({ length: Math.min(READ_AHEAD, newest - start + 1) }, (_, i) => start + i);
    const bodies = await Promise.all(batch.map((version) => readCommit(target, tableRoot, version, present)));
    for (const [i, body] of bodies.entries()) {
      const version = start + i;
      state.apply(version, parseCommit(body, commitPath(tableRoot, version)), commitPath(tableRoot, version));
    }
  }
  return { ...state.snapshot(newest), checkpoint };
}

/** Commit files read at once while replaying a long log. */
const READ_AHEAD = 16;

async function readCommit(
  target: StorageTarget,
  tableRoot: string,
  version: number,
  present: ReadonlySet<number>,
): Promise<Buffer> {
  const path = commitPath(tableRoot, version);
  if (!present.has(version)) {
    throw new DeltaLogError(
      version === 0
        ? 'the log does not start at version 0, and no checkpoint covers the versions before it'
        : 'this version is missing from the log',
      path,
    );
  }
  const file = await target.read(path);
  if (!file) throw new DeltaLogError('this version disappeared while the log was read', path);
  return file.body;
}

/** The snapshot after `actions` were committed as the next version of `snapshot`'s table. */
export function applyCommit(snapshot: Snapshot, actions: readonly Action[]): Snapshot {
  const version = snapshot.version + 1;
  const state = SnapshotBuilder.from(snapshot);
  state.apply(version, actions, commitPath(snapshot.tableRoot, version));
  return { ...state.snapshot(version), checkpoint: snapshot.checkpoint };
}

/** Commits `actions` as `version`; DeltaConflictError when another writer created it first. */
export async function commit(
  target: StorageTarget,
  tableRoot: string,
  version: number,
  actions: readonly Action[],
): Promise<void> {
  const created = await target.createIfAbsent(commitPath(tableRoot, version), serializeCommit(actions), {
    contentType: 'application/json',
  });
  if (!created.created) throw new DeltaConflictError(tableRoot, version);
}

/** The commit and checkpoint versions in the log folder, oldest first. */
async function listLog(
  target: StorageTarget,
  tableRoot: string,
): Promise<{ commits: number[]; checkpoints: number[] }> {
  const commits: number[] = [];
  const checkpoints: number[] = [];
  const folder = `${logFolder(tableRoot)}/`;
  for await (const item of target.list(folder)) {
    const name = item.path.slice(folder.length);
    const commit = commitVersion(name);
    if (commit !== undefined) commits.push(commit);
    const checkpoint = checkpointVersion(name);
    if (checkpoint !== undefined) checkpoints.push(checkpoint);
  }
  const byVersion = (a: number, b: number) => a - b;
  return { commits: commits.sort(byVersion), checkpoints: checkpoints.sort(byVersion) };
}

const KNOWN_ACTIONS = new Set(['commitInfo', 'protocol', 'metaData', 'add', 'remove', 'txn', 'cdc']);

/** One JSON object a line, each holding exactly one action. */
export function parseCommit(body: Buffer, path: string): Action[] {
  const actions: Action[] = [];
  const lines = body.toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DeltaLogError(`line ${i + 1} is not JSON`, path, { cause: error });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DeltaLogError(`line ${i + 1} is not a JSON object`, path);
    }
    const keys = Object.keys(value);
    if (keys.length !== 1) throw new DeltaLogError(`line ${i + 1} holds ${keys.length} actions, not one`, path);
    const key = keys[0] as string;
    if (!KNOWN_ACTIONS.has(key)) throw new DeltaLogError(`line ${i + 1}: unknown action "${key}"`, path);
    actions.push(value as Action);
  }
  return actions;
}

class SnapshotBuilder {
  private protocol: ProtocolAction | undefined;
  private metadata: MetadataAction | undefined;
  private readonly files = new Map<string, AddAction>();
  private readonly tombstones = new Map<string, RemoveAction>();
  private readonly transactions = new Map<string, TxnAction>();
  private readonly commits: { version: number; timestamp?: number }[] = [];

  constructor(private readonly tableRoot: string) {}

  static from(snapshot: Snapshot): SnapshotBuilder {
    const state = new SnapshotBuilder(snapshot.tableRoot);
    state.protocol = snapshot.protocol;
    state.metadata = snapshot.metadata;
    for (const [path, add] of snapshot.files) state.files.set(path, add);
    for (const [path, remove] of snapshot.tombstones) state.tombstones.set(path, remove);
    for (const [id, txn] of snapshot.transactions) state.transactions.set(id, txn);
    state.commits.push(...snapshot.commits);
    return state;
  }

  apply(version: number, actions: readonly Action[], path: string): void {
    let commitInfo: CommitInfoAction | undefined;
    let sawMetadata = false;
    for (const action of actions) {
      if ('protocol' in action) this.protocol = checkedProtocol(action.protocol, path);
      else if ('metaData' in action) {
        if (sawMetadata) throw new DeltaLogError('two metaData actions in one version', path);
        sawMetadata = true;
        this.metadata = checkedMetadata(action.metaData, path);
      } else if ('add' in action) {
        const add = checkedFile(action.add, path, 'add');
        this.files.set(add.path, add);
        this.tombstones.delete(add.path);
      } else if ('remove' in action) {
        const remove = checkedFile(action.remove, path, 'remove');
        this.files.delete(remove.path);
        this.tombstones.set(remove.path, remove);
      } else if ('txn' in action) this.transactions.set(action.txn.appId, action.txn);
      else if ('commitInfo' in action) commitInfo = action.commitInfo;
    }
    if (version === 0 && (!this.protocol || !this.metadata)) {
      throw new DeltaLogError('version 0 needs a protocol and a metaData action', path);
    }
    this.commits.push({ version, timestamp: commitInfo?.timestamp });
  }

  snapshot(version: number): Snapshot {
    return {
      tableRoot: this.tableRoot,
      version,
      protocol: this.protocol,
      metadata: this.metadata,
      files: this.files,
      tombstones: this.tombstones,
      transactions: this.transactions,
      commits: this.commits,
    };
  }
}

export function checkedProtocol(protocol: ProtocolAction, path: string): ProtocolAction {
  const { minReaderVersion, minWriterVersion } = protocol;
  if (!Number.isInteger(minReaderVersion) || !Number.isInteger(minWriterVersion)) {
    throw new DeltaLogError('the protocol action has no reader and writer versions', path);
  }
  if (minReaderVersion > READER_VERSION || minWriterVersion > WRITER_VERSION) {
    throw new DeltaLogError(
      `the table needs Delta reader ${minReaderVersion} and writer ${minWriterVersion}; this program writes ` +
        `reader ${READER_VERSION}, writer ${WRITER_VERSION} tables and leaves newer ones alone`,
      path,
    );
  }
  if ((protocol.readerFeatures?.length ?? 0) > 0 || (protocol.writerFeatures?.length ?? 0) > 0) {
    throw new DeltaLogError('the table uses table features, which this program does not write', path);
  }
  return protocol;
}

function checkedMetadata(metadata: MetadataAction, path: string): MetadataAction {
  if (typeof metadata.id !== 'string' || typeof metadata.schemaString !== 'string') {
    throw new DeltaLogError('the metaData action has no id or schema', path);
  }
  if (metadata.format?.provider !== 'parquet') {
    throw new DeltaLogError(`the table's files are ${metadata.format?.provider}, not parquet`, path);
  }
  return metadata;
}

function checkedFile<T extends AddAction | RemoveAction>(file: T, path: string, kind: string): T {
  if (typeof file.path !== 'string' || file.path === '') {
    throw new DeltaLogError(`an ${kind} action without a path`, path);
  }
  return file;
}

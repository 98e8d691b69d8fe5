/**
 * Delta checkpoints (PROTOCOL.md, "Checkpoints"): a classic V1 checkpoint `<version>.checkpoint.parquet`
 * holding the whole table state at a version (protocol, metaData, transaction ids, every active file,
 * the tombstones still in retention), one action a row in nullable struct columns, and
 * `_last_checkpoint` pointing at the newest. A reader starts from the newest checkpoint and replays
 * only the commits after it, so a table's log never costs more than a checkpoint and a few files.
 *
 * Checkpoints need nested columns (structs, maps, a list), which the project's flat Parquet writer
 * does not write: parquet-wasm does, fed an Arrow table built here, loaded only when a checkpoint is
 * written or read (README, design notes: the measurement behind this choice).
 */
import type { StorageTarget } from '../storage/storage.js';
import { writeWhole } from '../storage/storage.js';
import type { Action, AddAction, MetadataAction, ProtocolAction, RemoveAction, TxnAction } from './actions.js';
import { logFolder } from './log-paths.js';

/** A checkpoint every this many versions. */
export const CHECKPOINT_INTERVAL = 10;

const CHECKPOINT_FILE = /^(\d{20})\.checkpoint\.parquet$/;

export function checkpointPath(tableRoot: string, version: number): string {
  return `${logFolder(tableRoot)}/${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

export function lastCheckpointPath(tableRoot: string): string {
  return `${logFolder(tableRoot)}/_last_checkpoint`;
}

/**
 * The version `_last_checkpoint` names, or undefined when there is none or it cannot be read: the
 * protocol makes it a hint, so a torn or foreign one means "look for yourself".
 */
export async function lastCheckpointVersion(target: StorageTarget, tableRoot: string): Promise<number | undefined> {
  const file = await target.read(lastCheckpointPath(tableRoot));
  if (!file) return undefined;
  try {
    const version = (JSON.parse(file.body.toString('utf8')) as { version?: unknown }).version;
    return Number.isSafeInteger(version) ? (version as number) : undefined;
  } catch {
    return undefined;
  }
}

/** The version of a checkpoint file name, or undefined for any other file. */
export function checkpointVersion(fileName: string): number | undefined {
  const match = CHECKPOINT_FILE.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

export interface CheckpointState {
  readonly version: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  readonly transactions: Iterable<TxnAction>;
  readonly files: Iterable<AddAction>;
  /** Only those still in retention: an expired tombstone is dropped, as the protocol allows. */
  readonly tombstones: Iterable<RemoveAction>;
}

/** Writes the checkpoint and then `_last_checkpoint`; returns the checkpoint's row count. */
export async function writeCheckpoint(
  target: StorageTarget,
  tableRoot: string,
  state: CheckpointState,
): Promise<number> {
  const arrow = await import('apache-arrow');
  const parquet = await import('parquet-wasm');
  const files = [...state.files];
  const rows: Record<string, unknown>[] = [
    { protocol: state.protocol },
    { metaData: metadataRow(state.metadata) },
    ...[...state.transactions].map((txn) => ({ txn: txnRow(txn) })),
    ...files.map((add) => ({ add: addRow(add) })),
    ...[...state.tombstones].map((remove) => ({ remove: removeRow(remove) })),
  ];
  const types = checkpointTypes(arrow);
  const table = new arrow.Table(
    Object.fromEntries(
      Object.entries(types).map(([name, type]) => [
        name,
        arrow.vectorFromArray(
          rows.map((row) => row[name] ?? null),
          type,
        ),
      ]),
    ),
  );
  const properties = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setWriterVersion(parquet.WriterVersion.V1)
    .build();
  const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties);
  // Another writer may have checkpointed the same version: either file is the same state, and
  // _last_checkpoint is then that writer's to update.
  const created = await target.createIfAbsent(checkpointPath(tableRoot, state.version), bytes, {
    contentType: 'application/octet-stream',
  });
  if (!created.created) return rows.length;
  await writeWhole(
    target,
    lastCheckpointPath(tableRoot),
    Buffer.from(
      JSON.stringify({
        version: state.version,
        size: rows.length,
        sizeInBytes: bytes.length,
        numOfAddFiles: files.length,
      }),
    ),
    { contentType: 'application/json' },
  );
  return rows.length;
}

/** The actions a checkpoint holds, as the JSON log would spell them. */
export async function readCheckpoint(target: StorageTarget, tableRoot: string, version: number): Promise<Action[]> {
  const path = checkpointPath(tableRoot, version);
  const file = await target.read(path);
  if (!file) throw new Error(`${path} disappeared while the log was read`);
  const arrow = await import('apache-arrow');
  const parquet = await import('parquet-wasm');
  const table = arrow.tableFromIPC(parquet.readParquet(new Uint8Array(file.body)).intoIPCStream());
  const actions: Action[] = [];
  for (const row of table) {
    for (const name of ['protocol', 'metaData', 'txn', 'add', 'remove'] as const) {
      const value = (row as unknown as Record<string, unknown>)[name];
      if (value !== null && value !== undefined) actions.push({ [name]: plain(value) } as unknown as Action);
    }
  }
  return actions;
}

/** Arrow values back to JSON-like values: longs to numbers, maps to objects, lists to arrays. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object') return value;
  const name = value.constructor?.name;
  if (name === 'MapRow') {
    return Object.fromEntries([...(value as Iterable<[string, unknown]>)].map(([k, v]) => [k, v ?? null]));
  }
  if (name === 'Vector') return (value as { toArray(): unknown[] }).toArray().map(plain);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries((value as { toJSON(): Record<string, unknown> }).toJSON())) {
    const converted = plain(item);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

const long = (value: number | undefined) => (value === undefined ? null : BigInt(value));
const map = (value: Readonly<Record<string, string | null>> | undefined) => new Map(Object.entries(value ?? {}));

function metadataRow(metadata: MetadataAction) {
  return {
    id: metadata.id,
    name: metadata.name ?? null,
    description: metadata.description ?? null,
    format: { provider: metadata.format.provider, options: map(metadata.format.options) },
    schemaString: metadata.schemaString,
    partitionColumns: [...metadata.partitionColumns],
    configuration: map(metadata.configuration),
    createdTime: long(metadata.createdTime),
  };
}

function txnRow(txn: TxnAction) {
  return { appId: txn.appId, version: BigInt(txn.version), lastUpdated: long(txn.lastUpdated) };
}

function addRow(add: AddAction) {
  return {
    path: add.path,
    partitionValues: map(add.partitionValues),
    size: BigInt(add.size),
    modificationTime: BigInt(add.modificationTime),
    dataChange: add.dataChange,
    stats: add.stats ?? null,
  };
}

function removeRow(remove: RemoveAction) {
  return {
    path: remove.path,
    deletionTimestamp: long(remove.deletionTimestamp),
    dataChange: remove.dataChange,
    extendedFileMetadata: remove.extendedFileMetadata ?? null,
    partitionValues: remove.partitionValues ? map(remove.partitionValues) : null,
    size: long(remove.size),
  };
}

type Arrow = typeof import('apache-arrow');

/** The checkpoint's columns, as PROTOCOL.md's checkpoint schema names them. */
function checkpointTypes(arrow: Arrow) {
  const { Field, Struct, Utf8, Int64, Int32, Bool, Map_, List } = arrow;
  const field = (name: string, type: InstanceType<Arrow['DataType']>, nullable = true) =>
    new Field(name, type, nullable);
  const stringMap = () =>
    new Map_(
      new Field(
        'key_value',
        new Struct<{ key: InstanceType<Arrow['Utf8']>; value: InstanceType<Arrow['Utf8']> }>([
          new Field('key', new Utf8(), false),
          new Field('value', new Utf8(), true),
        ]),
        false,
      ),
    );
  return {
    txn: new Struct([field('appId', new Utf8()), field('version', new Int64()), field('lastUpdated', new Int64())]),
    add: new Struct([
      field('path', new Utf8()),
      field('partitionValues', stringMap()),
      field('size', new Int64()),
      field('modificationTime', new Int64()),
      field('dataChange', new Bool()),
      field('stats', new Utf8()),
    ]),
    remove: new Struct([
      field('path', new Utf8()),
      field('deletionTimestamp', new Int64()),
      field('dataChange', new Bool()),
      field('extendedFileMetadata', new Bool()),
      field('partitionValues', stringMap()),
      field('size', new Int64()),
    ]),
    metaData: new Struct([
      field('id', new Utf8()),
      field('name', new Utf8()),
      field('description', new Utf8()),
      field('format', new Struct([field('provider', new Utf8()), field('options', stringMap())])),
      field('schemaString', new Utf8()),
      field('partitionColumns', new List(field('element', new Utf8()))),
      field('configuration', stringMap()),
      field('createdTime', new Int64()),
    ]),
    protocol: new Struct([field('minReaderVersion', new Int32()), field('minWriterVersion', new Int32())]),
  };
}

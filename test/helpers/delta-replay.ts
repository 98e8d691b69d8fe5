/**
 * A Delta log reader written for the tests, from PROTOCOL.md (delta-io/delta) and not from the
 * writer's code: it reads a table folder on disk, replays `_delta_log/<20 digits>.json` in order
 * (action reconciliation: the newest protocol and metaData, adds minus removes by path) and hands
 * back what a reader engine would see at a version.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplayedFile {
  /** The data file's path relative to the table folder, URI-decoded. */
  readonly path: string;
  readonly size: number;
  readonly modificationTime: number;
  readonly dataChange: boolean;
  readonly partitionValues: Record<string, string | null>;
  readonly stats?: {
    numRecords: number;
    minValues: Record<string, unknown>;
    maxValues: Record<string, unknown>;
    nullCount: Record<string, number>;
  };
}

export interface Replayed {
  readonly version: number;
  readonly protocol: { minReaderVersion: number; minWriterVersion: number; [key: string]: unknown };
  readonly metadata: {
    id: string;
    format: { provider: string };
    schemaString: string;
    partitionColumns: string[];
    configuration: Record<string, string>;
  };
  readonly schema: { name: string; type: string; nullable: boolean }[];
  /** Active files, by decoded path. */
  readonly active: Map<string, ReplayedFile>;
  /** Every commit's actions, by version. */
  readonly commits: Record<string, unknown>[][];
}

export function logVersions(tableDir: string): number[] {
  return readdirSync(join(tableDir, '_delta_log'))
    .filter((name) => /^\d{20}\.json$/.test(name))
    .map((name) => Number.parseInt(name.slice(0, 20), 10))
    .sort((a, b) => a - b);
}

type LoggedFile = Omit<ReplayedFile, 'stats'> & { stats?: string };

/** One commit file's actions, a JSON object a line. */
function commitActions(tableDir: string, version: number): Record<string, unknown>[] {
  const text = readFileSync(join(tableDir, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** An add as the replay keeps it: the path URI-decoded, the stats parsed. */
function addFile(active: Map<string, ReplayedFile>, add: LoggedFile): void {
  const path = decodeURIComponent(add.path);
  active.set(path, { ...add, path, stats: add.stats ? JSON.parse(add.stats) : undefined });
}

/** Reconciliation of the file actions, by path: an add enters the table, a remove leaves it. */
function applyFileActions(active: Map<string, ReplayedFile>, actions: readonly Record<string, unknown>[]): void {
  for (const action of actions) {
    if (action.add) addFile(active, action.add as LoggedFile);
    const remove = action.remove as { path: string } | undefined;
    if (remove) active.delete(decodeURIComponent(remove.path));
  }
}

export function replayDeltaLog(tableDir: string, asOf?: number): Replayed {
  const versions = logVersions(tableDir);
  const last = asOf ?? versions.at(-1);
  if (last === undefined) throw new Error(`${tableDir}: no Delta log`);
  let protocol: Replayed['protocol'] | undefined;
  let metadata: Replayed['metadata'] | undefined;
  const active = new Map<string, ReplayedFile>();
  const commits: Record<string, unknown>[][] = [];
  for (let v = 0; v <= last; v++) {
    if (versions[v] !== v) throw new Error(`${tableDir}: version ${v} missing`);
    const actions = commitActions(tableDir, v);
    commits.push(actions);
    for (const action of actions) {
      if (action.protocol) protocol = action.protocol as Replayed['protocol'];
      if (action.metaData) metadata = action.metaData as Replayed['metadata'];
    }
    applyFileActions(active, actions);
  }
  if (!protocol || !metadata) throw new Error(`${tableDir}: no protocol or metaData by version ${last}`);
  const schema = (JSON.parse(metadata.schemaString) as { fields: Replayed['schema'] }).fields.map(
    ({ name, type, nullable }) => ({ name, type, nullable }),
  );
  return { version: last, protocol, metadata, schema, active, commits };
}

/** `read_parquet([...])` of the files a Delta table holds at a version, as DuckDB SQL. */
export function deltaParquetSource(tableDir: string, asOf?: number): string {
  const files = [...replayDeltaLog(tableDir, asOf).active.keys()].map(
    (path) => `'${join(tableDir, path).replaceAll("'", "''")}'`,
  );
  if (files.length === 0) throw new Error(`${tableDir}: no active files`);
  return `read_parquet([${files.join(', ')}])`;
}

/**
 * The same replay, starting from the newest checkpoint at or before the version when there is one:
 * the checkpoint read by DuckDB (maps and structs as JSON), then the JSON commits after it.
 */
export async function replayDeltaTable(
  tableDir: string,
  duck: { query(sql: string): Promise<Record<string, unknown>[]> },
  asOf?: number,
): Promise<Pick<Replayed, 'version' | 'active'> & { checkpoint?: number; metadataId?: string }> {
  const commits = logVersions(tableDir);
  const last = asOf ?? Math.max(...commits);
  const checkpoint = readdirSync(join(tableDir, '_delta_log'))
    .filter((n) => /^\d{20}\.checkpoint\.parquet$/.test(n))
    .map((n) => Number.parseInt(n.slice(0, 20), 10))
    .filter((v) => v <= last)
    .sort((a, b) => a - b)
    .at(-1);
  const active = new Map<string, ReplayedFile>();
  let metadataId: string | undefined;
  let from = 0;
  if (checkpoint !== undefined) {
    const file = join(tableDir, '_delta_log', `${String(checkpoint).padStart(20, '0')}.checkpoint.parquet`);
    const rows = await duck.query(
      `SELECT to_json("add")::VARCHAR AS a, to_json(metaData)::VARCHAR AS m FROM read_parquet('${file.replaceAll("'", "''")}')`,
    );
    for (const row of rows) {
      const add = JSON.parse(String(row.a)) as LoggedFile | null;
      if (add) addFile(active, add);
      const metadata = JSON.parse(String(row.m)) as { id: string } | null;
      if (metadata) metadataId = metadata.id;
    }
    from = checkpoint + 1;
  }
  for (let v = from; v <= last; v++) {
    if (!commits.includes(v)) throw new Error(`${tableDir}: version ${v} missing`);
    const actions = commitActions(tableDir, v);
    for (const action of actions) {
      const metadata = action.metaData as { id: string } | undefined;
      if (metadata) metadataId = metadata.id;
    }
    applyFileActions(active, actions);
  }
  return { version: last, active, checkpoint, metadataId };
}

/**
 * The lake's Delta tables, as data: where each lives, the schema its log declares and its partition
 * columns. Everything that opens, checks or commits a table by its folder looks it up here.
 */
import type { TableSpec } from '../../schema/table.js';
import {
  REFERRAL_VERSIONS,
  REFERRALS_VANISHED,
  runTableSchema,
  SNAPSHOT_DATE_COLUMN,
  TABLES,
} from '../../schema/tables.js';
import { LakePathError } from '../storage/storage-keys.js';
import { latestFolder } from './paths.js';

export interface DeltaTableDef {
  /** The table's folder in the lake. */
  readonly root: string;
  /** The columns its log declares (a partition column included). */
  readonly schema: TableSpec;
  readonly partitionColumns: readonly string[];
  /** run: appended by every run; latest: overwritten by every run; history: derived, appended. */
  readonly kind: 'run' | 'latest' | 'history';
}

export const DELTA_TABLES: readonly DeltaTableDef[] = [
  ...TABLES.map(
    (spec): DeltaTableDef => ({
      root: spec.name,
      schema: runTableSchema(spec),
      partitionColumns: [SNAPSHOT_DATE_COLUMN.name],
      kind: 'run',
    }),
  ),
  ...TABLES.map(
    (spec): DeltaTableDef => ({ root: latestFolder(spec.name), schema: spec, partitionColumns: [], kind: 'latest' }),
  ),
  ...[REFERRAL_VERSIONS, REFERRALS_VANISHED].map(
    (spec): DeltaTableDef => ({ root: spec.name, schema: spec, partitionColumns: [], kind: 'history' }),
  ),
];

const BY_ROOT: ReadonlyMap<string, DeltaTableDef> = new Map(DELTA_TABLES.map((t) => [t.root, t]));

/** The Delta table at that folder; a LakePathError for a folder that holds none. */
export function deltaTableAt(root: string): DeltaTableDef {
  const table = BY_ROOT.get(root);
  if (!table) throw new LakePathError('Delta table', root, "not one of the lake's tables");
  return table;
}

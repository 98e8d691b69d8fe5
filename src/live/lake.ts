/**
 * The lake as the HTTP functions of one instance share it (the trigger reads it, the write routes
 * audit into it): opened once from the settings at the first call; a settings error is not cached,
 * so fixing an app setting needs no restart.
 */
import { loadLakeConfig } from '../config.js';
import { createStorageTarget } from '../lake/storage/create-target.js';
import type { StorageTarget } from '../lake/storage/storage.js';

let lake: Promise<StorageTarget> | undefined;

export function liveLake(env: Readonly<Record<string, string | undefined>> = process.env): Promise<StorageTarget> {
  lake ??= createStorageTarget(loadLakeConfig(env)).catch((error: unknown) => {
    lake = undefined;
    throw error;
  });
  return lake;
}

/** Tests: the next call opens the lake again from the settings then. */
export function resetLiveLake(): void {
  lake = undefined;
}

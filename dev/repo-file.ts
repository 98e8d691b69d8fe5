/**
 * A file of the repository (host.json, bin/referrals-lake.js) from a dev module: these modules run
 * from dev/ under the tests and from dist/dev/ when built, so the file is looked for upwards.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The absolute path of `relative` in the nearest folder above this module that has it. */
export function repoFile(relative: string): string {
  for (let up = '../'; up.length <= 4 * 3; up += '../') {
    const path = fileURLToPath(new URL(`${up}${relative}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`${relative} not found above ${fileURLToPath(import.meta.url)}`);
}
